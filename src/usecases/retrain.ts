// retrain: what a monitor alert (or ml.yaml's monitor.retrain.schedule) starts, up to the pull request — the reason
// read back from the registry branch (the environment's last monitor result), a branch cut from the first
// environment's branch with one commit that says why, pushed and checked out in the job's work tree so that the
// train and compare steps after it work on what the branch holds, and the pull request from it.
//
// Decisions:
// - Through isomorphic-git and the token the registry uses (BRAMBLE_GIT_TOKEN, GITHUB_TOKEN, GITLAB_TOKEN,
//   CI_JOB_TOKEN): actions/checkout leaves no credentials in git's config, and a GitLab job's token is not git's.
// - The commit changes one file, RETRAIN.md in the model folder: a branch identical to its base could not carry a
//   pull request, and the file tells a reviewer what started the retrain. Each retrain overwrites it.
// - The commit's author is git's own variables when set, else "Bramble" (the job, not a person, wrote it).
import * as nodeFs from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import * as git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { readMlYaml, type MlConfig } from '../config/ml-yaml.js';
import { describeError, errorClass } from '../errors.js';
import type { MonitorResult } from '../monitor/windows.js';
import { checkEnvironment, Registry } from '../registry/registry.js';
import { PushRaceError, pushRef, remoteNamed } from '../registry/remote.js';
import { readRegistryFile, REGISTRY, type GitRepo } from '../registry/store.js';
import { appendLines } from '../report/markdown.js';
import type { Env, Ports } from './ports.js';

/** The branch cannot be cut, committed to or pushed: the message says what is missing. */
export class RetrainBranchError extends errorClass('E_RETRAIN_BRANCH') {}

interface BranchRequest {
  /** The model folder (holding ml.yaml). */
  dir: string;
  /** The remote branch the new one starts from. */
  base: string;
  /** The new branch's name. */
  branch: string;
  /** RETRAIN.md's text. */
  record: string;
  /** The commit message's first line. */
  message: string;
  env: Env;
}

/** Cuts, commits, pushes and checks out the branch; returns its commit. */
async function cutBranch(request: BranchRequest): Promise<string> {
  const fs = nodeFs;
  let root: string;
  try {
    root = await git.findRoot({ fs, filepath: resolve(request.dir) });
  } catch (err) {
    throw new RetrainBranchError(`${request.dir} is not inside a git checkout (${describeError(err)}); the retrain step cuts a branch of the model's repository`, { dir: request.dir });
  }
  const repo: GitRepo = { fs, dir: root, gitdir: join(root, '.git'), cache: {} };
  const remote = await remoteNamed(repo, 'origin', request.env);
  if (remote === null) throw new RetrainBranchError('this checkout has no remote named origin; the retrain step pushes its branch there', {});
  const onAuth = () => (remote.auth ? { ...remote.auth } : { cancel: true });
  try {
    await git.fetch({ fs, http, dir: root, gitdir: repo.gitdir, cache: repo.cache, url: remote.url, remote: remote.name, ref: request.base, singleBranch: true, tags: false, onAuth, onAuthFailure: () => ({ cancel: true }) });
  } catch (err) {
    throw new RetrainBranchError(`fetching ${request.base} from the remote origin failed (${describeError(err)}); the first environment's branch must exist there, and the token must read it`, { base: request.base });
  }
  const base = await git.resolveRef({ fs, dir: root, gitdir: repo.gitdir, ref: `refs/remotes/${remote.name}/${request.base}` });
  await git.branch({ fs, dir: root, gitdir: repo.gitdir, ref: request.branch, object: base, force: true });
  await git.checkout({ fs, dir: root, gitdir: repo.gitdir, cache: repo.cache, ref: request.branch, force: true });
  const file = relative(root, join(resolve(request.dir), 'RETRAIN.md')).split(sep).join('/');
  fs.writeFileSync(join(root, file), request.record);
  await git.add({ fs, dir: root, gitdir: repo.gitdir, cache: repo.cache, filepath: file });
  const author = { name: request.env.GIT_COMMITTER_NAME || 'Bramble', email: request.env.GIT_COMMITTER_EMAIL || 'bramble@users.noreply.github.com' };
  const commit = await git.commit({ fs, dir: root, gitdir: repo.gitdir, cache: repo.cache, message: `${request.message}\n`, author, committer: author });
  try {
    await pushRef(repo, remote, `refs/heads/${request.branch}`, `refs/heads/${request.branch}`);
  } catch (err) {
    // The name carries the run's id: a branch of that name is there already when the same run is run again.
    if (err instanceof PushRaceError) {
      throw new RetrainBranchError(`the remote origin has a branch ${request.branch} already (this run retrained before?); delete it, or start a new run rather than re-running this one`, {
        branch: request.branch,
      });
    }
    throw err;
  }
  return commit;
}
/** Why this retrain: the environment's last recorded monitor result (an alert's), or the schedule. */
async function retrainReason(config: MlConfig, dir: string, environment: string, ports: Pick<Ports, 'git' | 'log' | 'fs'>): Promise<string[]> {
  if (!environment) return [`ml.yaml's monitor.retrain.schedule (\`${config.monitor?.retrain?.schedule ?? 'none'}\`): retraining on a schedule, alert or not.`];
  const path = `${config.name}/monitoring/${environment}/latest.json`;
  const registry = await Registry.open({ dir, env: ports.git.env, remote: ports.git.remote, fs: ports.fs, warn: (m) => ports.log.warn(m) });
  const { snapshot } = await registry.read({ fetch: true });
  const bytes = snapshot.head === null ? null : await readRegistryFile(registry.repo, snapshot.head, path);
  const lines = [`The monitor alerted in ${environment} (ml.yaml's monitor.on_alert has \`retrain\`).`];
  if (bytes === null || snapshot.head === null) return [...lines, `No recorded monitor result at ${path} on ${REGISTRY.branch}.`];
  const result = JSON.parse(new TextDecoder().decode(bytes)) as MonitorResult;
  lines.push(`The monitor result: \`${path}\` on \`${REGISTRY.branch}\` at \`${snapshot.head.slice(0, 7)}\`${result.ranAt ? `, run at ${result.ranAt}` : ''}.`, '');
  for (const w of result.windows) {
    for (const v of w.versions) {
      if (v.status !== 'alert') continue;
      const drifted = v.drift?.columns.filter((c) => c.drifted).map((c) => c.column) ?? [];
      const watched = v.performance.status === 'ok' ? v.performance.watched : null;
      const parts = [drifted.length > 0 ? `drift in ${drifted.length} of ${v.drift?.columns.length ?? 0} columns (${drifted.join(', ')})` : ''];
      if (watched?.alert && watched.value !== null) parts.push(`${watched.metric} ${watched.value.toFixed(4)}`);
      lines.push(`- ${w.start} ${v.version}: ${parts.filter((p) => p !== '').join('; ')}`);
    }
  }
  return lines;
}

function retrainRecord(r: { name: string; environment: string; first: string; base: string; branch: string; why: string[]; runUrl: string | null }): string {
  const lines = [
    `# Retrain of ${r.name}`,
    '',
    `Branch \`${r.branch}\`, cut from \`${r.base}\` (${r.first}'s branch, where a new model enters) by Bramble's retrain step${r.runUrl ? ` in ${r.runUrl}` : ''}.`,
    '',
  ];
  appendLines(lines, r.why);
  lines.push('', 'The candidate is trained and compared on this branch; the report is the pull request comment, and the gates decide as always. Each retrain overwrites this file.');
  return `${lines.join('\n')}\n`;
}

export interface RetrainOptions {
  dir: string;
  /** The environment whose monitor alerted; '' for a scheduled retrain. */
  environment: string;
  /** The run's id (and attempt), in the branch's name. */
  runId: string;
  /** The time the branch is named after (its date). */
  now: Date;
}

export interface RetrainOpened {
  config: MlConfig;
  branch: string;
  base: string;
  commit: string;
  /** The environment whose model the candidate is compared with: compare.against, else the first environment. */
  championEnv: string;
  pullRequest: { number: number; url: string | null; created: boolean };
}

/** The retrain use-case up to the pull request: the branch cut, committed, pushed and checked out, the pull request opened. */
export async function retrain(options: RetrainOptions, ports: Pick<Ports, 'git' | 'log' | 'fs' | 'platform'>): Promise<RetrainOpened> {
  const { dir, environment } = options;
  const config = await readMlYaml(join(dir, 'ml.yaml'));
  const environments = Object.keys(config.environments);
  if (environment) checkEnvironment(environment, environments);
  const first = environments[0];
  const base = config.environments[first].branch;
  const branch = `bramble/retrain/${environment || first}/${options.now.toISOString().slice(0, 10)}-${options.runId}`;
  const why = await retrainReason(config, dir, environment, ports);
  const runUrl = ports.platform?.context().runUrl ?? null;
  const record = retrainRecord({ name: config.name, environment, first, base, branch, why, runUrl });
  const title = environment ? `Retrain ${config.name}: the monitor alerted in ${environment}` : `Retrain ${config.name}: ml.yaml's monitor.retrain.schedule`;
  const commit = await cutBranch({ dir, base, branch, record, message: title, env: ports.git.env });
  ports.log.info(`pushed ${branch} (${commit.slice(0, 7)}) from ${base}`);
  const pullRequest = (await ports.platform?.openPullRequest({ head: branch, base, title, body: record })) ?? null;
  if (pullRequest === null) throw new RetrainBranchError(`${branch} is pushed, but there is no platform here to open a pull request on; open one from it to ${base}`, { branch });
  return { config, branch, base, commit, championEnv: config.compare?.against ?? first, pullRequest };
}

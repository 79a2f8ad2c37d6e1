// Runs a bundled action the way GitHub's runner runs it: `node dist/actions/<step>.js` with INPUT_*, GITHUB_OUTPUT
// and GITHUB_STEP_SUMMARY files, and the given GITHUB_* variables. Asynchronous, so that servers living in the test's
// own process (the API double, the git server) can answer it.
import { execFile, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GITHUB_DOUBLE } from './github-double.js';

const dist = join(import.meta.dirname, '../../dist/actions');

export interface StepRun {
  code: number | null;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
}

export function runStep(step: string, inputs: Record<string, string>, env: Record<string, string>, cwd: string): Promise<StepRun> {
  const work = mkdtempSync(join(tmpdir(), 'bramble-step-'));
  const output = join(work, 'output');
  const summary = join(work, 'summary');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const inputEnv = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(dist, `${step}.js`)],
      {
        cwd,
        env: { PATH: process.env.PATH ?? '', HOME: work, RUNNER_TEMP: work, GITHUB_WORKSPACE: cwd, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, ...env, ...inputEnv },
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout) => {
        const outputs: Record<string, string> = {};
        // name<<DELIMITER \n value \n DELIMITER, as @actions/core writes them.
        for (const m of readFileSync(output, 'utf8').matchAll(/^(.+?)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1]] = m[3];
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, outputs, summary: readFileSync(summary, 'utf8') });
      },
    );
  });
}

/** GitHub's own example of a pull_request "opened" event (Codertocat/Hello-World#2). */
export function pullRequestOpened(): Record<string, unknown> & { number: number } {
  const require = createRequire(import.meta.url);
  const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as { name: string; examples: { action?: string }[] }[];
  const event = examples.find((e) => e.name === 'pull_request')?.examples.find((x) => x.action === 'opened');
  if (!event) throw new Error('no pull_request.opened example');
  return event as Record<string, unknown> & { number: number };
}

/**
 * The runner's GITHUB_* variables for a job on `repo` (its HEAD as GITHUB_SHA) against the API double at `apiUrl`,
 * with the event file at `eventPath`; `extra` adds or overrides (GITHUB_ACTOR, the committer's name).
 */
export function runnerEnv(apiUrl: string, repo: string, eventPath: string, run: { event: string; ref: string; run: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    GITHUB_ACTIONS: 'true',
    GITHUB_API_URL: apiUrl,
    GITHUB_SERVER_URL: GITHUB_DOUBLE.serverUrl,
    GITHUB_REPOSITORY: `${GITHUB_DOUBLE.owner}/${GITHUB_DOUBLE.repo}`,
    GITHUB_EVENT_NAME: run.event,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_SHA: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim(),
    GITHUB_REF: run.ref,
    GITHUB_RUN_ID: run.run,
    ...extra,
  };
}

// Approval: ml.yaml's `approval: true` on an environment means a person must approve every promotion to it. Bramble
// does not ask anyone itself; it refuses to promote unless the platform makes a person approve (GitHub: the
// environment's required reviewers, or a tag ruleset over its assignment tags).
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import type { MlConfig } from '../config/ml-yaml.js';
import { errorClass } from '../errors.js';
import type { ApprovalVerdict, Platform } from '../platform/types.js';
import { formatTag } from '../registry/tags.js';

/**
 * ml.yaml says an environment needs approval, and the platform enforces none: promoting would let anyone who can
 * run the workflow change what it serves.
 */
export class ApprovalNotEnforcedError extends errorClass('E_APPROVAL_NOT_ENFORCED') {}

/**
 * Refuses a promotion to an environment that ml.yaml marks `approval: true` unless the platform makes a person
 * approve it; says which did. An environment without `approval: true` asks nothing. Call before anything is tagged.
 * `shown` is ml.yaml's path as the face shows it.
 */
export async function requireApproval(platform: Platform, config: MlConfig, file: string, shown: string, environment: string): Promise<ApprovalVerdict | null> {
  if (!config.environments[environment]?.approval) return null;
  // Every assignment tag of the environment begins so, whatever its counter: name#env#.
  const tagPrefix = formatTag({ kind: 'assign', name: config.name, env: environment, counter: 0 }).replace(/0$/, '');
  const verdict = await platform.checkApproval({ environment, tagPrefix });
  if (verdict.approved) {
    platform.info(`${environment} needs approval (ml.yaml), and ${verdict.by}`);
    return verdict;
  }
  const where = await approvalPlace(file, environment);
  const pattern = `refs/tags/${tagPrefix}*`;
  const fix =
    verdict.fix ??
    `Add required reviewers to the GitHub environment ${environment} (Settings → Environments → ${environment} → Required reviewers), ` +
      `or add a tag ruleset (Settings → Rules → Rulesets → New tag ruleset) that targets ${pattern} and restricts creations, with the promoting token's app or user on its bypass list`;
  const host = platform.name === 'gitlab' ? 'GitLab' : 'GitHub';
  const message =
    `${shown}${where ? `:${where.line}:${where.col}` : ''} environments.${environment}.approval is true, but nothing on ${host} makes a person approve a promotion to ${environment}: ` +
    `${verdict.findings.join('; ')}. Nothing was tagged. ${fix}`;
  if (where) platform.annotate([{ level: 'error', file: shown, line: where.line, col: where.col, title: 'approval not enforced', message }]);
  throw new ApprovalNotEnforcedError(message, { environment, findings: verdict.findings, pattern });
}

/** The line and column of environments.<env>.approval in ml.yaml, or null when it cannot be read there. */
async function approvalPlace(file: string, environment: string): Promise<{ line: number; col: number } | null> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(await readFile(file, 'utf8'), { lineCounter });
  const env = doc.getIn(['environments', environment], true);
  if (!isMap(env)) return null;
  const pair = env.items.find((p) => isScalar(p.key) && p.key.value === 'approval');
  const offset = pair && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
  return offset === undefined ? null : lineCounter.linePos(offset);
}

// What a GitLab job leaves instead of GitHub's job summary, annotations and step outputs: the report as a Markdown
// file (linked from the merge request by `artifacts:expose_as`) and in the job log; problems on files and lines as
// a Code Quality report (`artifacts:reports:codequality`, shown in the merge-request widget); outputs as a dotenv
// file (`artifacts:reports:dotenv`), read by later jobs as variables.
//
// Decisions:
// - Output `model-path` becomes BRAMBLE_MODEL_PATH: dotenv names are letters, digits and underscores, and the
//   prefix keeps them clear of GitLab's own variables.
// - dotenv values cannot span lines in GitLab; an output with a newline is a bug in the step, not the user's.
// - The files go in .bramble/, which a model repository ignores (training writes its model there): a report file
//   in the work tree would make the registry refuse to register a model trained from "uncommitted changes".
// - Each write rewrites the whole file from what this process and earlier ones in the job wrote, so that several
//   `bramble ci` calls in one job add up.
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Annotation } from '../types.js';
import { GITLAB_LIMITS, GitLabLimitError } from './client.js';

export const GITLAB_FILES = {
  codequality: '.bramble/gl-code-quality-report.json',
  dotenv: '.bramble/bramble.env',
  report: '.bramble/bramble-report.md',
} as const;

/** One entry of GitLab's Code Quality report (a subset of Code Climate's issue format). */
export interface CodeQualityIssue {
  description: string;
  check_name: string;
  fingerprint: string;
  severity: 'info' | 'minor' | 'major' | 'critical' | 'blocker';
  location: { path: string; lines: { begin: number } };
}

const SEVERITY = { error: 'major', warning: 'minor', notice: 'info' } as const;

export function codeQualityIssue(a: Annotation): CodeQualityIssue {
  const check = a.title ?? 'bramble';
  const path = a.file ?? 'ml.yaml';
  const line = a.line ?? 1;
  const fingerprint = createHash('sha256').update(`${check}\n${path}\n${line}\n${a.message}`).digest('hex');
  return { description: a.message, check_name: check, fingerprint, severity: SEVERITY[a.level], location: { path, lines: { begin: line } } };
}

function readIssues(file: string): CodeQualityIssue[] {
  if (!existsSync(file)) return [];
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  return Array.isArray(parsed) ? (parsed as CodeQualityIssue[]) : [];
}

/** Adds issues to the Code Quality report, keeping one per fingerprint. */
export function appendCodeQuality(file: string, annotations: readonly Annotation[]): void {
  const issues = readIssues(file);
  const seen = new Set(issues.map((i) => i.fingerprint));
  for (const issue of annotations.map(codeQualityIssue)) {
    if (!seen.has(issue.fingerprint)) issues.push(issue);
    seen.add(issue.fingerprint);
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(issues, null, 2)}\n`);
}

export function dotenvName(output: string): string {
  return `BRAMBLE_${output.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
}

/** Sets one variable in the dotenv file, replacing an earlier value of the same name. */
export function writeDotenv(file: string, output: string, value: string): void {
  if (/[\r\n]/.test(value)) throw new Error(`the output ${output} has a line break, which a GitLab dotenv report cannot hold`);
  const name = dotenvName(output);
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith(`${name}=`)) : [];
  lines.push(`${name}=${value}`);
  if (lines.length > GITLAB_LIMITS.dotenvVariables) {
    throw new GitLabLimitError(`the dotenv report ${file} would hold ${lines.length} variables, over the ${GITLAB_LIMITS.dotenvVariables} a GitLab instance takes by default; ${output} cannot be passed on`, {
      file,
      output,
    });
  }
  const text = `${lines.join('\n')}\n`;
  if (Buffer.byteLength(text) > GITLAB_LIMITS.dotenvBytes) {
    throw new GitLabLimitError(`the dotenv report ${file} would be ${Buffer.byteLength(text)} bytes, over GitLab's limit of ${GITLAB_LIMITS.dotenvBytes}; ${output} is too long to pass between jobs`, {
      file,
      output,
    });
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

export function appendReport(file: string, markdown: string): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
}

// Checks on the options people give, shared by every face so that the CLI and the actions refuse the same things.
// Each face names the option its own way (`--bump`, `the input bump`), so a check takes that name as `label`.
import { errorClass } from '../errors.js';
import type { Bump } from '../registry/registry.js';

/** An option or input that is missing, malformed, or contradicts another: the message names it and the fix. */
export class UsageError extends errorClass('E_USAGE') {}

const BUMPS: readonly string[] = ['major', 'minor', 'patch'] satisfies readonly Bump[];

/** A version bump as given (undefined or '' for none), checked. */
export function bumpOption(text: string | undefined, label: string): Bump | undefined {
  if (text === undefined || text === '') return undefined;
  if (!BUMPS.includes(text)) throw new UsageError(`${label} is ${JSON.stringify(text)}; use major, minor or patch`, { bump: text });
  return text as Bump;
}

/** The threads to train on, as given (undefined or '' for every core), checked. */
export function workersOption(text: string | undefined, label: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  const workers = Number(text);
  if (text.trim() === '' || !Number.isFinite(workers)) throw new UsageError(`${label} is ${JSON.stringify(text)}; give a number`, { workers: text });
  if (!(Number.isInteger(workers) && workers >= 1)) {
    throw new UsageError(`${label} is ${JSON.stringify(text)}; give a whole number of threads ≥ 1, or leave it out for every core`, { workers: text });
  }
  return workers;
}

/** `--to`: a version (v1.2.0), a date or an ISO time; empty for the version served before the current one. */
export function rollbackTarget(text: string | undefined): { version?: string; date?: string } {
  if (text === undefined || text === '') return {};
  return /^v?\d+\.\d+\.\d+/.test(text) ? { version: text } : { date: text };
}

// Where a sweep keeps its trials' run records while it runs: `.bramble/sweeps/<sweep id>/<part>.jsonl`, one record
// a line, appended as each trial ends.
//
// Decisions:
// - A file per part (`trials.jsonl`, or `shard-K-of-N.jsonl` for a shard) so that shards on several runners never
//   write the same file: CI uploads each shard's file, and the gathering job downloads them all into the folder
//   and reads them together (`bramble sweep --gather`).
// - The lines are run records as the runs branch holds them (src/registry/runs.ts), checked the same way on reading
//   (schema, id over content): a line cut short by a killed sweep, or edited, is skipped and named, and that trial
//   is simply trained again on resumption.
// - The folder is named by the sweep's id, a hash of everything that decides the trials' scores, so a sweep
//   resumed after ml.yaml or the data changed starts afresh instead of mixing scores of different data.
import { appendFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../fs/codes.js';
import { parseRunLine, prepareRunChecks, runLine, type RunRecord } from '../registry/runs.js';

export const SWEEP_FILES = {
  folder: '.bramble/sweeps',
  whole: 'trials.jsonl',
} as const;

/** The folder of one sweep's records under the model's folder. */
export function sweepFolder(dir: string, id: string): string {
  return join(dir, SWEEP_FILES.folder, id);
}

/** The file a sweep (or shard k of n) appends to. */
export function partFile(shard: { k: number; n: number } | null): string {
  return shard === null ? SWEEP_FILES.whole : `shard-${shard.k}-of-${shard.n}.jsonl`;
}

/** Appends one trial's record as a line. */
export async function appendTrial(folder: string, file: string, record: RunRecord): Promise<void> {
  await mkdir(folder, { recursive: true });
  await appendFile(join(folder, file), `${runLine(record)}\n`);
}

/** A trial's key: its round and index. */
export function trialKey(rung: number, trial: number): string {
  return `${rung}:${trial}`;
}

export interface TrialsRead {
  /** By trialKey; the first record read wins (files in name order, lines in order). */
  records: Map<string, RunRecord>;
  /** Lines that are not a record of this sweep, with where and why. */
  skipped: string[];
}

/** Every record of sweep `id` in its folder (none when the folder does not exist yet). */
export async function readTrials(folder: string, id: string): Promise<TrialsRead> {
  const records = new Map<string, RunRecord>();
  const skipped: string[] = [];
  let files: string[];
  try {
    files = (await readdir(folder)).filter((f) => f.endsWith('.jsonl')).sort();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { records, skipped };
    throw err;
  }
  await prepareRunChecks();
  for (const file of files) {
    const lines = (await readFile(join(folder, file), 'utf8')).split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      const parsed = parseRunLine(line);
      if ('problem' in parsed) {
        skipped.push(`${file}:${i + 1}: ${parsed.problem}`);
        return;
      }
      const sweep = parsed.record.sweep;
      if (sweep === undefined || sweep.id !== id) {
        skipped.push(`${file}:${i + 1}: not a trial of sweep ${id}`);
        return;
      }
      const key = trialKey(sweep.rung, sweep.trial);
      if (!records.has(key)) records.set(key, parsed.record);
    });
  }
  return { records, skipped };
}

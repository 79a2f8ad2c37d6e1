/**
 * `npm run reference:record` (scripts/reference-record.mjs bundles this and calls recordFigures): runs
 * scikit-learn and scipy on exactly the data the tests regenerate, and writes what they answered to
 * test/reference-figures/, with the releases, the interpreter and the date beside the figures. `npm test`
 * compares our freshly computed figures with these, so it needs no Python.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FIGURE_FILES,
  FIGURES_DIR,
  forestFigure,
  prepareCase,
  runSklearn,
  SKLEARN_CASES,
  sklearnJob,
  type ForestFigure,
  type Provenance,
} from '../helpers/reference.js';
import { driftJobs, jobFingerprint, runScipyJobs, type DriftFigure } from '../helpers/reference-drift.js';
import { metricsFigures, runSklearnMetrics } from '../helpers/reference-metrics.js';
import { recordMonitorFigures } from '../helpers/reference-monitor.js';
import { recordSweepFigures } from '../helpers/reference-sweep.js';
import { recordStorePitFigures } from '../helpers/reference-store.js';

export interface RecordDeps {
  python: string;
  now: Date;
  log: (line: string) => void;
}

const COMMAND = 'npm run reference:record';

function pythonVersion(python: string): string {
  const run = spawnSync(python, ['--version'], { encoding: 'utf8' });
  if (run.error) throw new Error(`${python} cannot be run (${run.error.message}); install python3-sklearn or set BRAMBLE_REFERENCE_PYTHON`);
  return `${python} (${(run.stdout || run.stderr).trim()})`;
}

function write(file: string, provenance: Provenance, figures: unknown): string {
  const path = join(FIGURES_DIR, file);
  writeFileSync(path, `${JSON.stringify({ ...provenance, figures }, null, 2)}\n`);
  return path;
}

/** Records the forest's, the metrics', the drift statistics' and the monitor's reference figures; returns the files written. */
export async function recordFigures({ python, now, log }: RecordDeps): Promise<string[]> {
  const base = { recorded: now.toISOString(), command: COMMAND, python: pythonVersion(python) };
  mkdirSync(FIGURES_DIR, { recursive: true });
  const written: string[] = [];

  const dir = mkdtempSync(join(tmpdir(), 'bramble-record-'));
  try {
    log(`scikit-learn's forest on ${SKLEARN_CASES.length} cases (about a minute)…`);
    const prepared = SKLEARN_CASES.map(prepareCase);
    const batch = await runSklearn(
      prepared.map((p) => sklearnJob(p, dir)),
      { python },
    );
    const figures: Record<string, ForestFigure> = {};
    for (const p of prepared) {
      const result = batch.results.find((r) => r.name === p.case.name);
      if (!result) throw new Error(`scikit-learn returned no result for ${p.case.name}`);
      figures[p.case.name] = forestFigure(p, result);
      log(`  ${p.case.name}: ${result.mean.toFixed(4)}`);
    }
    written.push(write(FIGURE_FILES.forest, { ...base, versions: { 'scikit-learn': batch.sklearn, numpy: batch.numpy } }, figures));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  log("scikit-learn's metrics…");
  const metrics = await runSklearnMetrics(undefined, { python });
  written.push(write(FIGURE_FILES.metrics, { ...base, versions: { 'scikit-learn': metrics.sklearn, numpy: metrics.numpy } }, metricsFigures(metrics.results)));

  log("scipy's drift statistics…");
  const jobs = driftJobs();
  const scipy = await runScipyJobs(jobs, { python });
  const drift: Record<string, DriftFigure> = {};
  for (const job of jobs) {
    if (!(job.name in scipy.results)) throw new Error(`scipy returned no answer for "${job.name}"`);
    drift[job.name] = { data: jobFingerprint(job), out: scipy.results[job.name] };
  }
  written.push(write(FIGURE_FILES.drift, { ...base, versions: { scipy: scipy.scipy, numpy: scipy.numpy } }, drift));

  log("scipy's and scikit-learn's answers on the monitor's recorded case…");
  written.push(await recordMonitorFigures(base, { python }));

  log("scikit-learn's GridSearchCV on the sweep's grid and folds…");
  written.push(await recordSweepFigures(base, python));

  log("pandas' merge_asof on the feature store's point-in-time case…");
  written.push(recordStorePitFigures(base, python));
  return written;
}

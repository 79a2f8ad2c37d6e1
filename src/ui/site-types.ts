// The dashboard's data as the page reads it: what `bramble ui build` writes into data/*.js and what ui/app.ts
// draws. Types and names only, no code that runs, so that the page's bundle takes them without pulling in the
// engine (the browser has no git and no fs).
//
// Decisions:
// - The data sits beside index.html in data/*.js, never inlined: an HTML file carrying megabytes of JSON opens far
//   slower (it is parsed as markup first), and a page must still be small enough to open at once.
// - .js, not .json: a page opened from file:// may not fetch() a sidecar file (Chromium and Firefox refuse
//   file:// requests from a file:// page), but it may load <script src>. Each data file is one call,
//   `BRAMBLE_SITE("name", <JSON>)`, whose argument is exactly the JSON, so any tool can still cut it out.
// - The experiments table's rows are columnar and paged (SITE.pageRows runs a file): 100,000 runs are ten
//   files the page loads one after another, drawing the table after the first, instead of one file that blocks.

export const SITE = {
  format: 'bramble-site',
  version: 1,
  /** The global function every data file calls. */
  loader: 'BRAMBLE_SITE',
  /** The folder of the data files, beside index.html. */
  data: 'data',
  /** Runs per page of the experiments table's data. */
  pageRows: 10_000,
  /** The page's own files, copied from dist/ui/ (built by ui/build.mjs). */
  assets: ['index.html', 'app.js', 'app.css'],
} as const;

export interface Person {
  name: string;
  email: string;
}

export interface SiteAssignment {
  env: string;
  /** null for an unassignment. */
  version: string | null;
  at: string;
  by: Person;
  tag: string;
}

/** What made a version: commit, data and parameters, read from its artifact's lineage. */
export interface SiteLineage {
  commit: string | null;
  committedAt: string | null;
  branch: string | null;
  path: string;
  dirty: boolean;
  mlYaml: string;
  data: { path: string; sha256: string; rows: number; columns: number };
  params: Record<string, string | number | boolean | null>;
  seed: number;
  split: string;
  bramble: string;
  node: string;
}

export interface SiteVersion {
  version: string;
  commit: string;
  /** The artifact's sha256 its registration tag records. */
  artifact: string | null;
  registered: { by: Person; at: string; tag: string };
  deregistered: { by: Person; at: string; tag: string } | null;
  /** metrics.json beside the model on the registry branch. */
  metrics: Record<string, number>;
  lineage: SiteLineage | null;
  /** Whether data/cards.js holds its card. */
  card: boolean;
  /** What could not be read (an artifact replaced after registration, a file missing): shown, never hidden. */
  problems: string[];
}

export interface SiteModel {
  name: string;
  task: 'classification' | 'regression' | null;
  deprecated: { by: Person; at: string } | null;
  versions: SiteVersion[];
  /** Each environment's current assignment. */
  envs: SiteAssignment[];
  /** Every assignment and unassignment, in the order they count. */
  history: SiteAssignment[];
}

/** One window of one version, as the newest monitor run that saw it found it. */
export interface SiteMonitorWindow {
  start: string;
  end: string;
  version: string;
  rows: number;
  status: 'healthy' | 'alert' | 'not-enough-data';
  driftedShare: number | null;
  datasetDrift: boolean | null;
  drifted: string[];
  predictionDrift: number | null;
  metric: string | null;
  value: number | null;
  low: number | null;
  high: number | null;
  alert: boolean;
}

export interface SiteMonitoring {
  name: string;
  env: string;
  runs: { ranAt: string; healthy: boolean; windows: number }[];
  windows: SiteMonitorWindow[];
}

export interface SiteIndex {
  format: typeof SITE.format;
  version: typeof SITE.version;
  generatedAt: string;
  /** The repository's folder name, for the title. */
  repository: string;
  registryHead: string | null;
  runsHead: string | null;
  models: SiteModel[];
  monitoring: SiteMonitoring[];
  runs: {
    total: number;
    /** Data file names (without .js), in order: page i holds rows i*pageRows … */
    pages: string[];
    metrics: string[];
    params: string[];
    /** Records that could not be read, named. */
    skipped: { where: string; reason: string }[];
  };
  /** What the builder could not read, named (shown on the page). */
  problems: string[];
}

/** A cell of a run's parameter: scalars as they are, anything else as its JSON text. */
export type ParamValue = string | number | boolean | null;

/** A page of runs, newest first, one array per column. */
export interface RunsPage {
  id: string[];
  at: string[];
  name: string[];
  command: string[];
  branch: (string | null)[];
  commit: (string | null)[];
  dirty: boolean[];
  dataPath: string[];
  dataSha: string[];
  rows: number[];
  seed: (number | null)[];
  /** 'passed', 'failed', or null when the run compared with no champion. */
  gate: ('passed' | 'failed' | null)[];
  failed: string[][];
  champion: (string | null)[];
  seconds: (number | null)[];
  runner: string[];
  artifact: (string | null)[];
  params: Record<string, ParamValue[]>;
  metrics: Record<string, (number | null)[]>;
}

/** data/cards.js: each version's card.md as safe HTML, by "NAME@VERSION". */
export type SiteCards = Record<string, string>;

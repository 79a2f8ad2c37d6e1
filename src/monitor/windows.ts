// The monitor's analysis: the logged predictions of one model in one environment, cut into windows and split by
// the version that answered, each compared with that version's reference profile (the training data's, kept in
// its artifact) and, where ground truth came back, scored.
//
// Decisions: no statistics of its own — drift is data/drift.ts (Evidently's tests and sample-size rule, the same
// as `bramble validate --reference`) and performance is model/evaluate.ts (the same as the training report). A
// window or version with fewer than `minRows` rows says "not enough data" and never alerts (Evidently #509: drift
// firing on 8 rows). Feedback is one truth for one request id, so it joins single-row requests only (the rest are
// counted); a truth file joins any row by its id column.
import { VersionAccumulator, type MonitoredVersion, type VersionWindow, type WindowProfile, type WindowRules } from './accumulate.js';
import type { CorruptLine, LoggedFeedback, LoggedPrediction } from './log.js';
import { compareRoles, type ABComparison } from './ab.js';
import { RELEASE, type Role } from '../registry/roles.js';

const ROLE_ORDER: readonly Role[] = ['main', ...RELEASE.roles];

export type { MonitoredVersion, Performance, VersionWindow, WindowProfile } from './accumulate.js';

export const MONITOR = {
  format: 'bramble-monitor',
  version: 1,
  /** ml.yaml's monitor.window without a monitor block: one UTC day. */
  window: '1d',
  /** Below this many rows a window (per version) says "not enough data" for drift, and joined rows for performance. */
  minRows: 100,
  /** How many windows after its own a prediction may still arrive (requests answered around midnight are written out of order). */
  grace: 1,
} as const;

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** ml.yaml's monitor.window (`30m`, `6h`, `1d`; the schema checked its form) in milliseconds. */
export function windowMs(window: string): number {
  const m = /^([1-9][0-9]*)([mhd])$/.exec(window);
  if (m === null) throw new Error(`monitor: window ${JSON.stringify(window)} passed the schema but is not N[mhd]`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

export interface MonitorSetup extends Omit<WindowRules, 'feedback'> {
  readonly name: string;
  readonly env: string;
  /** The version's reference, read from the registry the first time the version is seen. */
  readonly resolve: (version: string) => Promise<MonitoredVersion>;
  readonly window: string;
  /** Milliseconds since the epoch; earlier predictions are left out. */
  readonly since: number | null;
  /** When the run happened (ISO), recorded in the result. */
  readonly ranAt: string;
}

export interface MonitorWindow {
  readonly start: string;
  readonly end: string;
  /** 'empty' when no prediction fell in it. */
  readonly status: 'healthy' | 'alert' | 'not-enough-data' | 'empty';
  readonly versions: readonly VersionWindow[];
}

export interface MonitorResult {
  readonly format: typeof MONITOR.format;
  readonly version: typeof MONITOR.version;
  readonly name: string;
  readonly env: string;
  readonly ranAt: string;
  readonly window: string;
  readonly windowMs: number;
  readonly minRows: number;
  readonly share: number;
  readonly log: {
    readonly files: readonly string[];
    /** Requests of this model in this environment. */
    readonly requests: number;
    readonly rows: number;
    readonly feedback: number;
    /** Requests of another model or environment, left out. */
    readonly otherRequests: number;
    /** Requests written more than MONITOR.grace windows after a later one: their window was already summed up. */
    readonly late: number;
    readonly faults: number;
    /** The first of them (at most CORRUPT_LISTED). */
    readonly corrupt: readonly CorruptLine[];
    readonly corruptLines: number;
  };
  /** With --truth: its rows, and those whose id no monitored prediction had (labels for other rows, or typos). */
  readonly truth: { readonly file: string; readonly rows: number; readonly unknownIds: number } | null;
  readonly windows: readonly MonitorWindow[];
  /** Per window, each canary's and shadow's live metric against main's (ab.ts); empty without roles or truth. */
  readonly comparisons?: readonly ABComparison[];
  readonly healthy: boolean;
}

/** One window's profile of one version, as the monitor writes it to git. */
export interface MonitorProfile extends WindowProfile {
  readonly format: 'bramble-monitor-profile';
  readonly version: 1;
  readonly name: string;
  readonly env: string;
  readonly model: string;
  /** The role the version answered in, when not main. */
  readonly role?: Role;
  readonly start: string;
  readonly end: string;
  readonly rows: number;
}

/**
 * The monitor over one model in one environment, folded over the log as it streams: `prediction` takes each
 * logged request in the order written; a window is summed up (and its columns freed) once a request MONITOR.grace
 * windows later arrives, so memory holds one or two windows, not the log.
 */
export class MonitorFold {
  private readonly ms: number;
  private readonly rules: WindowRules;
  private readonly references = new Map<string, MonitoredVersion>();
  private readonly open = new Map<number, Map<string, VersionAccumulator>>();
  private readonly closed = new Map<number, VersionWindow[]>();
  private readonly profiles: MonitorProfile[] = [];
  private readonly truthSeen = new Set<string>();
  /** Windows up to this index are summed up. */
  private closedUpTo = -Infinity;
  /** The latest window a request fell in. */
  private latest = -Infinity;
  private requests = 0;
  private rows = 0;
  private other = 0;
  private late = 0;

  private readonly feedbackLines: number;

  constructor(
    private readonly setup: MonitorSetup,
    feedback: readonly LoggedFeedback[],
  ) {
    this.ms = windowMs(setup.window);
    const byId = new Map<string, LoggedFeedback>();
    for (const f of feedback) if (f.env === setup.env && f.truth !== null) byId.set(f.id, f);
    this.rules = { minRows: setup.minRows, share: setup.share, performance: setup.performance, headline: setup.headline, truth: setup.truth, feedback: byId };
    this.feedbackLines = feedback.filter((f) => f.env === setup.env).length;
  }

  /** One logged request; a promise when its version's reference must be read first. */
  prediction(p: LoggedPrediction): void | Promise<void> {
    if (p.env !== this.setup.env || p.model.name !== this.setup.name) {
      this.other++;
      return undefined;
    }
    if (this.setup.since !== null && p.time < this.setup.since) return undefined;
    if (!this.references.has(p.model.version)) {
      return this.setup.resolve(p.model.version).then((known) => {
        this.references.set(p.model.version, known);
        this.take(p);
      });
    }
    this.take(p);
    return undefined;
  }

  private take(p: LoggedPrediction): void {
    const index = Math.floor(p.time / this.ms);
    if (index <= this.closedUpTo) {
      this.late++;
      return;
    }
    this.requests++;
    this.rows += p.inputs.length;
    if (index > this.latest) {
      this.latest = index;
      for (const open of [...this.open.keys()]) if (open < index - MONITOR.grace) this.close(open);
    }
    let versions = this.open.get(index);
    if (versions === undefined) {
      versions = new Map();
      this.open.set(index, versions);
    }
    // A version is kept apart by the role it answered in: a canary's rows are not main's, a shadow's are extra.
    const key = p.role === 'main' ? p.model.version : `${p.model.version}\0${p.role}`;
    let acc = versions.get(key);
    if (acc === undefined) {
      acc = new VersionAccumulator(p.model.version, this.references.get(p.model.version) as MonitoredVersion, this.rules, (id) => this.truthSeen.add(id), p.role);
      versions.set(key, acc);
    }
    acc.add(p);
  }

  private close(index: number): void {
    const versions = this.open.get(index);
    this.open.delete(index);
    if (index > this.closedUpTo) this.closedUpTo = index;
    if (versions === undefined) return;
    const done: VersionWindow[] = [];
    const start = new Date(index * this.ms).toISOString();
    const end = new Date((index + 1) * this.ms).toISOString();
    for (const acc of [...versions.values()].sort((a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role) || a.version.localeCompare(b.version))) {
      const { window, profile } = acc.close();
      done.push(window);
      const role = acc.role === 'main' ? {} : { role: acc.role };
      this.profiles.push({ format: 'bramble-monitor-profile', version: 1, name: this.setup.name, env: this.setup.env, model: acc.version, ...role, start, end, rows: window.rows, ...profile });
    }
    this.closed.set(index, done);
  }

  /** Sums up the open windows and returns the run's result, with each window's profile per version. */
  finish(log: { files: readonly string[]; faults: number; corrupt: readonly CorruptLine[]; corruptLines: number }): { result: MonitorResult; profiles: MonitorProfile[] } {
    for (const index of [...this.open.keys()].sort((a, b) => a - b)) this.close(index);
    const indices = [...this.closed.keys()].sort((a, b) => a - b);
    const windows: MonitorWindow[] = [];
    // From the first monitored prediction's window to the last's, so that a --since long before the log does not list years of empty days.
    if (indices.length > 0) {
      for (let index = indices[0]; index <= indices[indices.length - 1]; index++) windows.push(windowOf(index, this.ms, this.closed.get(index) ?? []));
    }
    const setup = this.setup;
    const result: MonitorResult = {
      format: MONITOR.format,
      version: MONITOR.version,
      name: setup.name,
      env: setup.env,
      ranAt: setup.ranAt,
      window: setup.window,
      windowMs: this.ms,
      minRows: setup.minRows,
      share: setup.share,
      log: {
        files: log.files,
        requests: this.requests,
        rows: this.rows,
        feedback: this.feedbackLines,
        otherRequests: this.other,
        late: this.late,
        faults: log.faults,
        corrupt: log.corrupt,
        corruptLines: log.corruptLines,
      },
      truth: setup.truth === null ? null : { file: setup.truth.file, rows: setup.truth.byId.size, unknownIds: setup.truth.byId.size - this.truthSeen.size },
      windows,
      comparisons: compareRoles(windows),
      healthy: windows.every((w) => w.status !== 'alert'),
    };
    return { result, profiles: this.profiles };
  }
}

function windowOf(index: number, ms: number, versions: readonly VersionWindow[]): MonitorWindow {
  const status =
    versions.length === 0 ? 'empty' : versions.some((v) => v.status === 'alert') ? 'alert' : versions.every((v) => v.status === 'not-enough-data') ? 'not-enough-data' : 'healthy';
  return { start: new Date(index * ms).toISOString(), end: new Date((index + 1) * ms).toISOString(), status, versions };
}

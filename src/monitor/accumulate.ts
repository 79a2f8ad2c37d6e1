// One model version's predictions in one window, gathered as the log streams past and summed up when the window
// closes: the served inputs as typed columns (then a profile, compared with the version's training profile), the
// predicted labels (prediction drift), and the rows whose ground truth came back (live performance).
//
// Decisions: the columns are the loaders' own CellBuilder (src/data/cells.ts) in a lenient load, so a logged value
// is read exactly as the same value in a JSON data file would be — a value not of the column's type is missing,
// as `bramble validate` would count it. Rows are buffered 4,096 at a time per column and the typed arrays grow by
// doubling; nothing of a request but its cells is kept.
import { CellBuilder, type CellColumn } from '../data/cells.js';
import { ColumnMarkers, ViolationLog } from '../data/columns.js';
import { detectDrift, type ColumnDrift, type DriftResult } from '../data/drift.js';
import { profileTable, type ColumnProfile, type TableProfile } from '../data/profile.js';
import type { Column } from '../data/table.js';
import { evaluateClassification, evaluateRegression, metricsOf, type MetricValues } from '../model/evaluate.js';
import type { Label } from '../model/forest/input.js';
import type { Metric } from '../model/metric-names.js';
import type { Role } from '../registry/roles.js';
import { metricInterval, type MetricInterval } from './interval.js';
import type { LoggedFeedback, LoggedPrediction } from './log.js';

/** What the monitor knows of one registered version: what it was trained on and what it predicts. */
export interface MonitoredVersion {
  readonly task: 'classification' | 'regression';
  readonly profile: TableProfile;
  /** The model's input columns: the ones compared. */
  readonly inputs: readonly string[];
  /** The target column: its training distribution is the reference for prediction drift. */
  readonly target: string;
  readonly classes: readonly Label[] | null;
}

/** What every window of a run is judged by. */
export interface WindowRules {
  readonly minRows: number;
  /** ml.yaml's monitor.drift.share. */
  readonly share: number;
  /** ml.yaml's monitor.performance, when it has one. */
  readonly performance: { readonly metric: Metric; readonly min?: number; readonly max?: number } | null;
  /** The metric given with an interval: the watched one, else ml.yaml's first metric. */
  readonly headline: Metric;
  /** Ground truth from a file (`--truth`), by the value of ml.yaml's data.id in the logged row. */
  readonly truth: { readonly file: string; readonly idColumn: string; readonly byId: ReadonlyMap<string, Label> } | null;
  /** Feedback lines with a truth, by request id. */
  readonly feedback: ReadonlyMap<string, LoggedFeedback>;
}

export type Performance =
  | {
      readonly status: 'ok';
      readonly rows: number;
      readonly metrics: MetricValues;
      readonly watched: { readonly metric: Metric; readonly value: number | null; readonly alert: boolean } | null;
      /** The 95 % interval of the headline metric (`rules.headline`); null where it is undefined. */
      readonly interval: (MetricInterval & { readonly metric: Metric }) | null;
    }
  | { readonly status: 'not-enough-data'; readonly rows: number };

export interface VersionWindow {
  readonly version: string;
  /** Which role the version answered in (absent in results written before roles: main). */
  readonly role?: Role;
  readonly rows: number;
  readonly status: 'healthy' | 'alert' | 'not-enough-data';
  /** Null when there were fewer than minRows rows. */
  readonly drift: DriftResult | null;
  /** The predicted labels (or values) against the training target's distribution; null under minRows rows or without a target profile. */
  readonly predictionDrift: ColumnDrift | null;
  readonly performance: Performance;
  /** Rows with a truth, by where it came from. */
  readonly joined: { readonly feedback: number; readonly truthFile: number };
  /** Feedback for a request of several rows: one truth cannot be given to several rows. */
  readonly unjoinedFeedback: number;
  /** Truths that are not one of the model's classes (or, for regression, not a number). */
  readonly unknownTruth: number;
}

/**
 * The sums of one window's joined rows that add up across windows: a month's accuracy, precision, recall, F1, log
 * loss, RMSE, MAE and R² from its days' sums alone. (ROC AUC needs the scores' order and is not among them.)
 */
export type PerformanceSums =
  | { readonly task: 'classification'; readonly rows: number; readonly classes: readonly Label[]; readonly confusion: readonly (readonly number[])[]; readonly logLoss: number }
  | { readonly task: 'regression'; readonly rows: number; readonly absError: number; readonly squaredError: number; readonly sum: number; readonly sumOfSquares: number };

/** One window's mergeable summary of one version: kept in git so that a month is summarised without the logs. */
export interface WindowProfile {
  readonly inputs: TableProfile;
  /** One column, named as the target: the predicted labels or values. Null without a target profile. */
  readonly predictions: TableProfile | null;
  readonly performance: PerformanceSums;
}

const BATCH = 4096;
const markers = new ColumnMarkers({});
const nowhere = (): { at: string; data: Record<string, unknown> } => ({ at: 'prediction log', data: {} });

/** Typed columns that grow as rows come, of the kinds the reference profile gives. */
class GrowingColumns {
  private readonly builders: CellBuilder[];
  private readonly batch: unknown[][];
  private stored = 0;
  private capacity = 0;
  rows = 0;

  constructor(private readonly columns: readonly ColumnProfile[]) {
    const log = new ViolationLog();
    this.builders = columns.map((c) => new CellBuilder(cellColumn(c), 0, nowhere, log, markers));
    this.batch = columns.map(() => []);
    this.names = columns.map((c) => c.name);
  }

  private readonly names: readonly string[];

  /** One row: the record's value of each column (absent is missing). */
  add(record: Readonly<Record<string, unknown>>): void {
    for (let c = 0; c < this.names.length; c++) this.batch[c].push(record[this.names[c]] ?? null);
    this.rows++;
    if (this.rows - this.stored === BATCH) this.flush();
  }

  /** One row of a one-column table. */
  addOne(value: unknown): void {
    this.batch[0].push(value);
    this.rows++;
    if (this.rows - this.stored === BATCH) this.flush();
  }

  finish(): Column[] {
    this.flush();
    return this.builders.map((b) => b.finish(this.rows));
  }

  private flush(): void {
    if (this.rows > this.capacity) {
      this.capacity = Math.max(this.rows, this.capacity * 2, BATCH);
      for (const b of this.builders) b.grow(this.capacity);
    }
    for (let c = 0; c < this.builders.length; c++) {
      this.builders[c].add(this.batch[c], this.stored);
      this.batch[c] = [];
    }
    this.stored = this.rows;
  }
}

function cellColumn(c: ColumnProfile): CellColumn {
  return { name: c.name, type: c.kind, nullable: true, instants: false };
}

/** One version's rows in one window. */
export class VersionAccumulator {
  private readonly inputs: GrowingColumns;
  private readonly predictions: GrowingColumns | null;
  private readonly compared: readonly string[];
  private readonly labels: Label[] = [];
  private readonly predicted: Label[] = [];
  private readonly probabilities: number[] = [];
  private fromFeedback = 0;
  private fromTruthFile = 0;
  private unjoined = 0;
  private unknown = 0;

  constructor(
    readonly version: string,
    private readonly known: MonitoredVersion,
    private readonly rules: WindowRules,
    /** Called with each truth-file id that a logged row had, for the count of ids no prediction had. */
    private readonly sawTruthId: (id: string) => void,
    readonly role: Role = 'main',
  ) {
    const columns = known.inputs.flatMap((name) => known.profile.columns.filter((c) => c.name === name));
    this.compared = columns.map((c) => c.name);
    this.inputs = new GrowingColumns(columns);
    const target = known.profile.columns.find((c) => c.name === known.target && c.kind !== 'string');
    this.predictions = target === undefined ? null : new GrowingColumns([target]);
  }

  add(p: LoggedPrediction): void {
    const f = this.rules.feedback.get(p.id);
    const single = p.inputs.length === 1;
    if (f !== undefined && !single) this.unjoined++;
    const k = this.known.classes?.length ?? 0;
    for (let row = 0; row < p.inputs.length; row++) {
      const record = p.inputs[row];
      this.inputs.add(record);
      const label = p.predictions[row];
      this.predictions?.addOne(label);
      let truth: Label | null = null;
      if (f !== undefined && f.truth !== null && single) {
        truth = f.truth;
      } else if (this.rules.truth !== null) {
        const id = record[this.rules.truth.idColumn];
        if (id !== null && id !== undefined) {
          truth = this.rules.truth.byId.get(String(id)) ?? null;
          if (truth !== null) this.sawTruthId(String(id));
        }
      }
      if (truth === null) continue;
      let known: Label | undefined = truth;
      if (this.known.classes !== null) {
        const text = String(truth);
        known = this.known.classes.find((c) => String(c) === text);
        if (known === undefined || p.probabilities === null || p.probabilities.length !== k * p.inputs.length) {
          this.unknown++;
          continue;
        }
        for (let c = 0; c < k; c++) this.probabilities.push(p.probabilities[row * k + c]);
      } else if (typeof known !== 'number') {
        this.unknown++;
        continue;
      }
      this.labels.push(known);
      this.predicted.push(label);
      if (f !== undefined && f.truth !== null && single) this.fromFeedback++;
      else this.fromTruthFile++;
    }
  }

  /** The window's verdict for this version, and its mergeable profile. */
  close(): { window: VersionWindow; profile: WindowProfile } {
    const rows = this.inputs.rows;
    const inputs = profileTable({ rows, columns: this.inputs.finish(), lines: new Int32Array(0) }, { distributions: true });
    const predictions = this.predictions === null ? null : profileTable({ rows, columns: this.predictions.finish(), lines: new Int32Array(0) }, { distributions: true });
    const enough = rows >= this.rules.minRows;
    const drift = enough ? detectDrift(this.known.profile, inputs, { share: this.rules.share, columns: this.compared }) : null;
    const predictionDrift = enough && predictions !== null ? (detectDrift(this.known.profile, predictions, { columns: [this.known.target] }).columns[0] ?? null) : null;
    const performance = this.performance();
    const alert = drift?.datasetDrift === true || (performance.status === 'ok' && performance.watched?.alert === true);
    const status = alert ? 'alert' : drift === null ? 'not-enough-data' : 'healthy';
    return {
      window: {
        version: this.version,
        role: this.role,
        rows,
        status,
        drift,
        predictionDrift,
        performance,
        joined: { feedback: this.fromFeedback, truthFile: this.fromTruthFile },
        unjoinedFeedback: this.unjoined,
        unknownTruth: this.unknown,
      },
      profile: { inputs, predictions, performance: this.sums() },
    };
  }

  private performance(): Performance {
    const rows = this.labels.length;
    if (rows < this.rules.minRows) return { status: 'not-enough-data', rows };
    const classes = this.known.classes;
    const probabilities = Float64Array.from(this.probabilities);
    const evaluation =
      classes !== null ? evaluateClassification({ labels: this.labels, classes, probabilities }) : evaluateRegression(this.labels.map(Number), this.predicted.map(Number));
    const metrics = metricsOf(evaluation);
    const headline = this.rules.headline;
    const found = metricInterval(headline, { labels: this.labels, predicted: this.predicted, probabilities, classes });
    const interval = found === null ? null : { metric: headline, ...found };
    const watch = this.rules.performance;
    if (watch === null) return { status: 'ok', rows, metrics, watched: null, interval };
    const value = metrics[watch.metric] ?? null;
    const alert = value !== null && ((watch.min !== undefined && value < watch.min) || (watch.max !== undefined && value > watch.max));
    return { status: 'ok', rows, metrics, watched: { metric: watch.metric, value, alert }, interval };
  }

  private sums(): PerformanceSums {
    const n = this.labels.length;
    const classes = this.known.classes;
    if (classes === null) {
      let absError = 0;
      let squaredError = 0;
      let sum = 0;
      let sumOfSquares = 0;
      for (let i = 0; i < n; i++) {
        const y = Number(this.labels[i]);
        const e = y - Number(this.predicted[i]);
        absError += Math.abs(e);
        squaredError += e * e;
        sum += y;
        sumOfSquares += y * y;
      }
      return { task: 'regression', rows: n, absError, squaredError, sum, sumOfSquares };
    }
    const k = classes.length;
    const index = new Map(classes.map((c, i) => [String(c), i]));
    const confusion = classes.map(() => new Array<number>(k).fill(0));
    let logLoss = 0;
    for (let i = 0; i < n; i++) {
      const actual = index.get(String(this.labels[i])) ?? 0;
      const predicted = index.get(String(this.predicted[i]));
      if (predicted !== undefined) confusion[actual][predicted]++;
      let total = 0;
      for (let j = 0; j < k; j++) total += this.probabilities[i * k + j];
      logLoss -= Math.log(Math.min(Math.max(this.probabilities[i * k + actual] / total, Number.EPSILON), 1 - Number.EPSILON));
    }
    return { task: 'classification', rows: n, classes, confusion, logLoss };
  }
}

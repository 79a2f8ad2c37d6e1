import type { Matrix } from '../../util/matrix.js';
import { binFeatures } from './bins.js';
import { classWeights, describeValue, encodeLabels, encodeTargets, toMatrix, TrainingDataError, type Label, type Row, type Rows } from './input.js';
import { FlatForest, FlatForestBuilder } from './flat.js';
import type { GrowData, GrowSettings, GrownTree } from './grow.js';
import {
  bootstrapSize,
  featuresPerSplit,
  resolveForestParams,
  type ForestOptions,
  type ForestParams,
} from './options.js';
import { defaultThreads, growForest, type Progress } from './pool.js';
import { decodeArray, encodeArray, ModelFormatError, streamArray, type EncodedArray, type StreamedArray, type Typed } from './serialize.js';

export { TrainingDataError, type Label, type Row, type Rows } from './input.js';

export interface TrainOptions {
  /** Threads to train on, this one included; the model is the same for any number. Default: every core. */
  workers?: number;
  onProgress?: Progress;
  /**
   * Start workers only when the trees left after the first four would take this thread longer than this
   * (default 300 ms; a worker costs ~150 ms to start and warm up). 0 always starts them. Never changes the model.
   */
  parallelAfterMs?: number;
  /**
   * Held-out rows to score while the trees grow: binned with the training rows' edges and carried down each tree
   * with its out-of-bag rows, on every training thread. `heldOutScores` then holds exactly what `scores` would
   * give for them, with no pass of its own after training (at 600,000 rows and 20 deep trees, ~10 s on one core).
   */
  heldOut?: Matrix;
}


export { ModelFormatError };

export const FOREST_FORMAT = { name: 'bramble-forest', version: 1 } as const;

/** The serialized forest; its arrays as base64 strings (A = EncodedArray) or made as they are written (StreamedArray). */
export interface ForestJSON<A extends EncodedArray | StreamedArray = EncodedArray> {
  format: typeof FOREST_FORMAT.name;
  version: number;
  params: ForestParams;
  features: number;
  classes: Label[] | null;
  oobScore: number | null;
  importances: number[];
  trees: {
    nodes: number;
    roots: A;
    feature: A;
    threshold: A;
    left: A;
    missingLeft: A;
    value: A;
  };
}

/** What training needs once X is binned: the rows as bins, the settings, and the threads to grow on. */
interface TrainingPlan {
  data: GrowData;
  settings: GrowSettings;
  classes: Label[] | null;
  threads: number;
}

interface Fitted {
  flat: FlatForest;
  features: number;
  classes: Label[] | null;
  importances: Float64Array;
  oobScore: number | null;
  /** The held-out rows' scores, when training was given TrainOptions.heldOut. */
  heldOutScores?: Float64Array | null;
}

/**
 * A random forest for classification and regression on binned features. Built with its options (checked at
 * once), trained with `train`, used with `predict`/`predictProba` (many rows) or `predictRow`/`predictProbaRow`
 * (one row, nothing allocated), saved with `toJSON` and loaded with `RandomForest.fromJSON`.
 */
export class RandomForest {
  readonly params: ForestParams;
  private fitted: Fitted | null = null;
  private scratch = new Float64Array(0);

  constructor(options?: ForestOptions) {
    this.params = resolveForestParams(options);
  }

  get isTrained(): boolean {
    return this.fitted !== null;
  }

  /** The class labels in their sorted order (the columns of predictProba); null for regression. */
  get classes(): readonly Label[] | null {
    return this.model().classes;
  }

  get features(): number {
    return this.model().features;
  }

  /** Mean decrease in impurity per feature, summing to 1. */
  get featureImportances(): Float64Array {
    return this.model().importances;
  }

  /**
   * The scores of the rows given as TrainOptions.heldOut (rows × width, as `scores` gives them, to the bit); null
   * when training had none, or the forest was loaded.
   */
  get heldOutScores(): Float64Array | null {
    return this.model().heldOutScores ?? null;
  }

  /** Out-of-bag accuracy (classification) or R² (regression); null without bootstrap. */
  get oobScore(): number | null {
    return this.model().oobScore;
  }

  get flat(): FlatForest {
    return this.model().flat;
  }

  /**
   * Trains on X and y. Not itself async: X is checked and binned before it returns its promise, so the caller's
   * matrix (120 MB at 750,000 × 20) is not held by this frame while the trees grow — only the 1-byte bins are.
   */
  train(x: Rows, y: readonly unknown[], options: TrainOptions = {}): Promise<this> {
    let plan: TrainingPlan;
    try {
      plan = this.plan(x, y, options);
    } catch (err) {
      // A mistake in X or y rejects the promise, as it did when train was async.
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return this.grow(plan, options);
  }

  private plan(x: Rows, y: readonly unknown[], options: TrainOptions): TrainingPlan {
    const p = this.params;
    const { values, rows, columns } = toMatrix(x, 'training', true);
    if (rows === 0) throw new TrainingDataError('the training set is empty (0 rows); give at least 2 rows', { rows });
    if (y.length !== rows) {
      throw new TrainingDataError(`y has ${y.length} labels but X has ${rows} rows; give one label per row`, { rows, labels: y.length });
    }
    const threads = options.workers ?? defaultThreads();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new TrainingDataError(`workers is ${String(threads)}; use an integer ≥ 1`, { workers: threads });
    }
    const mtry = featuresPerSplit(p.maxFeatures, columns);
    const shared = threads > 1;
    const held = options.heldOut === undefined ? null : toMatrix(options.heldOut, 'prediction', false, columns);
    const binned = binFeatures(values, rows, columns, p.maxBins, shared, held?.values, held?.rows ?? 0);

    let classes: Label[] | null = null;
    let classIndex: Int32Array | null = null;
    let classWeight: Float64Array | null = null;
    let target: Float64Array | null = null;
    if (p.task === 'classification') {
      ({ classes, classIndex } = encodeLabels(y, shared));
      classWeight = classWeights(p, classes, classIndex, shared);
    } else {
      target = encodeTargets(y, shared);
    }

    const data: GrowData = {
      rows,
      heldOut: binned.heldOut,
      stride: binned.stride,
      features: columns,
      bins: binned.bins,
      edges: binned.edges,
      edgeStart: binned.edgeStart,
      classIndex,
      classes: classes?.length ?? 0,
      classWeight,
      target,
    };
    const settings: GrowSettings = {
      seed: p.seed,
      maxDepth: p.maxDepth ?? 2 ** 30,
      minSamplesSplit: p.minSamplesSplit,
      minSamplesLeaf: p.minSamplesLeaf,
      featuresPerSplit: mtry,
      bootstrap: p.bootstrap,
      bootstrapSize: p.bootstrap ? bootstrapSize(p.maxSamples, rows) : rows,
    };
    return { data, settings, classes, threads };
  }

  private async grow({ data, settings, classes, threads }: TrainingPlan, options: TrainOptions): Promise<this> {
    const p = this.params;
    const { rows, features: columns, classIndex, target } = data;
    const width = classes ? classes.length : 1;
    // Each tree is taken in its number's order as it arrives — out-of-bag votes, importances, then its nodes into
    // the forest — and let go: no tree is held after its turn (at a million rows a tree is ~2 MB).
    const oob = p.bootstrap ? new OutOfBagVotes(rows, width) : null;
    const heldOut = data.heldOut > 0 ? new Float64Array(data.heldOut * width) : null;
    const importances = new Float64Array(columns);
    const builder = new FlatForestBuilder(width, p.trees);
    const inOrder = new InOrder<GrownTree>((tree) => {
      oob?.add(tree);
      if (heldOut) addLeafValues(heldOut, tree, width);
      addImportances(importances, tree);
      builder.add(tree);
    });
    await growForest(data, settings, p.trees, threads, (t, tree) => inOrder.arrive(t, tree), options.onProgress, options.parallelAfterMs);
    const oobScore = oob ? oob.score(classIndex, target) : null;
    if (heldOut) for (let i = 0; i < heldOut.length; i++) heldOut[i] *= 1 / p.trees;
    this.fitted = { flat: builder.finish(), features: columns, classes, importances: normalized(importances), oobScore, heldOutScores: heldOut };
    return this;
  }

  /** Labels (classification) or values (regression), one per row. */
  predict(x: Rows): Label[] {
    const { classes, flat } = this.model();
    const { rows } = toMatrix(x, 'prediction', false, this.features);
    const scores = this.scores(x);
    const out: Label[] = new Array(rows);
    if (!classes) {
      for (let r = 0; r < rows; r++) out[r] = scores[r];
      return out;
    }
    for (let r = 0; r < rows; r++) out[r] = classes[argmax(scores, r * flat.width, flat.width)];
    return out;
  }

  /** Class probabilities, one array per row, in the order of `classes`; each row sums to 1. */
  predictProba(x: Rows): number[][] {
    const { flat } = this.classifier();
    const scores = this.scores(x);
    const rows = scores.length / flat.width;
    const out: number[][] = new Array(rows);
    for (let r = 0; r < rows; r++) out[r] = Array.from(scores.subarray(r * flat.width, (r + 1) * flat.width));
    return out;
  }

  /** The batch path: rows × width scores (class probabilities, or the value for regression). */
  scores(x: Rows, out?: Float64Array): Float64Array {
    const { flat } = this.model();
    const m = toMatrix(x, 'prediction', false, this.features);
    const result = out ?? new Float64Array(m.rows * flat.width);
    flat.predictBatch(m.values, m.rows, m.columns, result);
    return result;
  }

  /** One row's label or value; allocates nothing. */
  predictRow(row: Row): Label {
    const { flat, classes } = this.model();
    this.checkRow(row);
    if (this.scratch.length !== flat.width) this.scratch = new Float64Array(flat.width);
    flat.predictRow(row, this.scratch);
    return classes ? classes[argmax(this.scratch, 0, flat.width)] : this.scratch[0];
  }

  /** One row's class probabilities into `out` (length: the number of classes); allocates nothing. */
  predictProbaRow(row: Row, out: Float64Array): Float64Array {
    const { flat } = this.classifier();
    this.checkRow(row);
    if (out.length !== flat.width) {
      throw new TrainingDataError(`predictProbaRow needs an output array of ${flat.width} values (one per class), got ${out.length}`);
    }
    flat.predictRow(row, out);
    return out;
  }

  toJSON(): ForestJSON {
    return this.serialized(encodeArray);
  }

  /** toJSON's content, its arrays' base64 made as the artifact is hashed and written (see StreamedText). */
  toStreamedJSON(): ForestJSON<StreamedArray> {
    return this.serialized(streamArray);
  }

  private serialized<A extends EncodedArray | StreamedArray>(encode: (a: Typed) => A): ForestJSON<A> {
    const { flat, features, classes, importances, oobScore } = this.model();
    return {
      format: FOREST_FORMAT.name,
      version: FOREST_FORMAT.version,
      params: { ...this.params },
      features,
      classes,
      oobScore,
      importances: Array.from(importances),
      trees: {
        nodes: flat.nodes,
        roots: encode(flat.roots),
        feature: encode(flat.feature),
        threshold: encode(flat.threshold),
        left: encode(flat.left),
        missingLeft: encode(flat.missingLeft),
        value: encode(flat.value),
      },
    };
  }

  static fromJSON(json: unknown): RandomForest {
    return loadForest(json);
  }

  private model(): Fitted {
    if (!this.fitted) throw new TrainingDataError('the forest is not trained yet; call train(X, y) first');
    return this.fitted;
  }

  private classifier(): Fitted {
    const m = this.model();
    if (!m.classes) throw new TrainingDataError('class probabilities need a classification forest; this one does regression');
    return m;
  }

  private checkRow(row: Row): void {
    if (row.length !== this.model().features) {
      throw new TrainingDataError(`the row has ${row.length} values but the model takes ${this.features} features`, {
        values: row.length,
        features: this.features,
      });
    }
    // A typed array holds numbers only; a plain array is checked, which costs ~1 ns a value.
    if (Array.isArray(row)) {
      for (let c = 0; c < row.length; c++) {
        const v: unknown = row[c];
        if (v !== null && typeof v !== 'number') {
          throw new TrainingDataError(`row[${c}] is ${describeValue(v)}; features must be numbers, or null for a missing value`, { column: c });
        }
      }
    }
  }

  /** @internal For loading. */
  static restore(params: ForestParams, fitted: Fitted): RandomForest {
    const forest = new RandomForest(params);
    forest.fitted = fitted;
    return forest;
  }
}

/**
 * scikit-learn's way: each tree's importances normalized and summed over trees that split (addImportances, in tree
 * order), then normalized again (normalized).
 */
function addImportances(out: Float64Array, t: GrownTree): void {
  const features = out.length;
  let total = 0;
  for (let f = 0; f < features; f++) total += t.importance[f];
  if (total <= 0) return;
  for (let f = 0; f < features; f++) out[f] += t.importance[f] / total;
}

/** A tree's leaf values added to each held-out row's sums, as the batch predictor adds them (tree by tree). */
function addLeafValues(sums: Float64Array, tree: GrownTree, width: number): void {
  const leaves = tree.heldOutLeaves;
  for (let r = 0; r < leaves.length; r++) {
    const at = leaves[r] * width;
    for (let c = 0; c < width; c++) sums[r * width + c] += tree.value[at + c];
  }
  tree.heldOutLeaves = new Int32Array(0);
}

function normalized(out: Float64Array): Float64Array {
  let total = 0;
  for (let f = 0; f < out.length; f++) total += out[f];
  if (total > 0) for (let f = 0; f < out.length; f++) out[f] /= total;
  return out;
}

/**
 * Hands items on in their numbers' order whatever order they arrive in: sums over trees must be made in tree order,
 * since the order decides their last bits and the model must not depend on the number of threads.
 */
class InOrder<T> {
  private readonly waiting = new Map<number, T>();
  private next = 0;

  constructor(private readonly take: (item: T) => void) {}

  arrive(index: number, item: T): void {
    this.waiting.set(index, item);
    for (let t = this.waiting.get(this.next); t !== undefined; t = this.waiting.get(this.next)) {
      this.waiting.delete(this.next);
      this.take(t);
      this.next++;
    }
  }
}

function argmax(a: Float64Array, at: number, width: number): number {
  let best = 0;
  for (let c = 1; c < width; c++) if (a[at + c] > a[at + best]) best = c;
  return best;
}

/**
 * Each row scored by the trees whose bootstrap left it out: accuracy, or R² for regression. Trees must be added in
 * their numbers' order (see InOrder); a tree's out-of-bag rows are let go once counted.
 */
class OutOfBagVotes {
  private readonly sums: Float64Array;
  private readonly votes: Int32Array;

  constructor(
    private readonly rows: number,
    private readonly width: number,
  ) {
    this.sums = new Float64Array(rows * width);
    this.votes = new Int32Array(rows);
  }

  add(tree: GrownTree): void {
    const { sums, votes, width } = this;
    for (let j = 0; j < tree.oobRows.length; j++) {
      const r = tree.oobRows[j];
      const at = tree.oobLeaves[j] * width;
      for (let c = 0; c < width; c++) sums[r * width + c] += tree.value[at + c];
      votes[r]++;
    }
    tree.oobRows = new Int32Array(0);
    tree.oobLeaves = new Int32Array(0);
  }

  score(classIndex: Int32Array | null, target: Float64Array | null): number | null {
    const { sums, votes, width, rows } = this;
    let scored = 0;
    if (classIndex) {
      let right = 0;
      for (let r = 0; r < rows; r++) {
        if (votes[r] === 0) continue;
        scored++;
        if (argmax(sums, r * width, width) === classIndex[r]) right++;
      }
      return scored > 0 ? right / scored : null;
    }
    let mean = 0;
    for (let r = 0; r < rows; r++) {
      if (votes[r] === 0) continue;
      scored++;
      mean += target![r];
    }
    if (scored === 0) return null;
    mean /= scored;
    let residual = 0;
    let spread = 0;
    for (let r = 0; r < rows; r++) {
      if (votes[r] === 0) continue;
      const e = target![r] - sums[r] / votes[r];
      residual += e * e;
      spread += (target![r] - mean) ** 2;
    }
    return spread > 0 ? 1 - residual / spread : null;
  }
}

function loadForest(json: unknown): RandomForest {
  if (typeof json !== 'object' || json === null) {
    throw new ModelFormatError(`a serialized forest must be an object (got ${describeValue(json)})`);
  }
  const j = json as Partial<ForestJSON>;
  if (j.format !== FOREST_FORMAT.name) {
    throw new ModelFormatError(`not a Bramble forest: format is ${describeValue(j.format)}, expected "${FOREST_FORMAT.name}"`, {
      format: j.format,
    });
  }
  if (typeof j.version !== 'number' || !Number.isInteger(j.version) || j.version < 1) {
    throw new ModelFormatError(`the forest's format version is ${describeValue(j.version)}; expected an integer ≥ 1`);
  }
  if (j.version > FOREST_FORMAT.version) {
    throw new ModelFormatError(
      `the forest has format version ${j.version}, newer than this Bramble reads (${FOREST_FORMAT.version}); upgrade Bramble to load it`,
      { version: j.version, supported: FOREST_FORMAT.version },
    );
  }
  if (typeof j.params !== 'object' || j.params === null) {
    throw new ModelFormatError('the forest has no "params" section; retrain or restore the model file');
  }
  const params = resolveForestParams(j.params);
  const features = j.features;
  if (typeof features !== 'number' || !Number.isInteger(features) || features < 1) {
    throw new ModelFormatError(`the forest's "features" is ${describeValue(features)}; expected an integer ≥ 1`);
  }
  const classes = j.classes ?? null;
  if (params.task === 'classification' && (!Array.isArray(classes) || classes.length < 2)) {
    throw new ModelFormatError('a classification forest needs "classes", a list of at least 2 labels');
  }
  const width = classes ? classes.length : 1;
  const t = j.trees;
  if (!t || typeof t.nodes !== 'number') throw new ModelFormatError('the forest has no "trees" section');
  const roots = decodeArray(t.roots, 'int32', params.trees, 'trees.roots');
  const feature = decodeArray(t.feature, 'int32', t.nodes, 'trees.feature');
  const threshold = decodeArray(t.threshold, 'float64', t.nodes, 'trees.threshold');
  const left = decodeArray(t.left, 'int32', t.nodes, 'trees.left');
  const missingLeft = decodeArray(t.missingLeft, 'uint8', t.nodes, 'trees.missingLeft');
  const value = decodeArray(t.value, 'float64', t.nodes * width, 'trees.value');
  // Walking a damaged tree could loop or read out of bounds: check every link once here.
  for (let i = 0; i < t.nodes; i++) {
    const f = feature[i];
    if (f >= features || f < -1 || (f >= 0 && (left[i] <= i || left[i] + 1 >= t.nodes))) {
      throw new ModelFormatError(`the forest is damaged: node ${i} has feature ${f} and children at ${left[i]}; retrain or restore the model file`);
    }
  }
  for (let r = 0; r < roots.length; r++) {
    if (roots[r] < 0 || roots[r] >= t.nodes) throw new ModelFormatError(`the forest is damaged: tree ${r} starts at node ${roots[r]} of ${t.nodes}`);
  }
  // A NaN threshold sends every value one way and a non-finite leaf value poisons every score it reaches; neither
  // is ever trained (thresholds past the last bin edge are +Infinity, which is allowed).
  for (let i = 0; i < t.nodes; i++) {
    if (feature[i] >= 0 && Number.isNaN(threshold[i])) throw new ModelFormatError(`the forest is damaged: node ${i}'s threshold is NaN; retrain or restore the model file`);
  }
  for (let k = 0; k < value.length; k++) {
    if (!Number.isFinite(value[k])) {
      throw new ModelFormatError(`the forest is damaged: node ${Math.floor(k / width)} holds the value ${value[k]}, not a finite number; retrain or restore the model file`);
    }
  }
  const importances = Float64Array.from(Array.isArray(j.importances) ? j.importances : []);
  if (importances.length !== features) {
    throw new ModelFormatError(`the forest has ${importances.length} importances for ${features} features; retrain or restore the model file`);
  }
  const flat = new FlatForest(width, roots, feature, threshold, left, missingLeft, value);
  return RandomForest.restore(params, { flat, features, classes, importances, oobScore: j.oobScore ?? null });
}

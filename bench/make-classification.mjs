// A seeded stand-in for scikit-learn's make_classification, written straight to CSV, for the benchmarks at
// 1,000,000 and 5,000,000 rows (npm run bench:scale).
//
// Decisions:
// - scikit-learn's algorithm (informative features; redundant ones that are linear combinations of them; the
//   rest noise; 2 classes × 2 clusters on the vertices of a hypercube, each cluster a Gaussian with a random
//   covariance; 1 % of labels replaced at random; features in a shuffled order), generated in JavaScript so that
//   the benchmark needs no Python to make its data and a row never sits in memory twice: a 5,000,000-row file is
//   written as it is generated.
// - 10 informative and 5 redundant of 20: scikit-learn's make_classification(100_000, 20, n_informative=10,
//   n_redundant=5, random_state=42) gives XGBoost's forest 0.9767 on a quarter held out, the 0.977 that
//   BASELINES.md records at 100,000 × 20. Its defaults (2 and 2) give 0.83: noise that grows huge trees and
//   measures little else.
// - A `fold` column marks the held-out rows (every fourth row, exactly a quarter): ml.yaml's `split.by: fold` holds
//   them out for Bramble, and XGBoost's script holds out the same rows, so both are scored on identical rows.
// - Values are rounded to 5 decimals, as a CSV export would have them; both sides read the same text.
import { closeSync, openSync, writeSync } from 'node:fs';
import { Rng } from './rng.mjs';

/**
 * Writes `rows` rows of x0..x{features-1}, fold, target to `file`. Returns the held-out count.
 * @param {{ file: string, rows: number, features?: number, informative?: number, redundant?: number, flip?: number, classSep?: number, seed?: number }} o
 */
export function writeClassificationCsv(o) {
  const { file, rows, features = 20, informative = 10, redundant = 5, flip = 0.01, classSep = 1, seed = 42 } = o;
  const rng = new Rng(seed, 0xc1a5);
  let spare = NaN;
  const normal = () => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = NaN;
      return s;
    }
    const u = 1 - rng.float();
    const v = rng.float();
    const m = Math.sqrt(-2 * Math.log(u));
    spare = m * Math.sin(2 * Math.PI * v);
    return m * Math.cos(2 * Math.PI * v);
  };
  const uniform = () => rng.float() * 2 - 1;
  const classes = 2;
  const clusters = classes * 2;
  // Distinct hypercube vertices as the cluster centres (scikit-learn's _generate_hypercube).
  const vertices = new Set();
  while (vertices.size < clusters) vertices.add(rng.int(2 ** informative));
  const centroids = [...vertices].map((v) => Array.from({ length: informative }, (_, d) => ((v >> d) & 1 ? classSep : -classSep)));
  const covariances = centroids.map(() => Array.from({ length: informative * informative }, uniform));
  const mixing = Array.from({ length: informative * redundant }, uniform);
  // Column order shuffled once, so that the informative features are not simply the first ones.
  const order = Array.from({ length: features }, (_, i) => i);
  for (let i = features - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }

  const fd = openSync(file, 'w');
  const header = Array.from({ length: features }, (_, i) => `x${i}`).concat('fold', 'target').join(',');
  let chunk = `${header}\n`;
  const z = new Float64Array(informative);
  const x = new Float64Array(features);
  let heldOut = 0;
  for (let r = 0; r < rows; r++) {
    const k = rng.int(clusters);
    const a = covariances[k];
    for (let d = 0; d < informative; d++) z[d] = normal();
    for (let d = 0; d < informative; d++) {
      let s = centroids[k][d];
      for (let e = 0; e < informative; e++) s += z[e] * a[e * informative + d];
      x[order[d]] = s;
    }
    for (let d = 0; d < redundant; d++) {
      let s = 0;
      for (let e = 0; e < informative; e++) s += x[order[e]] * mixing[e * redundant + d];
      x[order[informative + d]] = s;
    }
    for (let d = informative + redundant; d < features; d++) x[order[d]] = normal();
    let y = k % classes;
    if (rng.float() < flip) y = rng.int(classes);
    const fold = r % 4 === 3 ? 1 : 0;
    heldOut += fold;
    let line = '';
    for (let c = 0; c < features; c++) line += `${Math.round(x[c] * 1e5) / 1e5},`;
    chunk += `${line}${fold},${y}\n`;
    if (chunk.length > 1 << 22) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
  return { heldOut };
}

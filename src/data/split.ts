import { Rng } from '../model/forest/rng.js';

export interface Split {
  train: number[];
  test: number[];
}

/**
 * A seeded train/test split of row indices. Stratified: each label keeps its share in both parts (the test
 * part of each label rounded, as scikit-learn's train_test_split does closely enough for held-out scoring).
 */
export function splitRows(labels: readonly unknown[], testShare: number, seed: number, stratify: boolean): Split {
  const rng = new Rng(seed, 0x5eed);
  const groups = new Map<unknown, number[]>();
  labels.forEach((label, i) => {
    const key = stratify ? label : 0;
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  const train: number[] = [];
  const test: number[] = [];
  for (const rows of groups.values()) {
    for (let i = rows.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    const nTest = Math.round(rows.length * testShare);
    test.push(...rows.slice(0, nTest));
    train.push(...rows.slice(nTest));
  }
  train.sort((a, b) => a - b);
  test.sort((a, b) => a - b);
  return { train, test };
}

// Row identities and the training-row filter: how a later run recognises the rows a model was trained on.
//
// Decisions:
// - A row's identity is a 64-bit hash (two 32-bit murmur3-style lanes) of its identity values, with no seed, so the
//   same row has the same identity in every version of the data, under any split seed or share. Numbers (and
//   dates, booleans) are hashed as their IEEE-754 bits (−0 as 0, every NaN alike), text as its UTF-16 code units,
//   so the identity does not depend on the file format a value came from.
// - The artifact keeps its training rows' identities as a Bloom filter: about 10 bits a row (1.2 MB at a million
//   rows) and a false-positive rate under 1 %. A false positive only leaves a held-out row out of a comparison; a
//   training row is never missed, which is what keeps the champion from being scored on rows it saw.
import { errorClass } from '../errors.js';
import type { Column } from './table.js';

export interface RowIdentities {
  readonly lo: Uint32Array;
  readonly hi: Uint32Array;
}

const MISSING_WORD = 0x7ff80001;
const SEED_LO = 0x9747b28c;
const SEED_HI = 0x5bd1e995;

function mix(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A text's 32-bit murmur3-style hash under `seed` (one lane of an identity; also the canary's sticky hash). */
export function textWords(text: string, seed: number): number {
  let h = mix(seed, text.length);
  for (let i = 0; i < text.length; i++) h = mix(h, text.charCodeAt(i));
  return finish(h);
}

/** Every row's identity over `columns` (in the order given), for rows 0..rows−1. */
export function rowIdentities(columns: readonly Column[], rows: number): RowIdentities {
  const lo = new Uint32Array(rows).fill(SEED_LO);
  const hi = new Uint32Array(rows).fill(SEED_HI);
  const bits = new Float64Array(1);
  const words = new Uint32Array(bits.buffer);
  for (const column of columns) {
    if (column.kind === 'category' || column.kind === 'string') {
      // One hash per distinct value, then one mix per row.
      const { codes, categories } = column.values;
      const catLo = new Uint32Array(categories.length);
      const catHi = new Uint32Array(categories.length);
      for (let c = 0; c < categories.length; c++) {
        catLo[c] = textWords(categories[c], 0x1b873593);
        catHi[c] = textWords(categories[c], 0x2545f491);
      }
      for (let r = 0; r < rows; r++) {
        const code = codes[r];
        const a = code < 0 ? MISSING_WORD : catLo[code];
        const b = code < 0 ? MISSING_WORD : catHi[code];
        lo[r] = mix(mix(lo[r], a), b);
        hi[r] = mix(mix(hi[r], b), a ^ 0x85ebca6b);
      }
    } else if (column.kind === 'number' || column.kind === 'boolean' || column.kind === 'date') {
      const values = column.values;
      for (let r = 0; r < rows; r++) {
        const v = values[r];
        let a: number;
        let b: number;
        if (v !== v) {
          a = MISSING_WORD;
          b = MISSING_WORD;
        } else {
          bits[0] = v === 0 ? 0 : v;
          a = words[0];
          b = words[1];
        }
        lo[r] = mix(mix(lo[r], a), b);
        hi[r] = mix(mix(hi[r], b), a ^ 0x85ebca6b);
      }
    }
  }
  for (let r = 0; r < rows; r++) {
    lo[r] = finish(mix(lo[r], columns.length));
    hi[r] = finish(mix(hi[r], columns.length ^ 0x5bd1e995));
  }
  return { lo, hi };
}

/** Row r's place in [0, 1) under a split seed: uniform, and the same for the same identity and seed. */
export function identityPosition(ids: RowIdentities, r: number, seed: number): number {
  const s = finish(mix(0x2545f491, seed >>> 0));
  return finish(mix(mix(s, ids.lo[r]), ids.hi[r])) / 4294967296;
}

/** The saved form of a training-row filter (the artifact's lineage.split.trainRows). */
export interface TrainingRowFilterJSON {
  /** The columns whose values identify a row, in hashing order. */
  identity: string[];
  /** Rows added. */
  rows: number;
  /** Hash functions per row. */
  hashes: number;
  /** Bits in the filter. */
  bits: number;
  /** The filter's bytes, base64. */
  filter: string;
}

export class TrainingRowFilterError extends errorClass('E_TRAINING_ROWS') {}

const BITS_PER_ROW = 10;
const HASHES = 7;

/** A Bloom filter of row identities. */
export class TrainingRowFilter {
  private constructor(
    readonly identity: readonly string[],
    readonly rows: number,
    private readonly hashes: number,
    private readonly bits: number,
    private readonly bytes: Uint8Array,
  ) {}

  /** The filter of `rows` (indices) of `ids`, whose identity columns are `identity`. */
  static of(identity: readonly string[], ids: RowIdentities, rows: ArrayLike<number>): TrainingRowFilter {
    const bits = Math.max(64, Math.ceil((rows.length * BITS_PER_ROW) / 8) * 8);
    const filter = new TrainingRowFilter(identity, rows.length, HASHES, bits, new Uint8Array(bits / 8));
    for (let i = 0; i < rows.length; i++) filter.add(ids.lo[rows[i]], ids.hi[rows[i]]);
    return filter;
  }

  static fromJSON(json: TrainingRowFilterJSON, where: string): TrainingRowFilter {
    const bytes = Buffer.from(json.filter, 'base64');
    if (json.bits !== bytes.length * 8 || json.bits < 8 || !(json.hashes >= 1 && json.hashes <= 32)) {
      throw new TrainingRowFilterError(`${where}: the training-row filter holds ${bytes.length * 8} bits but records ${json.bits} (${json.hashes} hashes); the model file is damaged`);
    }
    return new TrainingRowFilter(json.identity, json.rows, json.hashes, json.bits, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  }

  private add(lo: number, hi: number): void {
    const step = (hi | 1) >>> 0;
    for (let i = 0; i < this.hashes; i++) {
      const bit = (lo + i * step) % this.bits;
      this.bytes[bit >>> 3] |= 1 << (bit & 7);
    }
  }

  /** Whether the row with this identity may have been a training row (never false for one that was). */
  has(lo: number, hi: number): boolean {
    const step = (hi | 1) >>> 0;
    for (let i = 0; i < this.hashes; i++) {
      const bit = (lo + i * step) % this.bits;
      if ((this.bytes[bit >>> 3] & (1 << (bit & 7))) === 0) return false;
    }
    return true;
  }

  toJSON(): TrainingRowFilterJSON {
    return { identity: [...this.identity], rows: this.rows, hashes: this.hashes, bits: this.bits, filter: Buffer.from(this.bytes).toString('base64') };
  }
}

import { errorClass } from '../../errors.js';
import { StreamedText } from '../artifact.js';

/** A model file that is not in this format or version, or is damaged. */
export class ModelFormatError extends errorClass('E_MODEL_FORMAT') {}

/** A typed array in JSON: its type, its length and its little-endian bytes in base64 (exact, and compact). */
export interface EncodedArray {
  dtype: 'int32' | 'uint8' | 'float64';
  length: number;
  base64: string;
}

const BYTES = { int32: 4, uint8: 1, float64: 8 } as const;

export type Typed = Int32Array | Uint8Array | Float64Array;

function dtypeOf(a: Typed): EncodedArray['dtype'] {
  return a instanceof Int32Array ? 'int32' : a instanceof Uint8Array ? 'uint8' : 'float64';
}

export function encodeArray(a: Typed): EncodedArray {
  return { dtype: dtypeOf(a), length: a.length, base64: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') };
}

/** A typed array as encodeArray gives it, but its base64 made in 1 MB pieces as it is hashed or written. */
export interface StreamedArray {
  dtype: EncodedArray['dtype'];
  length: number;
  base64: StreamedText;
}

/** Bytes per piece: a multiple of 3, so that the pieces' base64 joined is the whole array's base64. */
const PIECE = 3 << 18;

export function streamArray(a: Typed): StreamedArray {
  const bytes = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const text = new StreamedText((take) => {
    for (let at = 0; at < bytes.length; at += PIECE) take(bytes.subarray(at, Math.min(bytes.length, at + PIECE)).toString('base64'));
  });
  return { dtype: dtypeOf(a), length: a.length, base64: text };
}

export function decodeArray(e: unknown, dtype: 'int32', length: number, where: string): Int32Array;
export function decodeArray(e: unknown, dtype: 'uint8', length: number, where: string): Uint8Array;
export function decodeArray(e: unknown, dtype: 'float64', length: number, where: string): Float64Array;
export function decodeArray(e: unknown, dtype: EncodedArray['dtype'], length: number, where: string): Typed {
  const damaged = (why: string): never => {
    throw new ModelFormatError(`the forest is damaged: ${where} ${why}; retrain or restore the model file`, { where });
  };
  if (typeof e !== 'object' || e === null) return damaged('is missing');
  const enc = e as Partial<EncodedArray>;
  if (enc.dtype !== dtype) return damaged(`has type ${String(enc.dtype)}, expected ${dtype}`);
  if (typeof enc.base64 !== 'string') return damaged('has no data');
  const bytes = Buffer.from(enc.base64, 'base64');
  const got = bytes.length / BYTES[dtype];
  if (enc.length !== length || got !== length) {
    return damaged(`holds ${Number.isInteger(got) ? got : got.toFixed(2)} values, expected ${length}`);
  }
  // Copy into a fresh, aligned buffer: Buffer's pool gives no alignment guarantee.
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  if (dtype === 'int32') return new Int32Array(copy);
  if (dtype === 'uint8') return new Uint8Array(copy);
  return new Float64Array(copy);
}

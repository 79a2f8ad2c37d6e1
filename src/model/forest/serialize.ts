import { errorClass } from '../../errors.js';

/** A model file that is not in this format or version, or is damaged. */
export class ModelFormatError extends errorClass('E_MODEL_FORMAT') {}

/** A typed array in JSON: its type, its length and its little-endian bytes in base64 (exact, and compact). */
export interface EncodedArray {
  dtype: 'int32' | 'uint8' | 'float64';
  length: number;
  base64: string;
}

type Typed = Int32Array | Uint8Array | Float64Array;
const BYTES = { int32: 4, uint8: 1, float64: 8 } as const;

export function encodeArray(a: Typed): EncodedArray {
  const dtype = a instanceof Int32Array ? 'int32' : a instanceof Uint8Array ? 'uint8' : 'float64';
  return { dtype, length: a.length, base64: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') };
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

// Decimal text to a double straight from bytes, exactly as Number() reads it: the CSV reader's number parser.
const SPACE = 32;
const TAB = 9;

/** Exact powers of ten: every one up to 1e22 is a double without rounding. */
const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
/** Below this, mantissa * 10 + 9 stays under 2^53, so the mantissa is exact. */
const MANTISSA_LIMIT = 900719925474099;

/**
 * A decimal number in bytes [start, end) (spaces and tabs around it allowed), or NaN when the text is not one
 * (hex, "Infinity", "1e999" and the like are not, so every value is finite). The result is exactly Number()'s:
 * with at most ~15 significant digits and a power of ten up to 22, the mantissa and the power are both exact
 * doubles and one multiplication or division rounds correctly (Clinger's fast path); anything else goes to
 * Number() itself.
 */
export function parseDecimal(bytes: Uint8Array, start: number, end: number): number {
  let s = start;
  let e = end;
  while (s < e && (bytes[s] === SPACE || bytes[s] === TAB)) s++;
  while (e > s && (bytes[e - 1] === SPACE || bytes[e - 1] === TAB)) e--;
  let i = s;
  let negative = false;
  if (i < e && (bytes[i] === 45 || bytes[i] === 43)) {
    negative = bytes[i] === 45;
    i++;
  }
  let mantissa = 0;
  let scale = 0;
  let exact = true;
  let digits = 0;
  for (; i < e; i++) {
    const d = bytes[i] - 48;
    if (d < 0 || d > 9) break;
    digits++;
    if (mantissa < MANTISSA_LIMIT) mantissa = mantissa * 10 + d;
    else exact = false;
  }
  if (i < e && bytes[i] === 46) {
    for (i++; i < e; i++) {
      const d = bytes[i] - 48;
      if (d < 0 || d > 9) break;
      digits++;
      if (mantissa < MANTISSA_LIMIT) {
        mantissa = mantissa * 10 + d;
        scale++;
      } else {
        exact = false;
      }
    }
  }
  if (digits === 0) return NaN;
  let exponent = 0;
  if (i < e && (bytes[i] === 101 || bytes[i] === 69)) {
    i++;
    let expNegative = false;
    if (i < e && (bytes[i] === 45 || bytes[i] === 43)) {
      expNegative = bytes[i] === 45;
      i++;
    }
    const from = i;
    for (; i < e; i++) {
      const d = bytes[i] - 48;
      if (d < 0 || d > 9) break;
      if (exponent < 100_000) exponent = exponent * 10 + d;
    }
    if (i === from) return NaN;
    if (expNegative) exponent = -exponent;
  }
  if (i !== e) return NaN;
  if (exact) {
    if (mantissa === 0) return negative ? -0 : 0;
    const power = exponent - scale;
    let v: number;
    if (power === 0) v = mantissa;
    else if (power > 0 && power <= 22) v = mantissa * POW10[power];
    else if (power < 0 && power >= -22) v = mantissa / POW10[-power];
    else v = Number.NaN;
    if (v === v) return negative ? -v : v;
  }
  let text = '';
  for (let k = s; k < e; k++) text += String.fromCharCode(bytes[k]);
  const v = Number(text);
  return Number.isFinite(v) ? v : NaN;
}

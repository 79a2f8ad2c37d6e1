/**
 * The two-sample Kolmogorov–Smirnov p-value exactly as scipy's `ks_2samp(a, b)` computes it (two-sided, the
 * default method 'auto'), given the statistic D and the two sample sizes.
 *
 * Ported from scipy 1.10.1 (Debian's python3-scipy 1.10.1-2), copyright the SciPy Developers, BSD-3-Clause
 * licensed (the licence text: scipy's LICENSE.txt, or /usr/share/doc/python3-scipy/copyright). The Python parts
 * were read from the installed package; the two it ships compiled (_stats_pythran and cephes) from scipy's
 * repository sources, and the recorded answers of test/data-ks.test.ts check them against the installed 1.10.1:
 * - scipy/stats/_stats_py.py: `ks_2samp` (the choice of method and the fallback), `_attempt_exact_2kssamp`,
 *   `_compute_prob_outside_square`;
 * - scipy/stats/_stats_pythran.py: `_compute_outer_prob_inside_method` (Hodges' inside method with Viehmann's
 *   recursion for 1 − p);
 * - scipy/stats/_ksstats.py: `_kolmogn` and the methods it chooses between (`_kolmogn_DMTW`,
 *   `_kolmogn_Pomeranz`, `_pomeranz_compute_j1j2`, `_kolmogn_PelzGood`), which `kstwo.sf` calls;
 * - scipy/special/cephes/kolmogorov.c: `_smirnov3`'s survival function (the one-sided `smirnov(n, x)`), for the
 *   lower sum only, the one `_kolmogn` reaches. scipy sums in double-double arithmetic; here each term is
 *   computed in log space in double precision, which keeps the relative error near 1e-13 for n up to 10⁶.
 *
 * The same operations in the same order as scipy wherever scipy works in double precision, so the exact branch
 * gives scipy's answer to the bit (all 116 exact cases of test/data-ks.test.ts do). Elsewhere the differences are
 * scipy's long-double rescaling in `_kolmogn_DMTW`, numpy's summation order in matmul and convolve, and the
 * Smirnov sum above: at most 4.5e-12 relative on the recorded grid.
 */

/** ks_2samp's MAX_AUTO_N: up to this many values on each side 'auto' counts lattice paths exactly. */
export const KS_MAX_EXACT_N = 10_000;

/** numpy's round: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * ks_2samp's two-sided p-value (method 'auto') for the statistic `d` between samples of `n` and `m` values:
 * the exact lattice-path probability when both are at most 10,000 (D rounded to the lattice first, as scipy
 * does), else — or when the exact count fails — the one-sample distribution `kstwo.sf(d, round(n·m/(n+m)))`.
 */
export function ks2SampPValue(d: number, n: number, m: number): number {
  if (!(Number.isInteger(n) && Number.isInteger(m) && n > 0 && m > 0)) return NaN;
  if (Number.isNaN(d)) return NaN;
  const g = gcd(n, m);
  let stat = d;
  if (Math.max(n, m) <= KS_MAX_EXACT_N) {
    const lcm = (n / g) * m;
    const h = roundHalfEven(stat * lcm);
    stat = h / lcm;
    if (h === 0) return 1;
    const prob = n === m ? probOutsideSquare(n, h) : outerProbInside(n, m, g, h);
    // scipy takes the exact answer only when it is a probability; otherwise it warns and goes asymptotic with the rounded D.
    if (prob >= 0 && prob <= 1) return prob;
  }
  const big = Math.max(n, m);
  const small = Math.min(n, m);
  const en = (big * small) / (big + small);
  return clip(kstwoSf(stat, roundHalfEven(en)));
}

/** `_compute_prob_outside_square`: Pr(D ≥ h/n) for two samples of n, a Horner-like alternating sum. */
export function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
    k -= 1;
  }
  return 2 * p;
}

/**
 * `_compute_outer_prob_inside_method`: the share of lattice paths from (0, 0) to (m, n) that leave the band
 * |x/m − y/n| < h/lcm, one column of the path-count matrix at a time in a sliding window, computed as 1 − p
 * directly (Viehmann) so nothing is large and nothing cancels.
 */
export function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = Math.floor(m / g);
  const ng = Math.floor(n / g);
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const a = new Float64Array(lenA).fill(1);
  for (let j = minj; j < maxj && j < lenA; j++) a[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    const shift = minj - lastminj;
    const width = maxj - minj;
    for (let jj = 0; jj < width; jj++) {
      const j = jj + minj;
      val = (a[jj + shift] * i + val * j) / (i + j);
      a[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      for (let k = maxj - minj; k < maxj - minj + (lastlen - curlen) && k < lenA; k++) a[k] = 1;
    }
  }
  return a[maxj - minj - 1];
}

function clip(p: number): number {
  return Math.min(1, Math.max(0, p));
}

/**
 * `kstwo.sf(x, n)`: P(Dₙ > x) for the two-sided one-sample KS statistic, by `_kolmogn(n, x, cdf=False)` (Simard
 * and L'Ecuyer's choice among Ruben–Gambino's closed forms, Durbin's matrix (Marsaglia–Tsang–Wang), Pomeranz's
 * recursion, Pelz–Good's asymptotic series and the one-sided Smirnov sum), with rv_continuous's support checks.
 */
export function kstwoSf(x: number, n: number): number {
  if (!(Number.isInteger(n) && n >= 1) || Number.isNaN(x)) return NaN;
  if (x <= 0.5 / n) return 1;
  if (x >= 1) return 0;
  const t = n * x;
  if (t <= 1) {
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1);
    } else {
      prob = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clip(1 - prob);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSf(n, x));
  const nxSquared = t * x;
  if (n <= 140) {
    if (nxSquared <= 0.754693) return clip(1 - kolmognDMTW(n, x));
    if (nxSquared <= 4) return clip(1 - kolmognPomeranz(n, x));
    return clip(2 * smirnovSf(n, x));
  }
  if (nxSquared >= 370) return 0;
  if (nxSquared >= 2.2) return clip(2 * smirnovSf(n, x));
  let cdf: number;
  if (nxSquared >= 18) cdf = 1;
  else if (n <= 100000 && n * x ** 1.5 <= 1.4) cdf = kolmognDMTW(n, x);
  else cdf = kolmognPelzGood(n, x);
  return clip(1 - cdf);
}

const STIRLING_COEFFS = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4, -5.952380952380952381e-4,
  7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
];

/** log(n!/nⁿ) by Stirling's series with n·log(n) taken out first (`_log_nfactorial_div_n_pow_n`). */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  for (const c of STIRLING_COEFFS) poly = poly * (rn / n) + c;
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + rn * poly;
}

const E128 = 128;
const EP128 = 2 ** 128;
const EM128 = 2 ** -128;

function matmul(a: Float64Array, b: Float64Array, size: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let k = 0; k < size; k++) {
      const aik = a[i * size + k];
      if (aik === 0) continue;
      for (let j = 0; j < size; j++) out[i * size + j] += aik * b[k * size + j];
    }
  }
  return out;
}

/** `_kolmogn_DMTW`: Pr(Dₙ ≤ d) as the k-th diagonal entry of Durbin's matrix to the n-th power, scaled as it grows. */
export function kolmognDMTW(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  let hm = new Float64Array(m * m);
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) hm[r * m + i] = w[r - i + 1];
  for (let r = 0; r < m; r++) hm[r * m] = v[r];
  for (let c = 0; c < m; c++) hm[(m - 1) * m + c] = v[m - 1 - c];
  let pwr = new Float64Array(m * m);
  for (let i = 0; i < m; i++) pwr[i * m + i] = 1;
  let nn = n;
  let expnt = 0;
  let hExpnt = 0;
  while (nn > 0) {
    if (nn % 2 === 1) {
      pwr = matmul(pwr, hm, m);
      expnt += hExpnt;
    }
    hm = matmul(hm, hm, m);
    hExpnt *= 2;
    if (Math.abs(hm[(k - 1) * m + (k - 1)]) > EP128) {
      for (let i = 0; i < hm.length; i++) hm[i] /= EP128;
      hExpnt += E128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = pwr[(k - 1) * m + (k - 1)];
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= EP128;
      expnt -= E128;
    }
  }
  if (expnt !== 0) p = p * 2 ** expnt;
  return clip(p);
}

function pomeranzJ1J2(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const ip1div2 = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Python's a[start:stop] for start, stop ≥ −len (negative counts from the end), clipped to the array. */
function pySlice(a: Float64Array, start: number, stop: number): Float64Array {
  const len = a.length;
  const s = Math.min(Math.max(start < 0 ? start + len : start, 0), len);
  const e = Math.min(Math.max(stop < 0 ? stop + len : stop, 0), len);
  return a.slice(s, Math.max(s, e));
}

/** `_kolmogn_Pomeranz`: Pr(Dₙ ≤ x) by Pomeranz's recursion, two rows of Poisson convolutions, scaled as they shrink. */
export function kolmognPomeranz(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = twogpower[0] = onem2gpower[0] = 1;
  let expnt = 0;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let k = 1; k < npwrs; k++) {
    gpower[k] = (gpower[k - 1] * gOverN) / k;
    twogpower[k] = (twogpower[k - 1] * twoGOverN) / k;
    onem2gpower[k] = (onem2gpower[k - 1] * oneMinusTwoGOverN) / k;
  }
  let v0 = new Float64Array(npwrs);
  let v1 = new Float64Array(npwrs);
  v1[0] = 1;
  let v0s = 0;
  let v1s = 0;
  let [j1, j2] = pomeranzJ1J2(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [v0, v1] = [v1, v0];
    [v0s, v1s] = [v1s, v0s];
    v1.fill(0);
    [j1, j2] = pomeranzJ1J2(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 === 1 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      const conv = convolve(pySlice(v0, k1 - v0s, k1 - v0s + ln2), pwrs.subarray(0, Math.min(ln2, npwrs)));
      const used = pySlice(conv, j1 - k1, j1 - k1 + (j2 - j1 + 1));
      v1.set(used.subarray(0, Math.min(used.length, npwrs)));
      let max = -Infinity;
      for (const value of v1) if (value > max) max = value;
      if (max > 0 && max < EM128) {
        for (let k = 0; k < npwrs; k++) v1[k] *= EP128;
        expnt -= E128;
      }
      v1s = v0s + j1 - k1;
    }
  }
  let ans = v1[n - v1s];
  for (let k = 1; k <= n; k++) {
    if (Math.abs(ans) > EP128) {
      ans *= EM128;
      expnt += E128;
    }
    ans *= k;
  }
  if (expnt !== 0) ans = ans * 2 ** expnt;
  return clip(ans);
}

/** numpy's full convolution. */
function convolve(a: Float64Array, b: Float64Array): Float64Array {
  if (a.length === 0 || b.length === 0) return new Float64Array(0);
  const out = new Float64Array(a.length + b.length - 1);
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) out[i + j] += a[i] * b[j];
  return out;
}

/** `_kolmogn_PelzGood`: Pelz and Good's series for Pr(Dₙ ≤ x), the Li-Chien/Korolyuk expansion made fit for small x. */
export function kolmognPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z ** 2;
  const z3 = z ** 3;
  const z4 = z ** 4;
  const z6 = z ** 6;
  const pi2 = Math.PI ** 2;
  const pi4 = Math.PI ** 4;
  const pi6 = Math.PI ** 6;
  const qlog = -pi2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = pi2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * pi2) / 4;
  const k2c = (pi4 * (1 - 2 * z2)) / 16;
  const k3d = (pi6 * (5 - 30 * z2)) / 64;
  const k3c = (pi4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (pi2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const k = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let kk = maxk; kk > 0; kk--) {
    const m = 2 * kk - 1;
    const m2 = m ** 2;
    const m4 = m ** 4;
    const m6 = m ** 6;
    const qpower = q ** (8 * kk);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) k[i] = k[i] * qpower + coeffs[i];
  }
  const sqrt2pi = Math.sqrt(2 * Math.PI);
  const divisors = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) k[i] = (k[i] * q * sqrt2pi) / divisors[i];
  q = Math.exp(-pi2 / 2 / z2);
  const sqrt3z = Math.sqrt(3) * z;
  let k2extra = 0;
  let k3extra = 0;
  for (let kk = maxk; kk > 0; kk--) {
    const ksq = kk ** 2;
    const qp = q ** ksq;
    const kspi = Math.PI * kk;
    k2extra += ksq * qp;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp;
  }
  k[2] += k2extra * ((pi2 * sqrt2pi) / (-36 * z3));
  k[3] += k3extra * ((pi2 * sqrt2pi) / (216 * z6));
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += k[i] / n ** (i / 2);
  return sum;
}

/** Dekker's exact product: a·b = p + e. */
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  const split = (v: number): [number, number] => {
    const c = 134217729 * v;
    const hi = c - (c - v);
    return [hi, v - hi];
  };
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

// cephes MINLOG with denormals: log(2^-1074).
const MINLOG = -7.451332191019412076235e2;

/**
 * `smirnov(n, x)`: P(Dₙ⁺ > x) for the one-sided statistic, by Smirnov's (Birnbaum–Tingey's) lower sum
 * x·Σ C(n, j)(1 − x − j/n)^(n−j)(x + j/n)^(j−1) over j ≤ n(1 − x), with cephes' closed forms at the ends and its
 * early stop. `_kolmogn` calls it only where cephes sums the lower series (x above ~1.48/√n).
 */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const [nxHi, nxLo] = twoProduct(n, x);
  let nxfl = Math.floor(nxHi);
  let alpha = nxHi - nxfl + nxLo;
  if (alpha < 0) {
    nxfl -= 1;
    alpha += 1;
  }
  if (alpha >= 1) {
    nxfl += 1;
    alpha = 0;
  }
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) return clip(1 - x * (1 + x) ** (n - 1));
  if (-2 * n * x * x < MINLOG) return 0;
  if (nxfl >= n - 1) return clip((1 - x) ** n);
  if (n > 1_000_000) return clip(Math.exp(-((6 * n * x + 1) ** 2) / 18 / n));
  const nTerms = n - nxfl; // j runs to n(1 − x), less the zero term when n·x is whole
  // Term 0 is (1 − x)ⁿ/x; C(n, j) is carried as a mantissa and a power of two so it never overflows.
  let sum = (1 - x) ** n / x;
  let cman = n;
  let cexp = 0;
  const vmid = Math.floor(n / 2);
  for (let j = 1; j < nTerms; j++) {
    const low = (n - j - nxHi - nxLo) / n; // 1 − x − j/n
    const high = (j + nxHi + nxLo) / n; // x + j/n
    const logA = Math.log(cman) + cexp * Math.LN2 + (n - j) * Math.log(low) + (j - 1) * Math.log(high);
    const aj = Math.exp(logA);
    if (Number.isFinite(aj)) sum += aj;
    if (aj !== 0) {
      if (4 * (nTerms - j) * Math.abs(aj) < Number.EPSILON * sum && j !== nTerms - 1) break;
    } else if (j > vmid) break;
    cman *= (n - j) / (j + 1);
    if (cman > 2 ** 512) {
      cman /= 2 ** 512;
      cexp += 512;
    } else if (cman < 2 ** -512) {
      cman *= 2 ** 512;
      cexp -= 512;
    }
  }
  return clip(x * sum);
}

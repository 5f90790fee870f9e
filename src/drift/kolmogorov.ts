/**
 * The Kolmogorov–Smirnov distributions scipy's `ks_2samp` uses, so p-values equal scipy's:
 *  - `kstwoSf(d, n)`: scipy.stats.kstwo.sf (Simard & L'Ecuyer's selection among Ruben–Gambino, Durbin's
 *    matrix (Marsaglia–Tsang–Wang), Pomeranz, Pelz–Good and the exact Smirnov sum), the asymptotic path;
 *  - `ks2Exact(n1, n2, d)`: the exact two-sample path (Hodges' lattice-path counts; for n1 ≠ n2 the "inside"
 *    recursion for 1 − p of Viehmann 2021, arXiv:2102.08037).
 * The algorithms follow scipy 1.10 (`stats/_ksstats.py`, `stats/_stats_py.py`, `special/cephes/kolmogorov.c`);
 * the Smirnov sum is evaluated in logarithms instead of cephes' double-double (agreement ~1e-12 relative).
 */
import * as DDm from './double-double.ts';
import type { DD } from './double-double.ts';

const E128 = 2 ** 128;
const EM128 = 2 ** -128;
const SQRT2PI = Math.sqrt(2 * Math.PI);
const LOG_2PI = Math.log(2 * Math.PI);
const MIN_LOG = -708;
const CEPHES_MINLOG = -7.08396418532264106224e2;
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
const SQRT3 = Math.sqrt(3);
const EPS = 2 ** -52;
const STIRLING = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4, -5.952380952380952381e-4,
  7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
];

const clip = (p: number) => (p < 0 ? 0 : p > 1 ? 1 : p);

/** x · 2^e without overflowing or underflowing on the way. */
export function ldexp(x: number, e: number): number {
  let out = x;
  let left = e;
  while (left > 1000) {
    out *= 2 ** 1000;
    left -= 1000;
  }
  while (left < -1000) {
    out *= 2 ** -1000;
    left += 1000;
  }
  return out * 2 ** left;
}

/** numpy's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

function logNFactorialDivNPowN(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  for (const c of STIRLING) poly = poly * (rn / n) + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

// ------------------------------------------------------------------ Durbin matrix (MTW)

function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j]! += aik * b[k * m + j]!;
    }
  }
  return out;
}

/** Pr(D_n ≤ d) by Durbin's matrix, as Marsaglia, Tsang and Wang (2003) compute it. */
function kolmogornDMTW(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Float64Array<ArrayBuffer> = new Float64Array(m * m);
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    v[j - 1] = 1 - h ** j;
    w[j - 1] = fac;
    fac /= j;
    v[j - 1]! *= fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - i + 1]!;
  for (let r = 0; r < m; r++) H[r * m] = v[r]!;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c]!;
  let power: Float64Array<ArrayBuffer> = new Float64Array(m * m);
  for (let i = 0; i < m; i++) power[i * m + i] = 1;
  let nn = n;
  let expnt = 0;
  let hExpnt = 0;
  while (nn > 0) {
    if (nn % 2) {
      power = matmul(power, H, m);
      expnt += hExpnt;
    }
    H = matmul(H, H, m);
    hExpnt *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)]!) > E128) {
      for (let i = 0; i < H.length; i++) H[i]! /= E128;
      hExpnt += 128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = power[(k - 1) * m + (k - 1)]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= E128;
      expnt -= 128;
    }
  }
  if (expnt !== 0) p = ldexp(p, expnt);
  return clip(p);
}

// ------------------------------------------------------------------ Pomeranz

function pomeranzJ1J2(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const half = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = half - 1 - ll - roundf - 1;
        j2 = half + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Pr(D_n ≤ x) by Pomeranz's recursion (1974). */
function kolmogornPomeranz(n: number, x: number): number {
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
  const a = g / n;
  const b = (2 * g) / n;
  const c = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1]! * a) / m;
    twogpower[m] = (twogpower[m - 1]! * b) / m;
    onem2gpower[m] = (onem2gpower[m - 1]! * c) / m;
  }
  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let expnt = 0;
  let [j1, j2] = pomeranzJ1J2(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = pomeranzJ1J2(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      const start = k1 - V0s;
      const len = Math.max(0, Math.min(ln2, npwrs - start));
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      // The full convolution of V0[start : start+len] with pwrs[0 : ln2], entries convStart … convStart+convLen-1.
      for (let r = 0; r < convLen; r++) {
        const idx = convStart + r;
        let sum = 0;
        for (let q = Math.max(0, idx - ln2 + 1); q <= Math.min(idx, len - 1); q++) sum += V0[start + q]! * pwrs[idx - q]!;
        V1[r] = sum;
      }
      let max = 0;
      for (let r = 0; r < npwrs; r++) if (V1[r]! > max) max = V1[r]!;
      if (max > 0 && max < EM128) {
        for (let r = 0; r < npwrs; r++) V1[r]! *= E128;
        expnt -= 128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s]!;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > E128) {
      ans *= EM128;
      expnt += 128;
    }
    ans *= m;
  }
  if (expnt !== 0) ans = ldexp(ans, expnt);
  return clip(ans);
}

// ------------------------------------------------------------------ Pelz–Good

/** Pelz–Good's approximation to Pr(D_n ≤ x) (1976). */
function kolmogornPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z ** 2;
  const z3 = z ** 3;
  const z4 = z ** 4;
  const z6 = z ** 6;
  const qlog = -PI2 / 8 / z2;
  if (qlog < MIN_LOG) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m ** 2;
    const m4 = m ** 4;
    const m6 = m ** 6;
    const qpower = q ** (8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i]! * qpower + coeffs[i]!;
  }
  const div = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i]! * q * SQRT2PI) / div[i]!;
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = SQRT3 * z;
  for (let k = maxk; k > 0; k--) {
    const ksq = k ** 2;
    const qp = q ** ksq;
    k2extra += ksq * qp;
    const kspi = Math.PI * k;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp;
  }
  K[2] = K[2]! + k2extra * ((PI2 * SQRT2PI) / (-36 * z3));
  K[3] = K[3]! + k3extra * ((PI2 * SQRT2PI) / (216 * z6));
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += K[i]! / n ** (i / 2);
  return sum;
}

// ------------------------------------------------------------------ Smirnov (one-sided, exact sum)

/** n·x as an exact double-double, with its floor and fractional part. */
function productParts(n: number, x: number): { nx: DD; floor: number; alpha: number } {
  const nx = DDm.mul(DDm.dd(n), DDm.dd(x));
  let fl = Math.floor(nx[0]);
  let alpha: number;
  if (fl === nx[0]) {
    const f2 = Math.floor(nx[1]);
    fl += f2;
    alpha = nx[1] - f2;
  } else alpha = nx[0] - fl + nx[1];
  if (alpha < 0) {
    fl -= 1;
    alpha += 1;
  }
  if (alpha >= 1) {
    fl += 1;
    alpha -= 1;
  }
  return { nx, floor: fl, alpha };
}

// The Smirnov sum's inner loop runs up to a million times per p-value: its double-double steps are written
// on scalars (results in RH/RL) so that nothing is allocated per term.
let RH = 0;
let RL = 0;

/** (ah + al) + (bh + bl) → RH + RL */
function ddAdd(ah: number, al: number, bh: number, bl: number): void {
  let s = ah + bh;
  let bb = s - ah;
  let e = ah - (s - bb) + (bh - bb);
  const t = al + bl;
  bb = t - al;
  const f = al - (t - bb) + (bl - bb);
  e += t;
  let h = s + e;
  e = e - (h - s);
  e += f;
  s = h + e;
  RL = e - (s - h);
  RH = s;
}

/** (ah + al) · b for a double b → RH + RL */
function ddMulD(ah: number, al: number, b: number): void {
  const p = ah * b;
  let t = 134217729 * ah;
  const xh = t - (t - ah);
  const xl = ah - xh;
  t = 134217729 * b;
  const yh = t - (t - b);
  const yl = b - yh;
  const e = xh * yh - p + xh * yl + xl * yh + xl * yl + al * b;
  RH = p + e;
  RL = e - (RH - p);
}

/**
 * log(M) for M = start, start + step, start + 2·step, …: each step adds log1p(step/M) with the quotient
 * in double-double, so the logarithm keeps ~1e-20 absolute precision over a million steps.
 */
/** (−1)^(k+1)/k: the coefficients of log1p after its first term. */
const LOG1P_TAIL = Array.from({ length: 16 }, (_, k) => (k < 2 ? 0 : (k % 2 === 0 ? -1 : 1) / k));

class LogWalk {
  mh: number;
  ml: number;
  lh: number;
  ll: number;
  private readonly step: number;
  constructor(start: DD, step: number) {
    [this.mh, this.ml] = start;
    [this.lh, this.ll] = DDm.log(start);
    this.step = step;
  }
  next(): void {
    const s = this.step;
    const mh = this.mh;
    const ml = this.ml;
    // u = s / M in double-double: uh = s/mh, ul = (s − uh·M)/mh with uh·mh exact (Dekker).
    const uh = s / mh;
    ddMulD(mh, ml, uh);
    const ul = (s - RH - RL) / mh;
    ddAdd(mh, ml, s, 0);
    this.mh = RH;
    this.ml = RL;
    if (Math.abs(uh) > 1 / 64) {
      [this.lh, this.ll] = DDm.log([this.mh, this.ml]);
      return;
    }
    // log1p(u) = u − u²/2 + u³/3 − …: the tail after u in plain doubles (its error is ~1e-16·u²).
    const a = Math.abs(uh);
    const top = a < 1e-6 ? 4 : a < 1e-4 ? 6 : a < 1e-2 ? 11 : 15;
    let rest = 0;
    for (let k = top; k >= 2; k--) rest = rest * uh + LOG1P_TAIL[k]!;
    ddAdd(this.lh, this.ll, uh, ul + rest * uh * uh);
    this.lh = RH;
    this.ll = RL;
  }
}

/** exp(th + tl) as a double (0 below ~1e-323). */
function expDD(th: number, tl: number): number {
  const k = Math.round(th / Math.LN2);
  ddMulD(DDm.LN2[0], DDm.LN2[1], -k);
  ddAdd(th, tl, RH, RL);
  const e = Math.exp(RH) * (1 + RL);
  return k > -1000 && k < 1000 ? e * 2 ** k : ldexp(e, k);
}

/** Pr(D+_n ≥ x), the one-sided statistic's survival function (scipy.special.smirnov). */
export function smirnov(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const parts = productParts(n, x);
  let nxfl = parts.floor;
  let alpha = parts.alpha;
  if (alpha === 1) {
    nxfl += 1;
    alpha = 0;
  }
  let n1mxfl = n - nxfl - (alpha === 0 ? 0 : 1);
  if (alpha === 0) n1mxfl -= 1;
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) {
    const l = DDm.mul(DDm.dd(n - 1), DDm.log(DDm.add(DDm.dd(1), DDm.dd(x))));
    return 1 - x * expDD(l[0], l[1]);
  }
  if (-2 * n * x * x < CEPHES_MINLOG) return 0;
  if (nxfl >= n - 1) {
    const l = DDm.mul(DDm.dd(n), DDm.log(DDm.sub(DDm.dd(1), DDm.dd(x))));
    return expDD(l[0], l[1]);
  }
  if (n > 1_000_000) {
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    return logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp);
  }
  // Lower sum: sf = x · Σ_{v=0}^{nTerms-1} C(n,v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v), with
  // log(x + v/n) = log(n·x + v) − log n and log(1 − x − v/n) = log(n − n·x − v) − log n walked in double-double.
  const nTerms = n1mxfl + 1;
  const vmid = Math.floor(n / 2);
  const logN = DDm.log(DDm.dd(n));
  const up = new LogWalk(parts.nx, 1);
  const down = new LogWalk(DDm.sub(DDm.dd(n), parts.nx), -1);
  // log C(n, v) = Σ_{i<v} log(n − i) − log(i + 1)
  const top = new LogWalk(DDm.dd(n), -1);
  const bottom = new LogWalk(DDm.dd(1), 1);
  let ch = 0;
  let cl = 0;
  const [nh, nl] = logN;
  let sum = 0;
  let comp = 0;
  for (let v = 0; v < nTerms; v++) {
    // log A_v = (v − 1)·(log(nx + v) − log n) + (n − v)·(log(n − nx − v) − log n) + log C(n, v)
    ddAdd(up.lh, up.ll, -nh, -nl);
    ddMulD(RH, RL, v - 1);
    const t1h = RH;
    const t1l = RL;
    ddAdd(down.lh, down.ll, -nh, -nl);
    ddMulD(RH, RL, n - v);
    ddAdd(RH, RL, t1h, t1l);
    ddAdd(RH, RL, ch, cl);
    const a = expDD(RH, RL);
    if (Number.isFinite(a) && a !== 0) {
      const t = sum + a;
      comp += Math.abs(sum) >= Math.abs(a) ? sum - t + a : a - t + sum;
      sum = t;
    }
    if (v > 0) {
      if (a !== 0) {
        if (4 * (nTerms - v) * Math.abs(a) < EPS * (sum + comp) && v !== nTerms - 1) break;
      } else if (v > vmid) break;
    }
    if (v + 1 >= nTerms) break;
    ddAdd(top.lh, top.ll, -bottom.lh, -bottom.ll);
    ddAdd(ch, cl, RH, RL);
    ch = RH;
    cl = RL;
    up.next();
    down.next();
    top.next();
    bottom.next();
  }
  return clip(x * (sum + comp));
}

// ------------------------------------------------------------------ kstwo.sf

/** scipy.stats.kstwo.sf(x, n): Pr(D_n > x) for the two-sided one-sample statistic with n observations. */
export function kstwoSf(x: number, n: number): number {
  if (Number.isNaN(x) || Number.isNaN(n)) return Number.NaN;
  if (!Number.isInteger(n) || n <= 0) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1);
    } else prob = Math.exp(logNFactorialDivNPowN(n) + n * Math.log(2 * t - 1));
    return clip(1 - prob);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnov(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 0.754693) return clip(1 - kolmogornDMTW(n, x));
    if (nx2 <= 4) return clip(1 - kolmogornPomeranz(n, x));
    return clip(2 * smirnov(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip(2 * smirnov(n, x));
  const cdf = n <= 100_000 && n * x ** 1.5 <= 1.4 ? kolmogornDMTW(n, x) : kolmogornPelzGood(n, x);
  return clip(1 - clip(cdf));
}

// ------------------------------------------------------------------ two-sample exact

/** Pr(D_{n,n} ≥ h/n) for two samples of equal size n. */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
    k -= 1;
  }
  return 2 * P;
}

/** 1 − the share of lattice paths staying strictly inside |x/m − y/n| < h/lcm (Viehmann's recursion). */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 < n0 ? [n0, m0] : [m0, n0];
  const mg = Math.floor(m / g);
  const ng = Math.floor(n / g);
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(Math.max(lenA, n + 2)).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1]!;
}

export interface KsProbability {
  /** The statistic as scipy returns it (on the exact path, rounded to a multiple of 1/lcm(n1, n2)). */
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymp';
}

/** ks_2samp's exact p-value; undefined when it cannot be computed (scipy then falls back to asymp). */
export function ks2Exact(n1: number, n2: number, d: number): { statistic: number; pValue: number } | undefined {
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const statistic = h / lcm;
  if (h === 0) return { statistic, pValue: 1 };
  const p = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
  if (!(p >= 0 && p <= 1)) return undefined;
  return { statistic, pValue: p };
}

/** ks_2samp's asymptotic two-sided p-value: kstwo.sf(d, round(m·n/(m+n))). */
export function ks2Asymptotic(n1: number, n2: number, d: number): number {
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const en = (m * n) / (m + n);
  return clip(kstwoSf(d, roundHalfEven(en)));
}

/** ks_2samp's p-value with method='auto': exact when both samples have at most 10,000 values. */
export function ks2Probability(n1: number, n2: number, d: number, exactAllowed: boolean): KsProbability {
  if (exactAllowed && Math.max(n1, n2) <= 10_000) {
    const exact = ks2Exact(n1, n2, d);
    if (exact) return { statistic: exact.statistic, pValue: clip(exact.pValue), method: 'exact' };
  }
  return { statistic: d, pValue: ks2Asymptotic(n1, n2, d), method: 'asymp' };
}

/**
 * Drift statistics, each defined as scipy (or numpy, for PSI) computes it, so the numbers can be checked
 * against scipy on the same data:
 *
 *  - KS: scipy.stats.ks_2samp (two-sided, method='auto'), against an exact reference (values with counts)
 *    or, on a profile, against the reference's quantile grid (the CDF interpolated linearly between grid
 *    points), with the asymptotic p-value;
 *  - Wasserstein-1: scipy.stats.wasserstein_distance, exact or against the grid (the L1 distance between
 *    the quantile functions); normed by the reference's population std as Evidently does;
 *  - PSI: Σ (a − e)·ln(a/e) over the reference bins, shares below `epsilon` raised to `epsilon`;
 *  - Jensen–Shannon distance: scipy.spatial.distance.jensenshannon(p, q, base=2), no smoothing;
 *  - chi-square: scipy.stats.chi2_contingency on the 2×k table (reference, current), Yates' correction
 *    when k = 2 as scipy does by default.
 *
 * Numeric inputs are sorted arrays of finite values; callers drop NaN, ±inf and nulls first.
 */
import { chi2Sf } from './gamma.ts';
import { ks2Probability, type KsProbability } from './kolmogorov.ts';
import { sortFloat64 } from './sort.ts';

/** A multiset of finite values: distinct values ascending, each with its count. */
export interface ValueCounts {
  values: ArrayLike<number>;
  counts: ArrayLike<number>;
}

/** Compensated (Neumaier) summation. */
export class Sum {
  private s = 0;
  private c = 0;
  add(x: number): void {
    const t = this.s + x;
    this.c += Math.abs(this.s) >= Math.abs(x) ? this.s - t + x : x - t + this.s;
    this.s = t;
  }
  get value(): number {
    return this.s + this.c;
  }
}

/** Distinct values and counts of a sorted array. */
export function valueCounts(sorted: ArrayLike<number>): { values: Float64Array; counts: Float64Array } {
  const values: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < sorted.length; ) {
    const v = sorted[i]!;
    let j = i + 1;
    while (j < sorted.length && sorted[j] === v) j++;
    values.push(v);
    counts.push(j - i);
    i = j;
  }
  return { values: Float64Array.from(values), counts: Float64Array.from(counts) };
}

function total(counts: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i]!;
  return n;
}

// ------------------------------------------------------------------ Kolmogorov–Smirnov

/** sup |F_ref − F_cur| over the pooled values, both ECDFs right-continuous (ks_2samp's statistic). */
export function ksStatistic(reference: ValueCounts, current: Float64Array): number {
  const n1 = total(reference.counts);
  const n2 = current.length;
  const { values: u, counts: cu } = reference;
  let i = 0;
  let j = 0;
  let c1 = 0;
  let c2 = 0;
  let max = -Infinity;
  let min = Infinity;
  while (i < u.length || j < n2) {
    const x = j >= n2 || (i < u.length && u[i]! <= current[j]!) ? u[i]! : current[j]!;
    while (i < u.length && u[i] === x) c1 += cu[i++]!;
    while (j < n2 && current[j] === x) {
      c2++;
      j++;
    }
    const diff = c1 / n1 - c2 / n2;
    if (diff > max) max = diff;
    if (diff < min) min = diff;
  }
  const minS = Math.min(Math.max(-min, 0), 1);
  return minS > max ? minS : max;
}

/** The KS test of an exact reference against the current sample, with scipy's auto method. */
export function ksTest(reference: ValueCounts, current: Float64Array): KsProbability {
  const d = ksStatistic(reference, current);
  return ks2Probability(total(reference.counts), current.length, d, true);
}

/** scipy.stats.ks_2samp(data1, data2) on raw arrays (NaN-free). */
export function ks2samp(data1: ArrayLike<number>, data2: ArrayLike<number>): KsProbability {
  const a = sortFloat64(Float64Array.from(data1));
  const b = sortFloat64(Float64Array.from(data2));
  if (a.length === 0 || b.length === 0) throw new RangeError('ks_2samp needs two non-empty samples');
  return ksTest(valueCounts(a), b);
}

/**
 * The reference CDF a quantile grid stands for: grid point k (of G) is the k/(G−1) quantile, and the CDF is
 * linear between grid points. `at(x)` is F(x), `below(x)` the left limit F(x−); both advance a cursor, so
 * calls must come with non-decreasing x.
 */
class GridCdf {
  private k = 0;
  private readonly q: ArrayLike<number>;
  private readonly last: number;
  constructor(q: ArrayLike<number>) {
    this.q = q;
    this.last = q.length - 1;
  }
  /** F(x): the largest k with q_k ≤ x, interpolated towards q_{k+1}. */
  at(x: number): number {
    const q = this.q;
    if (x < q[0]!) return 0;
    if (x >= q[this.last]!) return 1;
    while (this.k + 1 <= this.last && q[this.k + 1]! <= x) this.k++;
    const k = this.k;
    return (k + (x - q[k]!) / (q[k + 1]! - q[k]!)) / this.last;
  }
  /** F(x−): the largest k with q_k < x, interpolated towards q_{k+1} ≥ x. */
  below(x: number): number {
    const q = this.q;
    if (x <= q[0]!) return 0;
    if (x > q[this.last]!) return 1;
    let k = Math.min(this.k, this.last);
    while (k > 0 && q[k]! >= x) k--;
    while (k + 1 <= this.last && q[k + 1]! < x) k++;
    return (k + (x - q[k]!) / (q[k + 1]! - q[k]!)) / this.last;
  }
}

/** sup |F_grid − F_cur|, F_grid the CDF interpolated through the reference quantile grid. */
export function ksStatisticGrid(quantiles: ArrayLike<number>, current: Float64Array): number {
  const m = current.length;
  const cdf = new GridCdf(quantiles);
  let d = 0;
  for (let j = 0; j < m; ) {
    const x = current[j]!;
    const before = j / m;
    const below = cdf.below(x);
    if (below - before > d) d = below - before;
    while (j < m && current[j] === x) j++;
    const after = j / m;
    const at = cdf.at(x);
    if (after - at > d) d = after - at;
  }
  return d;
}

/** KS against a profile's quantile grid: the grid statistic with ks_2samp's asymptotic p-value. */
export function ksTestGrid(quantiles: ArrayLike<number>, referenceCount: number, current: Float64Array): KsProbability {
  const d = ksStatisticGrid(quantiles, current);
  return ks2Probability(referenceCount, current.length, d, false);
}

// ------------------------------------------------------------------ Wasserstein-1

/** scipy.stats.wasserstein_distance(u, v, u_weights=counts): Σ |U − V|·Δx over the pooled values. */
export function wasserstein(reference: ValueCounts, current: Float64Array): number {
  const n1 = total(reference.counts);
  const n2 = current.length;
  const { values: u, counts: cu } = reference;
  let i = 0;
  let j = 0;
  let c1 = 0;
  let c2 = 0;
  const sum = new Sum();
  let prev = Number.NaN;
  let prevDiff = 0;
  while (i < u.length || j < n2) {
    const x = j >= n2 || (i < u.length && u[i]! <= current[j]!) ? u[i]! : current[j]!;
    if (!Number.isNaN(prev)) sum.add(Math.abs(prevDiff) * (x - prev));
    while (i < u.length && u[i] === x) c1 += cu[i++]!;
    while (j < n2 && current[j] === x) {
      c2++;
      j++;
    }
    prevDiff = c1 / n1 - c2 / n2;
    prev = x;
  }
  return sum.value;
}

/** ∫₀¹ |Q_grid(u) − Q_cur(u)| du, Q_grid linear between grid points, Q_cur the current's step quantile function. */
export function wassersteinGrid(quantiles: ArrayLike<number>, current: Float64Array): number {
  const G = quantiles.length - 1;
  const m = current.length;
  if (G === 0) {
    const s = new Sum();
    for (let i = 0; i < m; i++) s.add(Math.abs(current[i]! - quantiles[0]!));
    return s.value / m;
  }
  // Positions in units of 1/(m·G): grid point k sits at k·m, the end of current value i (1-based) at i·G.
  const L = m * G;
  const sum = new Sum();
  let k = 0;
  let i = 1;
  let pos = 0;
  const qAt = (p: number) => {
    const q0 = quantiles[k]!;
    const q1 = quantiles[k + 1]!;
    return q0 + ((q1 - q0) * (p - k * m)) / m;
  };
  while (pos < L) {
    const next = Math.min((k + 1) * m, i * G);
    const c = current[i - 1]!;
    const a = qAt(pos) - c;
    const b = qAt(next) - c;
    const width = (next - pos) / L;
    if ((a >= 0 && b >= 0) || (a <= 0 && b <= 0)) sum.add((width * Math.abs(a + b)) / 2);
    else sum.add((width * (a * a + b * b)) / (2 * (Math.abs(a) + Math.abs(b))));
    pos = next;
    if (pos === (k + 1) * m && k < G - 1) k++;
    if (pos === i * G) i++;
  }
  return sum.value;
}

/** Evidently's normed Wasserstein: W1 / max(std_ref, 0.001), std the population standard deviation. */
export function normedWasserstein(distance: number, referenceStd: number): number {
  return distance / Math.max(referenceStd, 0.001);
}

// ------------------------------------------------------------------ binned: PSI, Jensen–Shannon

/** Counts of a sorted sample in right-closed bins (−∞, e0], (e0, e1], …, (e_last, ∞). */
export function binCounts(sorted: Float64Array, edges: ArrayLike<number>): Float64Array {
  const out = new Float64Array(edges.length + 1);
  let b = 0;
  for (let i = 0; i < sorted.length; i++) {
    const x = sorted[i]!;
    while (b < edges.length && x > edges[b]!) b++;
    out[b]!++;
  }
  return out;
}

export function shares(counts: ArrayLike<number>): Float64Array {
  const n = total(counts);
  const out = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) out[i] = n > 0 ? counts[i]! / n : 0;
  return out;
}

/** Population Stability Index: Σ (a − e)·ln(a/e), a the current and e the reference shares, each at least epsilon. */
export function psi(reference: ArrayLike<number>, current: ArrayLike<number>, epsilon: number): number {
  const sum = new Sum();
  for (let i = 0; i < reference.length; i++) {
    const e = Math.max(reference[i]!, epsilon);
    const a = Math.max(current[i]!, epsilon);
    sum.add((a - e) * Math.log(a / e));
  }
  return sum.value;
}

function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

/** scipy.spatial.distance.jensenshannon(p, q, base): p and q are normalised first. */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>, base = 2): number {
  const sp = total(p);
  const sq = total(q);
  const left = new Sum();
  const right = new Sum();
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! / sp;
    const qi = q[i]! / sq;
    const m = (pi + qi) / 2;
    left.add(relEntr(pi, m));
    right.add(relEntr(qi, m));
  }
  const js = (left.value + right.value) / Math.log(base);
  return Math.sqrt(Math.max(js, 0) / 2);
}

// ------------------------------------------------------------------ chi-square

export interface ChiSquare {
  statistic: number;
  pValue: number;
  dof: number;
}

/** scipy.stats.chi2_contingency([reference, current]) for counts over the same categories (correction=True). */
export function chi2Contingency(reference: ArrayLike<number>, current: ArrayLike<number>): ChiSquare {
  const k = reference.length;
  const r0 = total(reference);
  const r1 = total(current);
  const all = r0 + r1;
  const cols = new Float64Array(k);
  for (let j = 0; j < k; j++) cols[j] = reference[j]! + current[j]!;
  for (let j = 0; j < k; j++) {
    if (cols[j] === 0 || r0 === 0 || r1 === 0) throw new RangeError('chi2_contingency: a row or column of the table is all zero');
  }
  const dof = k - 1;
  if (dof === 0) return { statistic: 0, pValue: 1, dof };
  const sum = new Sum();
  for (let row = 0; row < 2; row++) {
    const counts = row === 0 ? reference : current;
    const rowSum = row === 0 ? r0 : r1;
    for (let j = 0; j < k; j++) {
      const expected = (rowSum * cols[j]!) / all;
      let observed = counts[j]!;
      if (dof === 1) {
        const diff = expected - observed;
        observed += Math.sign(diff) * Math.min(0.5, Math.abs(diff));
      }
      sum.add((observed - expected) ** 2 / expected);
    }
  }
  const statistic = sum.value;
  return { statistic, pValue: chi2Sf(statistic, dof), dof };
}

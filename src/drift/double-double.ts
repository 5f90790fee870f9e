/**
 * Double-double arithmetic (a value as hi + lo, ~106 bits): just what the Smirnov sum needs to evaluate
 * n·log(…) for n up to millions without losing the p-value's last digits. Dekker/Knuth error-free
 * transformations; no FMA is needed.
 */
export type DD = readonly [hi: number, lo: number];

const SPLITTER = 134217729; // 2^27 + 1

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return [s, b - (s - a)];
}

function twoProd(a: number, b: number): DD {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

export function dd(x: number): DD {
  return [x, 0];
}

export function add(a: DD, b: DD): DD {
  const [s, e0] = twoSum(a[0], b[0]);
  const [t, f] = twoSum(a[1], b[1]);
  const [s1, e1] = quickTwoSum(s, e0 + t);
  return quickTwoSum(s1, e1 + f);
}

export function neg(a: DD): DD {
  return [-a[0], -a[1]];
}

export function sub(a: DD, b: DD): DD {
  return add(a, neg(b));
}

export function mul(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return quickTwoSum(p, e + a[0] * b[1] + a[1] * b[0]);
}

export function div(a: DD, b: DD): DD {
  const q1 = a[0] / b[0];
  let r = sub(a, mul(dd(q1), b));
  const q2 = r[0] / b[0];
  r = sub(r, mul(dd(q2), b));
  const q3 = r[0] / b[0];
  return add(quickTwoSum(q1, q2), dd(q3));
}

/** ln 2 to ~106 bits. */
export const LN2: DD = [0.6931471805599453, 2.3190468138462996e-17];

/** The natural logarithm of a positive double-double, to ~1e-31 relative: k·ln2 + 2·atanh((m−1)/(m+1)). */
export function log(a: DD): DD {
  let k = Math.round(Math.log2(a[0]));
  let m: DD = [a[0] * 2 ** -k, a[1] * 2 ** -k];
  if (m[0] > Math.SQRT2) {
    k += 1;
    m = [m[0] / 2, m[1] / 2];
  } else if (m[0] < Math.SQRT1_2) {
    k -= 1;
    m = [m[0] * 2, m[1] * 2];
  }
  const s = div(sub(m, dd(1)), add(m, dd(1)));
  const s2 = mul(s, s);
  let term = s;
  let sum = s;
  for (let i = 3; i < 200; i += 2) {
    term = mul(term, s2);
    const t = div(term, dd(i));
    sum = add(sum, t);
    if (Math.abs(t[0]) < 1e-33 * Math.abs(sum[0])) break;
  }
  return add(mul(dd(k), LN2), [2 * sum[0], 2 * sum[1]]);
}

/** log1p(u) for a small double-double u (|u| ≤ 1/64): u plus the rest of the series in plain doubles. */
export function log1pSmall(u: DD): DD {
  const x = u[0];
  // −x²/2 + x³/3 − … ; its relative error ~1e-16 is ~1e-20 of log1p(u).
  let rest = 0;
  for (let k = 14; k >= 2; k--) rest = rest * x + (k % 2 === 0 ? -1 : 1) / k;
  return add(u, dd(rest * x * x));
}

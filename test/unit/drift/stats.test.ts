// Every drift statistic against scipy (Debian's python3-scipy 1.10) on the same numbers: fixed vectors and
// random data (normal, shifted, heavy-tailed, ties, constant, one row), both KS p-value paths, and the
// profile (quantile grid) path against scipy on the raw data. Parity: statistics to 1e-12 on exact data,
// p-values to 1e-10 relative.
import { beforeAll, describe, expect, it } from 'vitest';
import { chi2Sf } from '../../../src/drift/gamma.ts';
import { kstwoSf } from '../../../src/drift/kolmogorov.ts';
import { numericProfile, quantileGrid } from '../../../src/drift/profile.ts';
import { sortFloat64 } from '../../../src/drift/sort.ts';
import {
  binCounts,
  chi2Contingency,
  jensenShannon,
  ks2samp,
  ksStatisticGrid,
  ksTestGrid,
  normedWasserstein,
  psi,
  shares,
  valueCounts,
  wasserstein,
  wassersteinGrid,
} from '../../../src/drift/stats.ts';
import { close, sampler, scipy, type OracleAnswer } from '../../helpers/scipy.ts';

const STAT = 1e-12;
const P = 1e-10;
const sorted = (x: number[]) => sortFloat64(Float64Array.from(x));

interface Check {
  name: string;
  case: Record<string, unknown>;
  ours: () => number | number[];
  /** [rtol, atol] per component. */
  tol: [number, number][];
}

/** Runs every check's case through scipy in one process and compares component by component. */
function verify(checks: Check[]): string[] {
  const answers = scipy(checks.map((c) => c.case));
  const problems: string[] = [];
  checks.forEach((check, i) => {
    const want = answers[i] as OracleAnswer;
    if (typeof want === 'object' && !Array.isArray(want)) {
      problems.push(`${check.name}: scipy failed: ${want.error}`);
      return;
    }
    const w = Array.isArray(want) ? want : [want];
    const o = check.ours();
    const got = Array.isArray(o) ? o : [o];
    w.forEach((expected, k) => {
      const [rtol, atol] = check.tol[k] ?? check.tol[0]!;
      if (!close(got[k]!, expected, rtol, atol)) problems.push(`${check.name}[${k}]: ours ${got[k]} scipy ${expected} (rel ${(Math.abs(got[k]! - expected) / Math.abs(expected)).toExponential(2)})`);
    });
  });
  return problems;
}

describe('two-sample KS against scipy.stats.ks_2samp', () => {
  const s = sampler(11);
  const samples: [string, number[], number[]][] = [
    ['equal sizes, exact', s.normals(300), s.normals(300, 0.1)],
    ['unequal sizes, exact', s.normals(500), s.normals(700, 0.15)],
    ['small, exact', s.normals(7), s.normals(13, 1)],
    ['one row each', [0.5], [1.5]],
    ['one row against many', [0.25], s.normals(40)],
    ['ties', s.ties(2000), s.ties(1500, 0.1)],
    ['heavy tails', s.heavy(3000), s.heavy(2000)],
    ['constant against normal', Array(200).fill(1), s.normals(300, 1)],
    ['10,000 each: the largest exact', s.normals(10_000), s.normals(10_000, 0.03)],
    ['10,001 against 500: asymptotic', s.normals(10_001), s.normals(500, 0.1)],
    ['asymptotic, no drift', s.normals(30_000), s.normals(20_000)],
    ['asymptotic, shifted', s.normals(30_000), s.normals(20_000, 0.05)],
    ['asymptotic, heavy tails', s.heavy(40_000), s.heavy(15_000)],
    ['asymptotic, ties', s.ties(25_000), s.ties(12_000, 0.02)],
  ];
  let problems: string[];
  beforeAll(() => {
    problems = verify(
      samples.map(([name, a, b]) => ({
        name,
        case: { op: 'ks_2samp', a, b },
        ours: () => {
          const r = ks2samp(a, b);
          return [r.statistic, r.pValue];
        },
        tol: [
          [STAT, 1e-15],
          [P, 1e-300],
        ],
      })),
    );
  });
  it('equal statistic and p-value on every sample (exact and asymptotic paths)', () => {
    expect(problems).toEqual([]);
  });
  it('takes the exact path up to 10,000 values per sample and the asymptotic one beyond, as scipy', () => {
    const s2 = sampler(3);
    expect(ks2samp(s2.normals(10_000), s2.normals(10_000)).method).toBe('exact');
    expect(ks2samp(s2.normals(10_001), s2.normals(50)).method).toBe('asymp');
  });
  it('refuses an empty sample, as scipy does', () => {
    expect(() => ks2samp([], [1, 2])).toThrow(/non-empty/);
    const [answer] = scipy([{ op: 'ks_2samp', a: [], b: [1, 2] }]);
    expect(answer).toMatchObject({ error: expect.stringMatching(/empty/) });
  });
});

describe('kstwo.sf (the asymptotic p-value) against scipy on every branch', () => {
  const checks: Check[] = [];
  // n ≤ 140 (DMTW, Pomeranz, Smirnov), n > 140 (DMTW, Pelz–Good, Smirnov), t ≤ 1, t ≥ n − 1, x ≥ 0.5, n > 10⁶.
  for (const n of [2, 5, 17, 60, 140, 141, 400, 5000, 37_037, 100_000, 100_001, 400_000, 1_500_000]) {
    for (const z of [0.02, 0.4, 0.8, 1.1, 1.4, 1.9, 2.5, 4]) {
      const d = Math.min(0.999, z / Math.sqrt(n) + 0.4 / n);
      checks.push({ name: `n=${n} d=${d}`, case: { op: 'kstwo_sf', d, n }, ours: () => kstwoSf(d, n), tol: [[P, 1e-300]] });
    }
  }
  for (const [n, d] of [
    [10, 0.96],
    [10, 0.6],
    [300, 0.55],
    [50, 0.01],
    [1000, 0.0004],
  ] as const) {
    checks.push({ name: `n=${n} d=${d}`, case: { op: 'kstwo_sf', d, n }, ours: () => kstwoSf(d, n), tol: [[P, 1e-300]] });
  }
  it('equals scipy to 1e-10 relative', () => {
    expect(verify(checks)).toEqual([]);
  });
});

describe('Wasserstein-1 against scipy.stats.wasserstein_distance', () => {
  const s = sampler(5);
  const pairs: [string, number[], number[]][] = [
    ['docstring', [0, 1, 3], [5, 6, 8]],
    ['normal vs shifted', s.normals(2000), s.normals(3000, 0.2)],
    ['heavy tails', s.heavy(4000), s.heavy(1000)],
    ['ties', s.ties(3000), s.ties(2000, 0.3)],
    ['one row', [2], [5]],
    ['constant', Array(50).fill(3), s.normals(80, 3)],
  ];
  it('equals scipy (and the normed distance equals W / max(std_ref, 0.001))', () => {
    const checks: Check[] = [];
    for (const [name, u, v] of pairs) {
      checks.push({ name, case: { op: 'wasserstein', u, v }, ours: () => wasserstein(valueCounts(sorted(u)), sorted(v)), tol: [[STAT, 1e-15]] });
      checks.push({
        name: `${name} normed`,
        case: { op: 'wasserstein_normed', u, v },
        ours: () => {
          const p = numericProfile('u', u);
          return normedWasserstein(wasserstein(valueCounts(sorted(u)), sorted(v)), Math.sqrt(p.m2! / p.count));
        },
        tol: [[STAT, 1e-15]],
      });
    }
    // The weighted form the profile's exact values use: scipy with u_weights.
    checks.push({ name: 'weighted', case: { op: 'wasserstein', u: [1, 2, 4], v: [1.5, 2, 6, 7], uw: [3, 1, 2] }, ours: () => wasserstein({ values: [1, 2, 4], counts: [3, 1, 2] }, sorted([1.5, 2, 6, 7])), tol: [[STAT, 1e-15]] });
    expect(verify(checks)).toEqual([]);
  });
});

describe('Jensen–Shannon distance against scipy.spatial.distance.jensenshannon (base 2)', () => {
  it('equals scipy on the docstring vectors and random histograms', () => {
    const s = sampler(9);
    const hist = (k: number) => Array.from({ length: k }, () => Math.floor(s.uniform() * 100));
    const pairs: number[][][] = [
      [
        [1, 0],
        [0.5, 0.5],
      ],
      [
        [1, 0, 0],
        [0, 1, 0],
      ],
      [
        [1, 0, 0],
        [1, 0, 0],
      ],
      [hist(10), hist(10)],
      [hist(50), hist(50)],
      [[3, 0, 5, 0], [0, 2, 0, 9]],
    ];
    expect(verify(pairs.map(([p, q], i) => ({ name: `pair ${i}`, case: { op: 'jensenshannon', p, q, base: 2 }, ours: () => jensenShannon(p!, q!, 2), tol: [[STAT, 1e-15]] })))).toEqual([]);
    // The values the research notes measured, as a fixed anchor.
    expect(jensenShannon([1, 0], [0.5, 0.5], 2)).toBeCloseTo(0.5579230452841438, 14);
    expect(jensenShannon([1, 0, 0], [0, 1, 0], 2)).toBe(1);
  });
});

describe('chi-square against scipy.stats.chi2_contingency', () => {
  it('equals scipy for 2 categories (Yates), several, many, and a category new in the current window', () => {
    const s = sampler(21);
    const counts = (k: number, scale: number) => Array.from({ length: k }, () => 1 + Math.floor(s.uniform() * scale));
    const tables: [number[], number[]][] = [
      [
        [120, 80],
        [90, 110],
      ],
      [
        [10, 20, 30],
        [15, 15, 40],
      ],
      [counts(12, 500), counts(12, 500)],
      [counts(200, 1000), counts(200, 100)],
      // The last category is new: the reference has 0 of it; the statistic stays finite.
      [
        [400, 300, 300, 0],
        [380, 310, 250, 60],
      ],
      [
        [1_000_000, 2_000_000],
        [500, 1000],
      ],
    ];
    const problems = verify(
      tables.map(([ref, cur], i) => ({
        name: `table ${i}`,
        case: { op: 'chi2_contingency', ref, cur },
        ours: () => {
          const r = chi2Contingency(ref, cur);
          return [r.statistic, r.pValue, r.dof];
        },
        tol: [
          [STAT, 1e-15],
          [P, 1e-300],
          [0, 0],
        ],
      })),
    );
    expect(problems).toEqual([]);
    expect(Number.isFinite(chi2Contingency([400, 300, 300, 0], [380, 310, 250, 60]).statistic)).toBe(true);
  });

  it('chi2.sf equals scipy over degrees of freedom 1 to 2,000', () => {
    const checks: Check[] = [];
    for (const df of [1, 2, 3, 7, 30, 99, 500, 1001, 2000]) {
      for (const ratio of [0.05, 0.5, 0.9, 1, 1.1, 1.5, 3, 8]) {
        const x = df * ratio + 0.3;
        checks.push({ name: `x=${x} df=${df}`, case: { op: 'chi2_sf', x, df }, ours: () => chi2Sf(x, df), tol: [[P, 1e-300]] });
      }
    }
    expect(verify(checks)).toEqual([]);
  });
});

describe('PSI against numpy on the reference decile bins', () => {
  it('equals the numpy computation with the same right-closed bins and epsilon', () => {
    const s = sampler(31);
    const cases: [string, number[], number[]][] = [
      ['normal vs shifted', s.normals(5000), s.normals(3000, 0.3)],
      ['heavy tails', s.heavy(5000), s.heavy(2000)],
      ['ties (merged deciles)', s.ties(4000), s.ties(3000, 0.5)],
      ['an empty current bin (epsilon)', s.normals(3000), s.normals(1000, 3)],
    ];
    const checks = cases.map(([name, ref, cur]) => {
      const profile = numericProfile('x', ref);
      const edges = profile.bins.edges;
      return {
        name,
        case: { op: 'psi', ref, cur, edges, epsilon: 1e-4 },
        ours: () => psi(profile.bins.shares, shares(binCounts(sorted(cur), edges)), 1e-4),
        tol: [[STAT, 1e-15]] as [number, number][],
      };
    });
    expect(verify(checks)).toEqual([]);
  });
});

describe('the profile against numpy and scipy on the raw data', () => {
  const s = sampler(41);
  const reference = s.normals(200_000, 0, 2);
  const current = s.normals(40_000, 0.02, 2);
  let answers: OracleAnswer[];
  beforeAll(() => {
    answers = scipy([
      { op: 'quantiles', x: reference, points: 1001 },
      { op: 'mean_std', x: reference },
      { op: 'ks_2samp', a: reference, b: current },
      { op: 'wasserstein', u: reference, v: current },
    ]);
  });

  it('holds numpy.quantile(x, linspace(0, 1, 1001)), the mean and M2 to 1e-12', () => {
    const profile = numericProfile('x', reference);
    const q = answers[0] as number[];
    const bad = profile.quantiles.map((v, i) => (close(v, q[i]!, STAT, 1e-15) ? undefined : `${i}: ${v} vs ${q[i]}`)).filter(Boolean);
    expect(bad).toEqual([]);
    const [mean, std] = answers[1] as number[];
    expect(close(profile.mean!, mean!, STAT, 1e-15)).toBe(true);
    expect(close(Math.sqrt(profile.m2! / profile.count), std!, STAT)).toBe(true);
    expect(quantileGrid(sorted([5]))).toEqual(Array(1001).fill(5));
  });

  it('reproduces scipy’s KS statistic from the quantile grid to 1e-4 and its p-value within 5 %', () => {
    const profile = numericProfile('x', reference);
    const cur = sorted(current);
    const [d, p] = answers[2] as number[];
    const grid = ksTestGrid(profile.quantiles, profile.count, cur);
    expect(Math.abs(grid.statistic - d!)).toBeLessThan(1e-4);
    expect(Math.abs(grid.pValue - p!) / p!).toBeLessThan(0.05);
    expect(ksStatisticGrid(profile.quantiles, cur)).toBe(grid.statistic);
  });

  it('a 101-point grid is not good enough (what the 1,001 points are for)', () => {
    // How far the grid's CDF is from the reference's own empirical CDF: the error it adds to any KS statistic.
    const x = sorted(reference);
    const fine = ksStatisticGrid(quantileGrid(x, 1001), x);
    const coarse = ksStatisticGrid(quantileGrid(x, 101), x);
    expect(fine).toBeLessThan(1e-3);
    expect(coarse).toBeGreaterThan(5 * fine);
  });

  it('reproduces scipy’s Wasserstein distance from the grid within the grid’s own distance to the reference', () => {
    const profile = numericProfile('x', reference);
    const w = answers[3] as number;
    const grid = wassersteinGrid(profile.quantiles, sorted(current));
    // Triangle inequality: |W(grid, cur) − W(ref, cur)| ≤ W(grid, ref); the grid is within ~0.1 % of σ of the data.
    const representation = wassersteinGrid(profile.quantiles, sorted(reference));
    expect(Math.abs(grid - w)).toBeLessThanOrEqual(representation + 1e-12);
    expect(representation / 2).toBeLessThan(0.0015);
    expect(Math.abs(grid - w) / w).toBeLessThan(0.1);
  });

  it('keeps exact values for a discrete reference, so KS is exact there', () => {
    const ties = s.ties(5000);
    const profile = numericProfile('t', ties);
    expect(profile.exact).toBeDefined();
    expect(profile.exact!.counts.reduce((a, b) => a + b, 0)).toBe(5000);
    expect(Buffer.byteLength(JSON.stringify(profile))).toBeLessThanOrEqual(32 * 1024);
    expect(numericProfile('c', reference).exact).toBeUndefined();
  });

  it('counts NaN, ±inf and nulls apart and profiles an all-NaN column with no values', () => {
    const p = numericProfile('n', ['NaN', 'nan', '', null, 'inf', '-Infinity', '1.5', 2]);
    expect([p.count, p.nan, p.nulls, p.inf, p.min, p.max]).toEqual([2, 2, 2, 2, 1.5, 2]);
    const empty = numericProfile('e', ['NaN', 'NaN']);
    expect([empty.count, empty.nan, empty.quantiles.length, empty.mean]).toEqual([0, 2, 0, null]);
  });
});

/**
 * The drift decision: every profiled column of the window against its reference, by its rule; then the
 * multiple-testing correction, and dataset drift by the share of drifted columns.
 */
import type { CategoricalColumn, CurrentData, NumericColumn } from './current.ts';
import { OVERFLOW } from './current.ts';
import { OTHER, referenceStd, type CategoricalProfile, type ColumnProfile, type NumericProfile, type Profile } from './profile.ts';
import { releaseSortScratch } from './sort.ts';
import { P_VALUE_TESTS, columnRules, type DriftRules, type Severity, type TestName } from './rules.ts';
import {
  binCounts,
  chi2Contingency,
  jensenShannon,
  ksStatistic,
  ksStatisticGrid,
  ksTest,
  ksTestGrid,
  normedWasserstein,
  psi,
  shares,
  wasserstein,
  wassersteinGrid,
} from './stats.ts';

/** Reference against current shares, as the report draws them. */
export interface Histogram {
  labels: string[];
  reference: number[];
  current: number[];
}

export interface ColumnResult {
  name: string;
  kind: 'numeric' | 'categorical';
  /** A model input feature, or a model output (the prediction distribution). */
  role: 'feature' | 'output';
  test: TestName;
  /** The test's statistic: PSI, KS D, chi-square, JS distance, or the normed Wasserstein distance. */
  statistic: number | null;
  /** For ks and chi2. */
  p_value?: number | null;
  /** `max` for distances; for p-value tests `min-p` after the correction (Bonferroni divides it by the number of tests). */
  threshold: number;
  drifted: boolean;
  severity: Severity;
  insufficient: boolean;
  /** Why the column could not be tested. */
  reason?: string;
  /** Current rows with a value (finite numbers, non-null categories). */
  rows: number;
  /** Categories the reference never had (categorical, when the reference lists all its categories). */
  new_categories?: string[];
  /** Every statistic this column's kind has, whatever the test (KS's p-value only when KS is the test). */
  statistics: Record<string, number>;
  /** Share of nulls, NaN or ±inf: reference and current. */
  missing: { reference: number; current: number };
  histogram: Histogram;
}

export interface DatasetResult {
  share: number;
  'drift-share': number;
  drifted: number;
  tested: number;
}

export interface CheckResult {
  drifted: boolean;
  insufficient: boolean;
  rows: number;
  dataset: DatasetResult;
  features: ColumnResult[];
  correction: 'bonferroni' | 'none';
  minRows: number;
}

const NEW_CATEGORIES_SHOWN = 50;

function missingShare(missing: number, total: number): number {
  return total > 0 ? missing / total : 0;
}

function numericLabels(edges: readonly number[]): string[] {
  const f = (x: number) => (Number.isInteger(x) ? String(x) : Number(x.toPrecision(4)).toString());
  if (edges.length === 0) return ['all'];
  return [`≤ ${f(edges[0]!)}`, ...edges.slice(1).map((e, i) => `${f(edges[i]!)}–${f(e)}`), `> ${f(edges[edges.length - 1]!)}`];
}

type ColumnBody = Omit<ColumnResult, 'name' | 'role' | 'threshold' | 'drifted' | 'severity' | 'test' | 'insufficient' | 'kind'>;

function checkNumeric(ref: NumericProfile, column: NumericColumn, test: TestName, epsilon: number, buffer: Float64Array): ColumnBody {
  const current = column.takeSorted(buffer);
  const total = current.length + column.nulls + column.nan + column.inf;
  const missing = { reference: missingShare(ref.nulls + ref.nan + ref.inf, ref.count + ref.nulls + ref.nan + ref.inf), current: missingShare(total - current.length, total) };
  const refShares = ref.bins.shares;
  const curShares = current.length > 0 && ref.count > 0 ? Array.from(shares(binCounts(current, ref.bins.edges))) : refShares.map(() => 0);
  const histogram = { labels: numericLabels(ref.bins.edges), reference: [...refShares], current: curShares };
  if (ref.count === 0 || current.length === 0) return { statistic: null, rows: current.length, statistics: {}, missing, histogram };
  const exact = ref.exact ? { values: ref.exact.values, counts: ref.exact.counts } : undefined;
  const w1 = exact ? wasserstein(exact, current) : wassersteinGrid(ref.quantiles, current);
  const statistics: Record<string, number> = {
    psi: psi(refShares, curShares, epsilon),
    js: jensenShannon(refShares, curShares, 2),
    wasserstein: normedWasserstein(w1, referenceStd(ref)),
    wasserstein_distance: w1,
  };
  let p: number | undefined;
  if (test === 'ks') {
    const ks = exact ? ksTest(exact, current) : ksTestGrid(ref.quantiles, ref.count, current);
    statistics.ks = ks.statistic;
    statistics.ks_p_value = ks.pValue;
    p = ks.pValue;
  } else {
    // The statistic alone costs one merge; its p-value can cost much more, so only KS tests compute it.
    statistics.ks = exact ? ksStatistic(exact, current) : ksStatisticGrid(ref.quantiles, current);
  }
  return { statistic: statistics[test]!, ...(p !== undefined && { p_value: p }), rows: current.length, statistics, missing, histogram };
}

function checkCategorical(ref: CategoricalProfile, column: CategoricalColumn, epsilon: number): ColumnBody {
  const pooled = ref.counts.has(OTHER);
  const categories = [...ref.counts.keys()].filter((c) => (ref.counts.get(c) ?? 0) > 0);
  const index = new Map(categories.map((c, i) => [c, i]));
  const refCounts = categories.map((c) => ref.counts.get(c)!);
  const curCounts = categories.map(() => 0);
  const fresh: [string, number][] = [];
  for (const [category, n] of column.counts) {
    const i = index.get(category);
    if (i !== undefined) curCounts[i]! += n;
    else if (pooled) curCounts[index.get(OTHER)!]! += n;
    else fresh.push([category, n]);
  }
  fresh.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const labels = [...categories];
  for (const [category, n] of fresh) {
    labels.push(category);
    refCounts.push(0);
    curCounts.push(n);
  }
  const missing = { reference: missingShare(ref.nulls, ref.count + ref.nulls), current: missingShare(column.nulls, column.values + column.nulls) };
  const refShares = Array.from(shares(refCounts));
  const curShares = Array.from(shares(curCounts));
  const histogram = topCategories(labels, refShares, curShares);
  const newCategories = fresh.filter(([c]) => c !== OVERFLOW).map(([c]) => c);
  const base = { rows: column.values, missing, histogram, ...(!pooled && { new_categories: newCategories.slice(0, NEW_CATEGORIES_SHOWN) }) };
  if (ref.count === 0 || column.values === 0) return { ...base, statistic: null, statistics: {} };
  const chi2 = chi2Contingency(refCounts, curCounts);
  const statistics: Record<string, number> = {
    chi2: chi2.statistic,
    chi2_p_value: chi2.pValue,
    psi: psi(refShares, curShares, epsilon),
    js: jensenShannon(refShares, curShares, 2),
  };
  if (fresh.length > 0) statistics.new_share = fresh.reduce((a, [, n]) => a + n, 0) / column.values;
  return { ...base, statistic: null, statistics };
}

/** The ten categories with the largest share on either side, then the rest as "other". */
function topCategories(labels: string[], reference: number[], current: number[]): Histogram {
  const order = labels.map((_, i) => i).sort((a, b) => Math.max(reference[b]!, current[b]!) - Math.max(reference[a]!, current[a]!));
  const shown = order.slice(0, 10);
  const rest = order.slice(10);
  const h: Histogram = { labels: shown.map((i) => labels[i]!), reference: shown.map((i) => reference[i]!), current: shown.map((i) => current[i]!) };
  if (rest.length > 0) {
    h.labels.push(`(${rest.length} more)`);
    h.reference.push(rest.reduce((a, i) => a + reference[i]!, 0));
    h.current.push(rest.reduce((a, i) => a + current[i]!, 0));
  }
  return h;
}

export function checkDrift(profile: Profile, data: CurrentData, rules: DriftRules): CheckResult {
  const perColumn = columnRules(rules, profile);
  const windowRows = data.rows > 0 ? data.rows : data.outputRows;
  const columns: { c: ColumnProfile; role: 'feature' | 'output' }[] = [
    ...profile.features.map((c) => ({ c, role: 'feature' as const })),
    ...profile.outputs.map((c) => ({ c, role: 'output' as const })),
  ];
  const results: ColumnResult[] = [];
  // One buffer for the largest numeric column: each column is sorted there in turn, then let go.
  let largest = 0;
  for (const column of data.columns.values()) if (column.kind === 'numeric' && column.finite > largest) largest = column.finite;
  const buffer = new Float64Array(largest);
  for (const { c, role } of columns) {
    const rule = perColumn.get(c.name)!;
    const current = data.columns.get(c.name)!;
    const head = { name: c.name, kind: c.kind, role, test: rule.test, severity: rule.severity, threshold: rule.threshold };
    let body;
    let statistic: number | null;
    let p: number | null | undefined;
    if (c.kind === 'numeric') {
      body = checkNumeric(c, current as NumericColumn, rule.test, profile.epsilon, buffer);
      statistic = body.statistic;
      p = body.p_value;
    } else {
      body = checkCategorical(c, current as CategoricalColumn, profile.epsilon);
      const s = body.statistics;
      statistic = body.rows > 0 && c.count > 0 ? (rule.test === 'chi2' ? s.chi2! : s[rule.test]!) : null;
      if (rule.test === 'chi2') p = body.rows > 0 && c.count > 0 ? s.chi2_p_value! : null;
    }
    let reason: string | undefined;
    if (!data.seen.has(c.name) && windowRows > 0 && (role === 'feature' ? data.rows > 0 : data.outputRows > 0)) reason = 'not in the current data';
    else if (c.count === 0) reason = 'the reference has no values';
    else if (body.rows < rules.minRows) reason = `${body.rows} rows with a value, fewer than min-rows (${rules.minRows})`;
    const insufficient = reason !== undefined;
    results.push({
      ...head,
      statistic: insufficient ? null : statistic,
      ...(P_VALUE_TESTS.includes(rule.test) && { p_value: insufficient ? null : (p ?? null) }),
      drifted: false,
      insufficient,
      ...(reason && { reason }),
      rows: body.rows,
      ...(body.new_categories && { new_categories: body.new_categories }),
      statistics: body.statistics,
      missing: body.missing,
      histogram: body.histogram,
    });
  }
  releaseSortScratch();
  // Multiple testing: Bonferroni divides each p-value test's min-p by the number of such tests run.
  const pTests = results.filter((r) => !r.insufficient && P_VALUE_TESTS.includes(r.test));
  const divisor = rules.correction === 'bonferroni' ? Math.max(1, pTests.length) : 1;
  for (const r of results) {
    if (P_VALUE_TESTS.includes(r.test)) r.threshold = r.threshold / divisor;
    if (r.insufficient || r.statistic === null) continue;
    r.drifted = P_VALUE_TESTS.includes(r.test) ? (r.p_value ?? 1) < r.threshold : r.statistic > r.threshold;
  }
  const tested = results.filter((r) => !r.insufficient && r.severity === 'error');
  const driftedCount = tested.filter((r) => r.drifted).length;
  const share = tested.length > 0 ? driftedCount / tested.length : 0;
  const insufficient = windowRows < rules.minRows || results.every((r) => r.insufficient);
  return {
    drifted: !insufficient && tested.length > 0 && share >= rules.driftShare,
    insufficient,
    rows: windowRows,
    dataset: { share, 'drift-share': rules.driftShare, drifted: driftedCount, tested: tested.length },
    features: results,
    correction: rules.correction,
    minRows: rules.minRows,
  };
}

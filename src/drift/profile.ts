/**
 * The reference profile (`profile.json`, schema `mlops-actions/profile/v1`, DESIGN §4.8): what drift needs
 * to know about the training data, in at most 32 KB per numeric feature, so the training set itself never
 * has to be kept or read again.
 *
 * Numeric feature: `count` (finite values), `nulls`, `nan`, `inf`, `min`, `max`, `mean`, `m2` (Σ (x − mean)²),
 * `quantiles` (1,001 points: numpy's default "linear" quantiles at k/1000, k = 0…1000), `bins` (PSI bins:
 * `edges` are the distinct reference deciles, the bins right-closed (−∞, e₀], (e₀, e₁], …, (e_last, ∞), with
 * the reference `shares` counted exactly), and `exact` (the distinct values with their counts) when the
 * reference has at most 1,000 distinct values and the feature still fits in 32 KB: then KS, Wasserstein and
 * PSI are computed exactly as scipy would on the raw data.
 * Categorical feature: `count` (non-null values), `nulls`, `distinct`, `counts` (the 1,000 most frequent
 * categories, then `__other__` for the rest).
 * `epsilon` is the smallest share PSI uses (shares below it are raised to it); Jensen–Shannon uses the raw
 * shares. The same data always gives the same bytes (no timestamps), so republishing a model is a no-op.
 */
import { UsageError } from '../errors.ts';
import { sortFloat64 } from './sort.ts';
import { Sum, binCounts, shares, valueCounts } from './stats.ts';
import { categoryOf, isNull, looksNumeric, numberOf } from './values.ts';

export const PROFILE_SCHEMA = 'mlops-actions/profile/v1';
export const GRID_POINTS = 1001;
export const EPSILON = 1e-4;
export const MAX_CATEGORIES = 1000;
export const OTHER = '__other__';
export const MAX_NUMERIC_BYTES = 32 * 1024;
export const MAX_EXACT_VALUES = 1000;

export interface NumericProfile {
  name: string;
  kind: 'numeric';
  count: number;
  nulls: number;
  nan: number;
  inf: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  m2: number | null;
  quantiles: number[];
  bins: { edges: number[]; shares: number[] };
  exact?: { values: number[]; counts: number[] };
}

export interface CategoricalProfile {
  name: string;
  kind: 'categorical';
  count: number;
  nulls: number;
  distinct: number;
  /** Most frequent first; `__other__` last when the reference had more than 1,000 categories. */
  counts: Map<string, number>;
}

export type ColumnProfile = NumericProfile | CategoricalProfile;

/** Which feature columns make up a model input tensor, in its column order (written with --model). */
export interface InputMapping {
  name: string;
  features: string[];
}

export interface Profile {
  schema: typeof PROFILE_SCHEMA;
  rows: number;
  epsilon: number;
  features: ColumnProfile[];
  outputs: ColumnProfile[];
  inputs?: InputMapping[];
}

export interface ColumnInput {
  name: string;
  values: ArrayLike<unknown>;
  /** Forced kind; otherwise numeric when every non-null cell holds a number. */
  kind?: 'numeric' | 'categorical';
}

// ------------------------------------------------------------------ building

/** numpy.quantile(sorted, linspace(0, 1, points)) with the default "linear" method, value for value. */
export function quantileGrid(sorted: Float64Array, points = GRID_POINTS): number[] {
  const n = sorted.length;
  if (n === 0) return [];
  const step = 1 / (points - 1);
  const out = new Array<number>(points);
  for (let k = 0; k < points; k++) {
    const q = k === points - 1 ? 1 : k * step;
    const index = (n - 1) * q;
    const below = Math.floor(index);
    const a = sorted[Math.min(Math.max(below, 0), n - 1)]!;
    const b = sorted[Math.min(Math.max(below + 1, 0), n - 1)]!;
    const t = index - below;
    const diff = b - a;
    out[k] = t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
    // numpy's two interpolation forms can disagree by an ulp where they meet; the grid must not decrease.
    if (k > 0 && out[k]! < out[k - 1]!) out[k] = out[k - 1]!;
  }
  return out;
}

/** The PSI bin edges: the distinct deciles of the grid (grid points 100, 200, …, 900). */
export function decileEdges(quantiles: readonly number[]): number[] {
  if (quantiles.length === 0) return [];
  const last = quantiles.length - 1;
  const edges: number[] = [];
  for (let d = 1; d <= 9; d++) {
    const q = quantiles[Math.round((d * last) / 10)]!;
    if (edges.length === 0 || q > edges[edges.length - 1]!) edges.push(q);
  }
  return edges;
}

export function numericProfile(name: string, values: ArrayLike<unknown>): NumericProfile {
  let nulls = 0;
  let nan = 0;
  let inf = 0;
  const finite = new Float64Array(values.length);
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isNull(v)) {
      nulls++;
      continue;
    }
    const x = numberOf(v);
    if (x === undefined) throw new UsageError(`data: column ${JSON.stringify(name)} has ${JSON.stringify(v)} in row ${i + 1}, which is not a number: list the column in --categorical`);
    if (Number.isNaN(x)) nan++;
    else if (!Number.isFinite(x)) inf++;
    else finite[count++] = x;
  }
  return numericProfileOfFinite(name, sortFloat64(finite.subarray(0, count)), { nulls, nan, inf });
}

/** The numeric profile of sorted finite values (nulls, NaN and ±inf counted by the caller). */
export function numericProfileOfFinite(name: string, sorted: Float64Array, other: { nulls: number; nan: number; inf: number }): NumericProfile {
  const count = sorted.length;
  const base = { name, kind: 'numeric' as const, count, ...other };
  if (count === 0) return { ...base, min: null, max: null, mean: null, m2: null, quantiles: [], bins: { edges: [], shares: [] } };
  const sum = new Sum();
  for (let i = 0; i < count; i++) sum.add(sorted[i]!);
  const mean = sum.value / count;
  const m2 = new Sum();
  for (let i = 0; i < count; i++) m2.add((sorted[i]! - mean) ** 2);
  const quantiles = quantileGrid(sorted);
  const edges = decileEdges(quantiles);
  const profile: NumericProfile = {
    ...base,
    min: sorted[0]!,
    max: sorted[count - 1]!,
    mean,
    m2: m2.value,
    quantiles,
    bins: { edges, shares: Array.from(shares(binCounts(sorted, edges))) },
  };
  const exact = valueCounts(sorted);
  if (exact.values.length <= MAX_EXACT_VALUES) {
    const withExact = { ...profile, exact: { values: Array.from(exact.values), counts: Array.from(exact.counts) } };
    if (Buffer.byteLength(JSON.stringify(columnJson(withExact))) <= MAX_NUMERIC_BYTES) return withExact;
  }
  return profile;
}

export function categoricalProfile(name: string, values: ArrayLike<unknown>): CategoricalProfile {
  const counts = new Map<string, number>();
  let nulls = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isNull(v)) {
      nulls++;
      continue;
    }
    const c = categoryOf(v);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  return categoricalProfileOfCounts(name, counts, nulls);
}

/** Keeps the 1,000 most frequent categories (ties by name, code-point order) and pools the rest in `__other__`. */
export function categoricalProfileOfCounts(name: string, all: ReadonlyMap<string, number>, nulls: number): CategoricalProfile {
  const sorted = [...all].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const kept = sorted.filter(([c]) => c !== OTHER).slice(0, MAX_CATEGORIES);
  let count = 0;
  for (const [, n] of sorted) count += n;
  const counts = new Map(kept);
  let other = count;
  for (const [, n] of kept) other -= n;
  if (other > 0) counts.set(OTHER, other);
  return { name, kind: 'categorical', count, nulls, distinct: all.size, counts };
}

export function columnProfile(column: ColumnInput): ColumnProfile {
  const values = Array.isArray(column.values) ? (column.values as unknown[]) : Array.from(column.values);
  const kind = column.kind ?? (looksNumeric(values) ? 'numeric' : 'categorical');
  return kind === 'numeric' ? numericProfile(column.name, values) : categoricalProfile(column.name, values);
}

export function buildProfile(rows: number, features: ColumnInput[], outputs: ColumnInput[] = [], inputs?: InputMapping[]): Profile {
  return {
    schema: PROFILE_SCHEMA,
    rows,
    epsilon: EPSILON,
    features: features.map(columnProfile),
    outputs: outputs.map(columnProfile),
    ...(inputs && { inputs }),
  };
}

// ------------------------------------------------------------------ JSON

function columnJson(c: ColumnProfile): Record<string, unknown> {
  if (c.kind === 'categorical') {
    return { name: c.name, kind: c.kind, count: c.count, nulls: c.nulls, distinct: c.distinct, counts: Object.fromEntries(c.counts) };
  }
  return {
    name: c.name,
    kind: c.kind,
    count: c.count,
    nulls: c.nulls,
    nan: c.nan,
    inf: c.inf,
    min: c.min,
    max: c.max,
    mean: c.mean,
    m2: c.m2,
    quantiles: c.quantiles,
    bins: c.bins,
    ...(c.exact && { exact: c.exact }),
  };
}

/** profile.json text: the envelope, then one column per line (readable, and diffs show which feature changed). */
export function serializeProfile(profile: Profile): string {
  const list = (columns: ColumnProfile[]) => (columns.length === 0 ? '[]' : `[\n${columns.map((c) => `    ${JSON.stringify(columnJson(c))}`).join(',\n')}\n  ]`);
  const lines = [
    '{',
    `  "schema": ${JSON.stringify(profile.schema)},`,
    `  "rows": ${profile.rows},`,
    `  "epsilon": ${profile.epsilon},`,
    ...(profile.inputs ? [`  "inputs": ${JSON.stringify(profile.inputs)},`] : []),
    `  "features": ${list(profile.features)},`,
    `  "outputs": ${list(profile.outputs)}`,
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

// ------------------------------------------------------------------ reading (the file arrives from a store: trust nothing)

class ProfileError extends Error {}

function fail(where: string, message: string): never {
  throw new ProfileError(`${where}: ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function count(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(where, `must be a whole number ≥ 0, got ${JSON.stringify(v)}`);
  return v;
}

function finite(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(where, `must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

function finiteOrNull(where: string, v: unknown, empty: boolean): number | null {
  if (empty) {
    if (v !== null && v !== undefined) fail(where, 'must be null for a feature with no finite values');
    return null;
  }
  return finite(where, v);
}

function numbers(where: string, v: unknown, check: (x: number, i: number, all: number[]) => string | undefined): number[] {
  if (!Array.isArray(v)) fail(where, 'must be a list of numbers');
  const out = v.map((x, i) => finite(`${where}[${i}]`, x));
  out.forEach((x, i) => {
    const problem = check(x, i, out);
    if (problem) fail(`${where}[${i}]`, problem);
  });
  return out;
}

function parseColumn(where: string, raw: unknown): ColumnProfile {
  if (!isObject(raw)) fail(where, 'must be an object');
  const name = raw.name;
  if (typeof name !== 'string' || name === '' || name.length > 256) fail(`${where}.name`, 'must be a non-empty string of at most 256 characters');
  const at = `${where} (${JSON.stringify(name)})`;
  const n = count(`${at}.count`, raw.count);
  const nulls = count(`${at}.nulls`, raw.nulls);
  if (raw.kind === 'categorical') {
    if (!isObject(raw.counts)) fail(`${at}.counts`, 'must be an object of category → count');
    const counts = new Map<string, number>();
    let sum = 0;
    for (const [category, c] of Object.entries(raw.counts)) {
      const k = count(`${at}.counts[${JSON.stringify(category)}]`, c);
      counts.set(category, k);
      sum += k;
    }
    if (counts.size > MAX_CATEGORIES + 1) fail(`${at}.counts`, `holds ${counts.size} categories, more than ${MAX_CATEGORIES} and "${OTHER}"`);
    if (sum !== n) fail(`${at}.counts`, `add up to ${sum}, but count is ${n}`);
    return { name, kind: 'categorical', count: n, nulls, distinct: count(`${at}.distinct`, raw.distinct), counts };
  }
  if (raw.kind !== 'numeric') fail(`${at}.kind`, `must be "numeric" or "categorical", got ${JSON.stringify(raw.kind)}`);
  const empty = n === 0;
  const quantiles = numbers(`${at}.quantiles`, raw.quantiles, (x, i, all) => (i > 0 && x < all[i - 1]! ? 'is below the previous quantile: quantiles must not decrease' : undefined));
  if (quantiles.length !== (empty ? 0 : GRID_POINTS)) fail(`${at}.quantiles`, `must hold ${empty ? 0 : GRID_POINTS} points, got ${quantiles.length}`);
  if (!isObject(raw.bins)) fail(`${at}.bins`, 'must be an object with edges and shares');
  const edges = numbers(`${at}.bins.edges`, raw.bins.edges, (x, i, all) => (i > 0 && x <= all[i - 1]! ? 'must be above the previous edge' : undefined));
  const binShares = numbers(`${at}.bins.shares`, raw.bins.shares, (x) => (x < 0 || x > 1 ? 'must be a share between 0 and 1' : undefined));
  if (binShares.length !== (empty ? 0 : edges.length + 1)) fail(`${at}.bins.shares`, `must hold one share per bin (${empty ? 0 : edges.length + 1}), got ${binShares.length}`);
  const column: NumericProfile = {
    name,
    kind: 'numeric',
    count: n,
    nulls,
    nan: count(`${at}.nan`, raw.nan),
    inf: count(`${at}.inf`, raw.inf),
    min: finiteOrNull(`${at}.min`, raw.min, empty),
    max: finiteOrNull(`${at}.max`, raw.max, empty),
    mean: finiteOrNull(`${at}.mean`, raw.mean, empty),
    m2: finiteOrNull(`${at}.m2`, raw.m2, empty),
    quantiles,
    bins: { edges, shares: binShares },
  };
  if (raw.exact !== undefined) {
    if (!isObject(raw.exact)) fail(`${at}.exact`, 'must be an object with values and counts');
    const values = numbers(`${at}.exact.values`, raw.exact.values, (x, i, all) => (i > 0 && x <= all[i - 1]! ? 'must be above the previous value' : undefined));
    const counts = numbers(`${at}.exact.counts`, raw.exact.counts, (x) => (!Number.isSafeInteger(x) || x < 1 ? 'must be a whole number ≥ 1' : undefined));
    if (counts.length !== values.length) fail(`${at}.exact`, 'must have as many counts as values');
    if (counts.reduce((a, b) => a + b, 0) !== n) fail(`${at}.exact.counts`, `must add up to count (${n})`);
    column.exact = { values, counts };
  }
  return column;
}

function parseInputs(where: string, raw: unknown): InputMapping[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) fail(where, 'must be a list of {name, features}');
  return raw.map((m, i) => {
    if (!isObject(m) || typeof m.name !== 'string' || !Array.isArray(m.features) || !m.features.every((f) => typeof f === 'string')) {
      fail(`${where}[${i}]`, 'must be {"name": <input tensor>, "features": [<feature names>]}');
    }
    return { name: m.name, features: m.features as string[] };
  });
}

/** Parses and checks profile.json; a bad file is an error naming where it came from and the first bad field. */
export function parseProfile(text: string, where: string): Profile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    fail(where, `is not JSON (${(error as Error).message})`);
  }
  if (!isObject(raw)) fail(where, 'is not a JSON object');
  if (raw.schema !== PROFILE_SCHEMA) fail(`${where}: schema`, `must be ${JSON.stringify(PROFILE_SCHEMA)}, got ${JSON.stringify(raw.schema)} (write it with \`mlops profile\`)`);
  const rows = count(`${where}: rows`, raw.rows);
  const epsilon = raw.epsilon;
  if (typeof epsilon !== 'number' || !(epsilon > 0 && epsilon <= 0.1)) fail(`${where}: epsilon`, `must be a number in (0, 0.1], got ${JSON.stringify(epsilon)}`);
  const columns = (key: 'features' | 'outputs') => {
    const list = raw[key] ?? [];
    if (!Array.isArray(list)) fail(`${where}: ${key}`, 'must be a list');
    return list.map((c, i) => parseColumn(`${where}: ${key}[${i}]`, c));
  };
  const features = columns('features');
  const outputs = columns('outputs');
  const names = [...features, ...outputs].map((c) => c.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) fail(`${where}: features`, `name ${JSON.stringify(dup)} appears twice`);
  const inputs = parseInputs(`${where}: inputs`, raw.inputs);
  return { schema: PROFILE_SCHEMA, rows, epsilon, features, outputs, ...(inputs && { inputs }) };
}

export function isProfileError(error: unknown): boolean {
  return error instanceof ProfileError;
}

/** The reference's population standard deviation, √(m2/count) (0 without values). */
export function referenceStd(column: NumericProfile): number {
  return column.count > 0 && column.m2 !== null ? Math.sqrt(column.m2 / column.count) : 0;
}

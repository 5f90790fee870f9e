// Synthetic churn-like tabular data for the examples, the demo and the tests.
//
//   node scripts/generate-data.ts [--out data] [--rows 2000] [--holdout 0.25] [--seed 42] [--drift 0]
//
// Writes <out>/train.csv, <out>/holdout.csv and <out>/schema.json. Same options → same bytes.
// Categorical columns hold integer codes (see CATEGORIES); `--drift 0..1` shifts the distributions
// (pricier plans, more month-to-month contracts, more support calls) for drift-detection demos.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export const LABEL = 'label';
export const NUMERIC = ['tenure_months', 'monthly_charges', 'support_calls', 'age', 'data_usage_gb'] as const;
/** Code → meaning, documented so a serving client can encode raw values. */
export const CATEGORIES = {
  contract: ['month-to-month', 'one-year', 'two-year'],
  payment_method: ['card', 'bank-transfer', 'electronic-check', 'mailed-check'],
  internet_service: ['none', 'dsl', 'fiber'],
} as const;
export const FEATURES = [...NUMERIC, ...Object.keys(CATEGORIES)];

export interface GenerateOptions {
  rows: number;
  seed: number;
  /** 0 = the reference distribution; 1 = strongly shifted. */
  drift?: number;
}

export interface Schema {
  label: string;
  features: string[];
  numeric: string[];
  categorical: Record<string, number[]>;
  codes: Record<string, readonly string[]>;
}

export function schema(): Schema {
  return {
    label: LABEL,
    features: FEATURES,
    numeric: [...NUMERIC],
    categorical: Object.fromEntries(Object.entries(CATEGORIES).map(([k, v]) => [k, v.map((_, i) => i)])),
    codes: CATEGORIES,
  };
}

/** mulberry32: small, fast, and the same sequence on every platform. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(rand: () => number): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function pick(rand: () => number, weights: number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let r = rand() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i] as number;
    if (r < 0) return i;
  }
  return weights.length - 1;
}

function poisson(rand: () => number, lambda: number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k++;
    p *= rand();
  }
  return k;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** Rows as [features…, label], values already rounded as they are written. */
export function generateRows({ rows, seed, drift = 0 }: GenerateOptions): number[][] {
  const rand = random(seed);
  const out: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const contract = pick(rand, [0.5 + 0.3 * drift, 0.3 - 0.15 * drift, 0.2 - 0.15 * drift]);
    const payment = pick(rand, [0.3, 0.25, 0.3 + 0.2 * drift, 0.15]);
    const internet = pick(rand, [0.15, 0.4, 0.45 + 0.3 * drift]);
    const tenure = Math.round(clamp(contract * 18 + Math.abs(normal(rand)) * 20, 0, 72));
    const charges = +clamp(25 + internet * 22 + normal(rand) * 12 + 20 * drift, 15, 150).toFixed(2);
    const calls = poisson(rand, 1.2 + 1.5 * drift);
    const age = Math.round(clamp(45 + normal(rand) * 14, 18, 90));
    const usage = +clamp(internet * 60 + normal(rand) * 25 + 30 * drift, 0, 400).toFixed(1);
    const margin =
      -0.4 -
      0.06 * tenure +
      0.025 * (charges - 60) +
      0.45 * calls -
      0.01 * (age - 45) +
      [1.3, 0, -1.2][contract]! +
      [0, 0, 0.7, 0.1][payment]! +
      [0, 0, 0.5][internet]! +
      normal(rand) * 0.8;
    const label = rand() < 1 / (1 + Math.exp(-margin)) ? 1 : 0;
    out.push([tenure, charges, calls, age, usage, contract, payment, internet, label]);
  }
  return out;
}

export function toCsv(rows: number[][]): string {
  return [[...FEATURES, LABEL].join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Writes train.csv, holdout.csv (the last `holdout` fraction) and schema.json into `dir`. */
export function writeDataset(dir: string, options: GenerateOptions & { holdout?: number }): { train: string; holdout: string; schema: string } {
  const rows = generateRows(options);
  const cut = Math.round(rows.length * (1 - (options.holdout ?? 0.25)));
  mkdirSync(dir, { recursive: true });
  const paths = { train: join(dir, 'train.csv'), holdout: join(dir, 'holdout.csv'), schema: join(dir, 'schema.json') };
  writeAtomic(paths.train, toCsv(rows.slice(0, cut)));
  writeAtomic(paths.holdout, toCsv(rows.slice(cut)));
  writeAtomic(paths.schema, JSON.stringify(schema(), null, 2) + '\n');
  return paths;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'data' },
      rows: { type: 'string', default: '2000' },
      holdout: { type: 'string', default: '0.25' },
      seed: { type: 'string', default: process.env.MLOPS_SEED ?? '42' },
      drift: { type: 'string', default: '0' },
    },
  });
  const num = (name: string, text: string, ok: (n: number) => boolean, fix: string) => {
    const n = Number(text);
    if (text.trim() === '' || !ok(n)) {
      process.stderr.write(`--${name}: ${JSON.stringify(text)} ${fix}\n`);
      process.exit(2);
    }
    return n;
  };
  const rows = num('rows', values.rows, (n) => Number.isInteger(n) && n >= 4, 'must be a whole number ≥ 4');
  const holdout = num('holdout', values.holdout, (n) => n > 0 && n < 1, 'must be a fraction between 0 and 1');
  const seed = num('seed', values.seed, (n) => Number.isInteger(n) && n >= 0, 'must be a whole number ≥ 0');
  const drift = num('drift', values.drift, (n) => n >= 0 && n <= 1, 'must be between 0 and 1');
  const paths = writeDataset(values.out, { rows, seed, drift, holdout });
  process.stdout.write(`wrote ${paths.train}, ${paths.holdout}, ${paths.schema}\n`);
}

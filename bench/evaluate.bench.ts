// Evaluate's inference speed: onnxruntime-node scoring a linear model (1M rows × 20 features by default)
// batched, and single-row latency, against a plain TypeScript scoring loop over the same weights in the
// same run. Targets: ≥ 10 M rows/s batched, single-row p99 < 0.5 ms.
//
//   node bench/evaluate.bench.ts            (MLOPS_BENCH_ROWS=100000 for a quick run)
import * as ort from 'onnxruntime-node';
import { random } from '../scripts/generate-data.ts';
import { percentile } from '../src/evaluate/metrics.ts';
import { buildLinearClassifier, type LinearClassifierSpec } from '../src/onnx/linear-classifier.ts';

const ROWS = Number(process.env.MLOPS_BENCH_ROWS ?? 1_000_000);
const FEATURES = 20;
const BATCH = 65_536;
const REPEATS = 5;
const SINGLE = 5_000;

const rand = random(1);
const spec: LinearClassifierSpec = {
  features: Array.from({ length: FEATURES }, (_, i) => `f${i}`),
  numeric: Array.from({ length: FEATURES }, (_, i) => ({ index: i, mean: rand() - 0.5, scale: 0.5 + rand() })),
  categorical: [],
  weights: Array.from({ length: FEATURES }, () => rand() * 2 - 1),
  intercept: 0.1,
  producer: { name: 'bench', version: '1' },
};
const x = new Float32Array(ROWS * FEATURES);
for (let i = 0; i < x.length; i++) x[i] = rand() * 4 - 2;

/** The reference: standardise, dot, sigmoid, in a plain loop (weights folded once, as a careful hand-written scorer would). */
function scoreTs(data: Float32Array, rows: number, out: Float32Array): void {
  const w = new Float64Array(FEATURES);
  let bias = spec.intercept;
  spec.numeric.forEach((c, j) => {
    w[j] = spec.weights[j]! / c.scale;
    bias -= (spec.weights[j]! * c.mean) / c.scale;
  });
  for (let i = 0; i < rows; i++) {
    let m = bias;
    const o = i * FEATURES;
    for (let j = 0; j < FEATURES; j++) m += w[j]! * data[o + j]!;
    out[i] = 1 / (1 + Math.exp(-m));
  }
}

const best = (xs: number[]) => Math.min(...xs);

async function batched(session: ort.InferenceSession): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    for (let start = 0; start < ROWS; start += BATCH) {
      const n = Math.min(BATCH, ROWS - start);
      await session.run({ input: new ort.Tensor('float32', x.subarray(start * FEATURES, (start + n) * FEATURES), [n, FEATURES]) }, ['probabilities']);
    }
    times.push(performance.now() - t0);
  }
  return ROWS / (best(times) / 1000);
}

async function main() {
  const model = buildLinearClassifier(spec);
  // Default thread pool (what evaluate uses) and a single intra-op thread (steadier on a busy 2-core machine).
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  const single1 = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  const outputs = ['probabilities'];

  // Correctness first: the two scorers agree.
  const check = new Float32Array(1000);
  scoreTs(x, 1000, check);
  const first = (await session.run({ input: new ort.Tensor('float32', x.subarray(0, 1000 * FEATURES), [1000, FEATURES]) }, outputs)).probabilities!.data as Float32Array;
  for (let i = 0; i < 1000; i++) if (Math.abs(first[2 * i + 1]! - check[i]!) > 1e-4) throw new Error(`scorers disagree at row ${i}`);

  const ortRate = await batched(session);
  const ortRate1 = await batched(single1);
  const tsTimes: number[] = [];
  const out = new Float32Array(ROWS);
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    scoreTs(x, ROWS, out);
    tsTimes.push(performance.now() - t0);
  }

  const one = new ort.Tensor('float32', x.subarray(0, FEATURES), [1, FEATURES]);
  for (let i = 0; i < 200; i++) await session.run({ input: one }, outputs);
  const ortSingle = new Float64Array(SINGLE);
  for (let i = 0; i < SINGLE; i++) {
    const row = new ort.Tensor('float32', x.subarray((i % 1000) * FEATURES, ((i % 1000) + 1) * FEATURES), [1, FEATURES]);
    const t0 = performance.now();
    await session.run({ input: row }, outputs);
    ortSingle[i] = performance.now() - t0;
  }
  const tsSingle = new Float64Array(SINGLE);
  const single = new Float32Array(1);
  for (let i = 0; i < SINGLE; i++) {
    const t0 = performance.now();
    scoreTs(x.subarray((i % 1000) * FEATURES), 1, single);
    tsSingle[i] = performance.now() - t0;
  }
  ortSingle.sort();
  tsSingle.sort();
  await session.release();
  await single1.release();

  const tsRate = ROWS / (best(tsTimes) / 1000);
  const ortP99 = percentile(ortSingle, 99);
  const tsP99 = percentile(tsSingle, 99);
  const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n >= 1 ? n.toFixed(1) : n.toPrecision(3));
  const rows: [string, string, string, string][] = [
    ['figure', 'onnxruntime-node', 'TypeScript loop', 'ratio'],
    [`batched rows/s (${fmt(ROWS)} × ${FEATURES}, batch ${BATCH})`, fmt(ortRate), fmt(tsRate), `${(ortRate / tsRate).toFixed(2)}×`],
    ['batched rows/s, 1 intra-op thread', fmt(ortRate1), fmt(tsRate), `${(ortRate1 / tsRate).toFixed(2)}×`],
    ['single-row p50 ms', fmt(percentile(ortSingle, 50)), fmt(percentile(tsSingle, 50)), `${(percentile(ortSingle, 50) / percentile(tsSingle, 50)).toFixed(1)}×`],
    ['single-row p99 ms', fmt(ortP99), fmt(tsP99), `${(ortP99 / tsP99).toFixed(1)}×`],
  ];
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  process.stdout.write(`\nevaluate: onnxruntime-node ${ort.env.versions.node ?? ''} vs a plain TypeScript loop (best of ${REPEATS})\n`);
  for (const r of rows) process.stdout.write(`  ${r.map((c, j) => c.padEnd(widths[j]!)).join('  ')}\n`);
  const top = Math.max(ortRate, ortRate1);
  process.stdout.write(
    `  targets: ≥ 10 M rows/s batched → ${top >= 10e6 ? 'met' : 'NOT met'}; single-row p99 < 0.5 ms → ${ortP99 < 0.5 ? 'met' : 'NOT met'}\n`,
  );
}

await main();

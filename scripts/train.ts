// The Node leg's example training program: L2-regularised logistic regression (Newton's method) in plain
// TypeScript, exported to ONNX with onnx-proto. Standardisation and one-hot encoding are fitted on the
// training split and exported inside the graph (src/onnx/linear-classifier.ts), so serving takes raw columns.
//
//   node scripts/train.ts [--train data/train.csv] [--holdout data/holdout.csv] [--schema data/schema.json]
//                         [--model-dir model] [--metrics metrics.json] [--params params.yaml] [--c 1.0] [--max-iter 100]
//
// Writes <model-dir>/model.onnx, the metrics file (self-reported, on the holdout) and params.yaml (the values
// used). Newton's method has no randomness: MLOPS_SEED is recorded only. Same data and options → same bytes.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { classificationMetrics } from '../src/evaluate/metrics.ts';
import { numericColumn, readTable } from '../src/evaluate/table.ts';
import { buildLinearClassifier, encodeRow, scoreRow, type LinearClassifierSpec } from '../src/onnx/linear-classifier.ts';

export interface TrainOptions {
  train: string;
  holdout: string;
  schema: string;
  modelDir: string;
  metrics: string;
  params: string;
  /** Inverse regularisation strength, as scikit-learn's C. */
  c: number;
  maxIter: number;
  seed: number;
}

interface DataSchema {
  label: string;
  features: string[];
  categorical: Record<string, number[]>;
}

export interface Dataset {
  /** Row-major raw features [rows][features]. */
  x: Float64Array[];
  y: Uint8Array;
}

export function loadDataset(file: string, schema: DataSchema): Dataset {
  const table = readTable(file);
  const columns = schema.features.map((f) => numericColumn(table, f));
  const labels = numericColumn(table, schema.label);
  const x = Array.from({ length: table.rows }, (_, i) => Float64Array.from(columns, (c) => c[i] as number));
  const y = Uint8Array.from(labels, (v, i) => {
    if (v !== 0 && v !== 1) throw new Error(`${file} line ${table.line(i)}: label ${v} is not 0 or 1`);
    return v;
  });
  return { x, y };
}

/** Fits mean/scale (population standard deviation; 1 for a constant column) and the category lists. */
export function fitPreprocessing(data: Dataset, schema: DataSchema): Pick<LinearClassifierSpec, 'features' | 'numeric' | 'categorical'> {
  const numeric = schema.features
    .map((name, index) => ({ name, index }))
    .filter(({ name }) => !(name in schema.categorical))
    .map(({ index }) => {
      const n = data.x.length;
      let mean = 0;
      for (const row of data.x) mean += row[index] as number;
      mean /= n;
      let variance = 0;
      for (const row of data.x) variance += ((row[index] as number) - mean) ** 2;
      const std = Math.sqrt(variance / n);
      return { index, mean, scale: std > 0 ? std : 1 };
    });
  const categorical = schema.features
    .map((name, index) => ({ name, index }))
    .filter(({ name }) => name in schema.categorical)
    .map(({ name, index }) => ({ index, categories: [...(schema.categorical[name] as number[])] }));
  return { features: [...schema.features], numeric, categorical };
}

/** Solves A x = b for a symmetric positive definite A (Cholesky). */
function solveSpd(a: number[][], b: number[]): number[] {
  const n = b.length;
  const l = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i]![j]!;
      for (let k = 0; k < j; k++) s -= l[i]![k]! * l[j]![k]!;
      l[i]![j] = i === j ? Math.sqrt(s) : s / l[j]![j]!;
    }
  }
  const z = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i]![k]! * z[k]!;
    z[i] = s / l[i]![i]!;
  }
  const x = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k]![i]! * x[k]!;
    x[i] = s / l[i]![i]!;
  }
  return x;
}

/**
 * Minimises ½‖w‖² + C Σ log-loss (intercept unpenalised) with Newton's method — the objective
 * scikit-learn's LogisticRegression(penalty="l2", C) minimises.
 */
export function fitLogistic(encoded: number[][], y: ArrayLike<number>, c: number, maxIter: number): { weights: number[]; intercept: number; iterations: number } {
  const d = (encoded[0]?.length ?? 0) + 1;
  const w = new Array<number>(d).fill(0);
  let iterations = 0;
  for (; iterations < maxIter; iterations++) {
    const grad = w.map((v, j) => (j < d - 1 ? v : 0));
    const hess = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j && i < d - 1 ? 1 : 0)));
    encoded.forEach((x, i) => {
      let margin = w[d - 1]!;
      for (let j = 0; j < d - 1; j++) margin += w[j]! * x[j]!;
      const p = 1 / (1 + Math.exp(-margin));
      const r = c * (p - (y[i] as number));
      const s = c * p * (1 - p);
      for (let a = 0; a < d; a++) {
        const xa = a < d - 1 ? x[a]! : 1;
        grad[a]! += r * xa;
        for (let b = 0; b <= a; b++) hess[a]![b]! += s * xa * (b < d - 1 ? x[b]! : 1);
      }
    });
    for (let a = 0; a < d; a++) for (let b = a + 1; b < d; b++) hess[a]![b] = hess[b]![a]!;
    const step = solveSpd(hess, grad);
    for (let j = 0; j < d; j++) w[j]! -= step[j]!;
    if (Math.max(...step.map(Math.abs)) < 1e-10) {
      iterations++;
      break;
    }
  }
  return { weights: w.slice(0, d - 1), intercept: w[d - 1]!, iterations };
}

function writeAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

const PRODUCER = { name: 'mlops-actions/scripts/train.ts', version: '1' };

/** Trains, then writes the model, metrics and params. Returns the exported spec and the holdout metrics. */
export function train(options: TrainOptions): { spec: LinearClassifierSpec; metrics: Record<string, number>; modelPath: string } {
  const schema = JSON.parse(readFileSync(options.schema, 'utf8')) as DataSchema;
  const trainSet = loadDataset(options.train, schema);
  const holdout = loadDataset(options.holdout, schema);
  const pre = fitPreprocessing(trainSet, schema);
  const partial = { ...pre, weights: [], intercept: 0, producer: PRODUCER };
  const fit = fitLogistic(trainSet.x.map((row) => encodeRow(partial, row)), trainSet.y, options.c, options.maxIter);
  const spec: LinearClassifierSpec = {
    ...pre,
    weights: fit.weights,
    intercept: fit.intercept,
    producer: PRODUCER,
    metadata: { 'mlops.label': schema.label, 'mlops.task': 'binary' },
  };
  const probabilities = holdout.x.flatMap((row) => {
    const p = scoreRow(spec, row);
    return [1 - p, p];
  });
  const all = classificationMetrics(holdout.y, probabilities, 2);
  const metrics = { accuracy: all.accuracy!, f1: all.f1!, roc_auc: all.roc_auc ?? 0, log_loss: all.log_loss! };
  const modelPath = join(options.modelDir, 'model.onnx');
  writeAtomic(modelPath, buildLinearClassifier(spec));
  writeAtomic(options.metrics, JSON.stringify(metrics, null, 2) + '\n');
  const params = { model: 'logistic_regression', trainer: 'typescript-newton', C: options.c, max_iter: options.maxIter, iterations: fit.iterations, seed: options.seed };
  writeAtomic(options.params, stringify({ train: params }));
  return { spec, metrics, modelPath };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      train: { type: 'string', default: 'data/train.csv' },
      holdout: { type: 'string', default: 'data/holdout.csv' },
      schema: { type: 'string' },
      'model-dir': { type: 'string', default: 'model' },
      metrics: { type: 'string', default: 'metrics.json' },
      params: { type: 'string', default: 'params.yaml' },
      c: { type: 'string', default: '1.0' },
      'max-iter': { type: 'string', default: '100' },
    },
  });
  const c = Number(values.c);
  const maxIter = Number(values['max-iter']);
  const seed = Number(process.env.MLOPS_SEED ?? '0');
  if (!(c > 0) || !Number.isInteger(maxIter) || maxIter < 1 || !Number.isInteger(seed)) {
    process.stderr.write('--c must be > 0, --max-iter a whole number ≥ 1 and MLOPS_SEED a whole number\n');
    process.exit(2);
  }
  const result = train({
    train: values.train,
    holdout: values.holdout,
    schema: values.schema ?? join(dirname(values.train), 'schema.json'),
    modelDir: values['model-dir'],
    metrics: values.metrics,
    params: values.params,
    c,
    maxIter,
    seed,
  });
  process.stdout.write(`wrote ${result.modelPath}: ${JSON.stringify(result.metrics)}\n`);
}

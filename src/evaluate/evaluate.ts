import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { InferenceSession, Tensor, TypedTensor } from 'onnxruntime-node';
import { UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { classificationMetrics, nestMetrics, percentile, regressionMetrics, type Metrics } from './metrics.ts';
import { loadOnnxRuntime, type OnnxRuntime } from './onnxruntime-loader.ts';
import { describe, modelMetadata, pickOutput, planInputs, type InputPlan, type Task, type TensorInfo } from './signature.ts';
import { numericColumn, readTable, type Table } from './table.ts';

export const TASKS = ['binary', 'multiclass', 'regression'] as const;

export interface EvaluateSettings {
  /** Path of the .onnx file. */
  model: string;
  /** Holdout: CSV with a header, or JSON Lines (.jsonl / .ndjson). */
  data: string;
  /** Label column. */
  label: string;
  task: Task;
  /** Feature columns in model order; default: the model's `mlops.features`, else every other column. */
  features?: string[];
  /** Metrics file to write (JSON, nested per DESIGN §4.1). */
  out: string;
  /** Single-row runs timed for the latency percentiles; 0 skips latency. */
  latencySamples: number;
  /** Rows per batch when scoring. */
  batchSize: number;
  /** Minimum time spent re-scoring the holdout to measure throughput, in ms; 0 skips throughput. */
  throughputMs: number;
}

export const DEFAULTS = { label: 'label', latencySamples: 200, batchSize: 65_536, throughputMs: 200 } as const;

export interface EvaluateResult {
  /** Flat metrics as written (nested in the file). */
  metrics: Metrics;
  out: string;
  rows: number;
  features: string[];
  inputs: TensorInfo[];
  output: TensorInfo;
}

export interface EvaluateDeps {
  logger: Logger;
  /** onnxruntime-node; loaded with the tool-cache strategy when absent. */
  ort?: OnnxRuntime;
  now?: () => number;
}

type Feeds = Record<string, Tensor>;

/** Builds the input tensors for rows [start, end) of the prepared columns. */
export function feeder(ort: OnnxRuntime, plan: InputPlan, columns: Float64Array[]) {
  const convert = (type: string, values: Float64Array, start: number, end: number, stride: number, dims: number[]): Tensor => {
    const n = (end - start) * stride;
    switch (type) {
      case 'float32':
        return new ort.Tensor('float32', Float32Array.from(values.subarray(start * stride, start * stride + n)), dims);
      case 'float64':
        return new ort.Tensor('float64', values.slice(start * stride, start * stride + n), dims);
      case 'int32':
        return new ort.Tensor('int32', Int32Array.from(values.subarray(start * stride, start * stride + n)), dims);
      default:
        return new ort.Tensor('int64', BigInt64Array.from(values.subarray(start * stride, start * stride + n), (v) => BigInt(Math.trunc(v))), dims);
    }
  };
  if (plan.kind === 'matrix') {
    const width = plan.features.length;
    const rows = columns[0]?.length ?? 0;
    const matrix = new Float64Array(rows * width);
    for (let j = 0; j < width; j++) {
      const col = columns[j] as Float64Array;
      for (let i = 0; i < rows; i++) matrix[i * width + j] = col[i] as number;
    }
    return (start: number, end: number): Feeds => ({
      [plan.input.name]: convert(plan.input.type, matrix, start, end, width, [end - start, width]),
    });
  }
  return (start: number, end: number): Feeds =>
    Object.fromEntries(
      plan.inputs.map((input, j) => [
        input.name,
        convert(input.type, columns[j] as Float64Array, start, end, 1, input.shape.length === 1 ? [end - start] : [end - start, 1]),
      ]),
    );
}

function labels(table: Table, label: string, task: Task, classes: number): Float64Array {
  const raw = table.values.get(label) as unknown[];
  const out = new Float64Array(table.rows);
  for (let i = 0; i < table.rows; i++) {
    const v = raw[i];
    const n = typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
    const ok = task === 'regression' ? Number.isFinite(n) : Number.isInteger(n) && n >= 0 && n < classes;
    if (!ok) {
      const expected = task === 'regression' ? 'a finite number' : task === 'binary' ? '0 or 1' : `a class index from 0 to ${classes - 1}`;
      throw new UsageError(`label: ${table.file} line ${table.line(i)} has ${JSON.stringify(v ?? null)} in ${JSON.stringify(label)}; ${task} labels must be ${expected}`);
    }
    out[i] = n;
  }
  return out;
}

export async function openSession(ort: OnnxRuntime, model: string, bytes: Uint8Array): Promise<InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  } catch (error) {
    const reason = ((error as Error).message ?? String(error)).split('\n')[0];
    throw new UsageError(`model: ${JSON.stringify(model)} cannot be loaded by onnxruntime (${reason}): give a valid ONNX model (IR ≤ 13, opset ≤ 26)`);
  }
}

export function tensorInfo(meta: readonly InferenceSession.ValueMetadata[]): TensorInfo[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] }));
}

function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Scores the holdout with onnxruntime, computes task metrics, latency and throughput, and writes the metrics file. */
export async function evaluateModel(settings: EvaluateSettings, deps: EvaluateDeps): Promise<EvaluateResult> {
  const now = deps.now ?? (() => performance.now());
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(settings.model);
  } catch (error) {
    throw new UsageError(`model: ${JSON.stringify(settings.model)} cannot be read (${(error as NodeJS.ErrnoException).code}): give the path of an .onnx file`);
  }
  const table = readTable(settings.data);
  if (table.rows === 0) throw new UsageError(`data: ${settings.data} has no rows: the holdout must have at least one row`);
  if (!table.values.has(settings.label)) {
    throw new UsageError(`label: ${JSON.stringify(settings.label)} is not a column of ${table.file}; found ${table.columns.join(', ')}: give the label column's name`);
  }

  const ort = deps.ort ?? (await loadOnnxRuntime({ logger: deps.logger })).ort;
  const session = await openSession(ort, settings.model, bytes);
  let metadata: Record<string, string> = {};
  try {
    metadata = modelMetadata(bytes);
  } catch {
    // onnxruntime loaded it, so it is a model; metadata is only a hint.
  }
  const inputs = tensorInfo(session.inputMetadata);
  const outputs = tensorInfo(session.outputMetadata);
  const plan = planInputs(inputs, metadata, table.columns, settings.label, settings.features);
  const output = pickOutput(outputs, settings.task);
  deps.logger.info(`model inputs ${describe(inputs)}; outputs ${describe(outputs)}; scoring ${output.name}`);
  const columns = plan.features.map((f) => numericColumn(table, f));
  const feeds = feeder(ort, plan, columns);
  const rows = table.rows;
  // The class count comes from the declared shape, or from one row's output when the model leaves it symbolic.
  let width = output.shape.length === 2 && typeof output.shape[1] === 'number' && output.shape[1] > 0 ? output.shape[1] : undefined;
  if (width === undefined) {
    const probe = (await session.run(feeds(0, 1), [output.name]))[output.name] as Tensor;
    width = probe.dims.length === 2 ? (probe.dims[1] as number) : 1;
  }
  const classes = settings.task === 'regression' ? 1 : width === 1 ? 2 : width;
  if (settings.task === 'binary' && classes !== 2) {
    throw new UsageError(`task: "binary" but the model's output ${output.name} has ${classes} classes: use --task multiclass`);
  }
  if (settings.task === 'regression' && width !== 1) {
    throw new UsageError(`task: "regression" but the model's output ${output.name} has ${width} values per row: use --task binary or multiclass`);
  }
  const truth = labels(table, settings.label, settings.task, classes);

  // Scores every row in batches; P(class) for classification, the value for regression.
  const scoreAll = async (): Promise<Float64Array> => {
    const result = new Float64Array(rows * classes);
    for (let start = 0; start < rows; start += settings.batchSize) {
      const end = Math.min(rows, start + settings.batchSize);
      const out = (await session.run(feeds(start, end), [output.name]))[output.name] as TypedTensor<'float32'>;
      const data = out.data;
      if (data.length !== (end - start) * width) {
        throw new UsageError(`model: output ${output.name} returned ${data.length} values for ${end - start} rows, expected ${(end - start) * width}`);
      }
      if (classes === 2 && width === 1) {
        for (let i = 0; i < end - start; i++) {
          result[(start + i) * 2] = 1 - (data[i] as number);
          result[(start + i) * 2 + 1] = data[i] as number;
        }
      } else result.set(data, start * classes);
    }
    return result;
  };
  const scores = await scoreAll();
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new UsageError(`model: output ${output.name} is not finite for row ${Math.floor(i / classes) + 1} of ${settings.data}`);
  }
  const metrics: Metrics = settings.task === 'regression' ? regressionMetrics(truth, scores) : classificationMetrics(truth, scores, classes);
  metrics.rows = rows;
  if (settings.task !== 'regression' && metrics.roc_auc === undefined) deps.logger.warning('roc_auc left out: the holdout does not contain every class');

  if (settings.latencySamples > 0) {
    const single = Array.from({ length: Math.min(rows, 64) }, (_, i) => feeds(i, i + 1));
    for (let i = 0; i < 10; i++) await session.run(single[i % single.length] as Feeds, [output.name]);
    const times = new Float64Array(settings.latencySamples);
    for (let i = 0; i < times.length; i++) {
      const t0 = now();
      await session.run(single[i % single.length] as Feeds, [output.name]);
      times[i] = now() - t0;
    }
    times.sort();
    metrics['latency.p50_ms'] = percentile(times, 50);
    metrics['latency.p95_ms'] = percentile(times, 95);
    metrics['latency.p99_ms'] = percentile(times, 99);
  }
  if (settings.throughputMs > 0) {
    let scored = 0;
    const t0 = now();
    do {
      await scoreAll();
      scored += rows;
    } while (now() - t0 < settings.throughputMs);
    metrics['throughput.rows_per_s'] = scored / ((now() - t0) / 1000);
  }
  await session.release();

  writeAtomic(settings.out, JSON.stringify(nestMetrics(metrics), null, 2) + '\n');
  return { metrics, out: settings.out, rows, features: plan.features, inputs, output };
}

import { badInput } from '../errors.ts';
import { DEFAULTS, TASKS, type EvaluateSettings } from './evaluate.ts';
import type { Task } from './signature.ts';

/** Raw option/input strings, as the CLI and the action read them (same names). */
export interface RawEvaluateOptions {
  model?: string;
  data?: string;
  label?: string;
  task?: string;
  features?: string[];
  out?: string;
  'latency-samples'?: string;
  'batch-size'?: string;
  'throughput-ms'?: string;
}

export const DEFAULT_OUT = 'evaluation.json';

function whole(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined || text.trim() === '') return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min) throw badInput(name, text, `is not a whole number ≥ ${min}`);
  return n;
}

/** Validates the options into settings; every failure names the option, the value and the fix. */
export function evaluateSettings(raw: RawEvaluateOptions): EvaluateSettings {
  if (!raw.model) throw badInput('model', raw.model ?? '', 'is required: the path of the .onnx file');
  if (!raw.data) throw badInput('data', raw.data ?? '', 'is required: the holdout file (CSV with a header, or .jsonl)');
  const task = raw.task ?? 'binary';
  if (!(TASKS as readonly string[]).includes(task)) throw badInput('task', task, `must be one of ${TASKS.join(', ')}`);
  const features = raw.features
    ?.flatMap((f) => f.split(/[\s,]+/))
    .map((f) => f.trim())
    .filter(Boolean);
  return {
    model: raw.model,
    data: raw.data,
    label: raw.label?.trim() || DEFAULTS.label,
    task: task as Task,
    features: features && features.length > 0 ? features : undefined,
    out: raw.out?.trim() || DEFAULT_OUT,
    latencySamples: whole('latency-samples', raw['latency-samples'], DEFAULTS.latencySamples, 0),
    batchSize: whole('batch-size', raw['batch-size'], DEFAULTS.batchSize, 1),
    throughputMs: whole('throughput-ms', raw['throughput-ms'], DEFAULTS.throughputMs, 0),
  };
}

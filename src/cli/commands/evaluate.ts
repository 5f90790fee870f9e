import { resolve } from 'node:path';
import { evaluateModel } from '../../evaluate/evaluate.ts';
import { DEFAULT_OUT, evaluateSettings } from '../../evaluate/settings.ts';
import { EXIT, type Command } from '../command.ts';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export const command: Command = {
  summary: 'Score an ONNX model on a holdout set with onnxruntime',
  usage: ['evaluate --model model.onnx --data holdout.csv [--label label] [--task binary|multiclass|regression] [--out evaluation.json]'],
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    label: { type: 'string' },
    task: { type: 'string' },
    features: { type: 'string', multiple: true },
    out: { type: 'string' },
    'latency-samples': { type: 'string' },
    'batch-size': { type: 'string' },
    'throughput-ms': { type: 'string' },
  },
  help: [
    ['--model FILE', 'ONNX model to score (inputs and outputs are discovered from it)'],
    ['--data FILE', 'Holdout: CSV with a header, or JSON Lines (.jsonl)'],
    ['--label NAME', 'Label column (default: label)'],
    ['--task TASK', 'binary (default), multiclass or regression'],
    ['--features A,B,…', "Feature columns in model order (default: the model's mlops.features, else all other columns)"],
    ['--out FILE', `Metrics file to write (default: ${DEFAULT_OUT})`],
    ['--latency-samples N', 'Single-row runs timed for latency p50/p95/p99 (default 200; 0 skips)'],
    ['--batch-size N', 'Rows per inference batch (default 65536)'],
    ['--throughput-ms N', 'Time spent re-scoring the holdout to measure rows/s (default 200; 0 skips)'],
  ],
  async run({ values }, ctx) {
    const settings = evaluateSettings({
      model: str(values.model),
      data: str(values.data),
      label: str(values.label),
      task: str(values.task),
      features: Array.isArray(values.features) ? values.features.filter((f): f is string => typeof f === 'string') : undefined,
      out: str(values.out),
      'latency-samples': str(values['latency-samples']),
      'batch-size': str(values['batch-size']),
      'throughput-ms': str(values['throughput-ms']),
    });
    const at = (p: string) => resolve(ctx.cwd, p);
    const result = await evaluateModel({ ...settings, model: at(settings.model), data: at(settings.data), out: at(settings.out) }, { logger: ctx.logger });
    if (values.json) {
      ctx.out(JSON.stringify({ metrics: result.metrics, out: result.out, rows: result.rows, features: result.features, inputs: result.inputs, output: result.output }));
    } else {
      const shown = Object.entries(result.metrics).filter(([k]) => !k.startsWith('confusion_matrix.'));
      ctx.out([`wrote ${result.out} (${result.rows} rows)`, ...shown.map(([k, v]) => `  ${k.padEnd(22)} ${Number.isInteger(v) ? v : v.toPrecision(6)}`)].join('\n'));
    }
    return EXIT.ok;
  },
};

import { dirname, join, relative, resolve } from 'node:path';
import { badInput, UsageError } from '../../errors.ts';
import { EXIT, type Command } from '../command.ts';

/** Options each action takes; the others are refused (`--holdout` is a file for train, a fraction is `--holdout-fraction`). */
const ACTIONS = {
  data: ['out', 'rows', 'holdout-fraction', 'seed', 'drift'],
  train: ['train', 'holdout', 'schema', 'model-dir', 'metrics', 'params', 'c', 'max-iter'],
} as const;

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

function number(values: Values, name: string, fallback: string, ok: (n: number) => boolean, fix: string): number {
  const raw = values[name];
  const text = typeof raw === 'string' ? raw : fallback;
  const n = Number(text);
  if (text.trim() === '' || !ok(n)) throw badInput(`--${name}`, text, fix);
  return n;
}

const text = (values: Values, name: string, fallback: string): string => {
  const raw = values[name];
  return typeof raw === 'string' ? raw : fallback;
};

export const command: Command = {
  summary: "The demo's example dataset and training program, to try the CLI in an empty folder",
  usage: [
    'example data [--out data] [--rows 2000] [--holdout-fraction 0.25] [--seed 42] [--drift 0]',
    'example train [--train data/train.csv] [--holdout data/holdout.csv] [--schema FILE] [--model-dir model] [--metrics metrics.json] [--params params.yaml] [--c 1.0] [--max-iter 100]',
  ],
  allowPositionals: true,
  options: {
    out: { type: 'string' },
    rows: { type: 'string' },
    'holdout-fraction': { type: 'string' },
    seed: { type: 'string' },
    drift: { type: 'string' },
    train: { type: 'string' },
    holdout: { type: 'string' },
    schema: { type: 'string' },
    'model-dir': { type: 'string' },
    metrics: { type: 'string' },
    params: { type: 'string' },
    c: { type: 'string' },
    'max-iter': { type: 'string' },
  },
  help: [
    ['data', 'Write a synthetic churn dataset: <out>/train.csv, <out>/holdout.csv, <out>/schema.json (same options, same bytes)'],
    ['  --out DIR', 'Folder to write (default: data)'],
    ['  --rows N', 'Rows in all, at least 4 (default: 2000)'],
    ['  --holdout-fraction F', 'Share of the rows kept for holdout.csv, between 0 and 1 (default: 0.25)'],
    ['  --seed N', 'Random seed (default: 42)'],
    ['  --drift D', 'Shift the distributions, 0 (none) to 1, for drift demos (default: 0)'],
    ['train', 'Fit L2-regularised logistic regression; write <model-dir>/model.onnx, the metrics and params files (seed: MLOPS_SEED)'],
    ['  --train FILE, --holdout FILE', 'The splits (default: data/train.csv, data/holdout.csv)'],
    ['  --schema FILE', 'Label, features and categories (default: schema.json next to the training split)'],
    ['  --model-dir DIR', 'Where model.onnx goes (default: model)'],
    ['  --metrics FILE, --params FILE', 'Holdout metrics and the values used (default: metrics.json, params.yaml)'],
    ['  --c C, --max-iter N', "Inverse regularisation strength, as scikit-learn's C (default: 1.0); Newton iterations (default: 100)"],
  ],
  async run({ values, positionals }, ctx) {
    const [action, ...extra] = positionals;
    if (action !== 'data' && action !== 'train') {
      throw badInput('action', action ?? '', 'is not an example: run `mlops example data` or `mlops example train`');
    }
    if (extra.length > 0) throw new UsageError(`example ${action}: ${JSON.stringify(extra.join(' '))} takes no other arguments`);
    const allowed: readonly string[] = ACTIONS[action];
    const other = Object.keys(values).find((name) => name in command.options && !allowed.includes(name));
    if (other) throw new UsageError(`--${other}: is not an option of \`mlops example ${action}\`; run \`mlops example --help\``);
    const at = (p: string) => resolve(ctx.cwd, p);

    if (action === 'data') {
      const { writeDataset } = await import('../../../scripts/generate-data.ts');
      const rows = number(values, 'rows', '2000', (n) => Number.isInteger(n) && n >= 4, 'must be a whole number ≥ 4');
      const holdout = number(values, 'holdout-fraction', '0.25', (n) => n > 0 && n < 1, 'must be a fraction between 0 and 1');
      const seed = number(values, 'seed', '42', (n) => Number.isInteger(n) && n >= 0, 'must be a whole number ≥ 0');
      const drift = number(values, 'drift', '0', (n) => n >= 0 && n <= 1, 'must be between 0 and 1');
      const paths = writeDataset(at(text(values, 'out', 'data')), { rows, seed, drift, holdout });
      ctx.out(values.json ? JSON.stringify(paths) : `wrote ${[paths.train, paths.holdout, paths.schema].map((p) => relative(ctx.cwd, p)).join(', ')}`);
      return EXIT.ok;
    }

    const { train } = await import('../../../scripts/train.ts');
    const c = number(values, 'c', '1.0', (n) => n > 0, 'must be a number > 0');
    const maxIter = number(values, 'max-iter', '100', (n) => Number.isInteger(n) && n >= 1, 'must be a whole number ≥ 1');
    const seedText = ctx.env.MLOPS_SEED ?? '0';
    const seed = Number(seedText);
    if (seedText.trim() === '' || !Number.isInteger(seed)) throw badInput('MLOPS_SEED', seedText, 'must be a whole number');
    const trainFile = at(text(values, 'train', 'data/train.csv'));
    const result = train({
      train: trainFile,
      holdout: at(text(values, 'holdout', 'data/holdout.csv')),
      schema: typeof values.schema === 'string' ? at(values.schema) : join(dirname(trainFile), 'schema.json'),
      modelDir: at(text(values, 'model-dir', 'model')),
      metrics: at(text(values, 'metrics', 'metrics.json')),
      params: at(text(values, 'params', 'params.yaml')),
      c,
      maxIter,
      seed,
    });
    ctx.out(values.json ? JSON.stringify({ model: result.modelPath, metrics: result.metrics }) : `wrote ${relative(ctx.cwd, result.modelPath)}: ${JSON.stringify(result.metrics)}`);
    return EXIT.ok;
  },
};

// mlops evaluate on real onnxruntime: metrics checked against an independent computation, other tasks and
// input layouts, and every bad input (exit 2, a message naming it, no metrics file written).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURES, writeDataset } from '../../../scripts/generate-data.ts';
import { train } from '../../../scripts/train.ts';
import { main } from '../../../src/cli/main.ts';
import { silentLogger } from '../../../src/log.ts';
import { scoreRow, type LinearClassifierSpec } from '../../../src/onnx/linear-classifier.ts';
import { tempDir } from '../../helpers/tmp.ts';

const { onnx } = onnxProto;
let dir: string;
let spec: LinearClassifierSpec;
let model: string;
let rows: number[][];

beforeAll(() => {
  dir = tempDir('evaluate');
  writeDataset(join(dir, 'data'), { rows: 600, seed: 3 });
  const trained = train({
    train: join(dir, 'data/train.csv'),
    holdout: join(dir, 'data/holdout.csv'),
    schema: join(dir, 'data/schema.json'),
    modelDir: join(dir, 'model'),
    metrics: join(dir, 'train-metrics.json'),
    params: join(dir, 'params.yaml'),
    c: 1,
    maxIter: 100,
    seed: 0,
  });
  spec = trained.spec;
  model = trained.modelPath;
  rows = readFileSync(join(dir, 'data/holdout.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const logger = { ...silentLogger, error: (m: string) => (err += `${m}\n`) };
  const code = await main(['evaluate', ...args], { logger, out: (t) => (out += t), cwd: dir, env: {} });
  return { code, out, err };
}

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

const header = [...FEATURES, 'label'].join(',');

describe('evaluate a binary model', () => {
  it('writes metrics equal to an independent computation over the same predictions', async () => {
    const { code, out } = await cli(['--model', model, '--data', 'data/holdout.csv', '--out', 'eval/metrics.json', '--json', '--latency-samples', '50', '--throughput-ms', '20']);
    expect(code).toBe(0);
    const reported = JSON.parse(out).metrics as Record<string, number>;

    // Independent: run onnxruntime here, then count by hand.
    const session = await ort.InferenceSession.create(model);
    const x = Float32Array.from(rows.flatMap((r) => r.slice(0, FEATURES.length)));
    const p = (await session.run({ input: new ort.Tensor('float32', x, [rows.length, FEATURES.length]) })).probabilities!.data as Float32Array;
    const y = rows.map((r) => r[FEATURES.length]!);
    const p1 = y.map((_, i) => p[2 * i + 1]!);
    const pred = p1.map((_, i) => (p[2 * i + 1]! > p[2 * i]! ? 1 : 0));
    const tp = y.filter((t, i) => t === 1 && pred[i] === 1).length;
    const fp = y.filter((t, i) => t === 0 && pred[i] === 1).length;
    const fn = y.filter((t, i) => t === 1 && pred[i] === 0).length;
    const tn = y.length - tp - fp - fn;
    let pairs = 0;
    let wins = 0;
    y.forEach((a, i) => y.forEach((b, j) => {
      if (a === 1 && b === 0) {
        pairs++;
        wins += p1[i]! > p1[j]! ? 1 : p1[i] === p1[j] ? 0.5 : 0;
      }
    }));
    const logLoss = -y.reduce((s, t, i) => s + Math.log(Math.min(1 - 1e-15, Math.max(1e-15, t === 1 ? p[2 * i + 1]! : p[2 * i]!))), 0) / y.length;
    const precision = tp / (tp + fp);
    const recall = tp / (tp + fn);
    expect(reported.accuracy).toBeCloseTo((tp + tn) / y.length, 12);
    expect(reported.precision).toBeCloseTo(precision, 12);
    expect(reported.recall).toBeCloseTo(recall, 12);
    expect(reported.f1).toBeCloseTo((2 * precision * recall) / (precision + recall), 12);
    expect(reported.roc_auc).toBeCloseTo(wins / pairs, 12);
    expect(reported.log_loss).toBeCloseTo(logLoss, 12);
    expect([reported['confusion_matrix.0.0'], reported['confusion_matrix.0.1'], reported['confusion_matrix.1.0'], reported['confusion_matrix.1.1']]).toEqual([tn, fp, fn, tp]);
    // The graph computes what the trainer's own TypeScript scoring computes.
    rows.forEach((r, i) => expect(Math.abs(p1[i]! - scoreRow(spec, r))).toBeLessThan(1e-5));

    const file = JSON.parse(readFileSync(join(dir, 'eval/metrics.json'), 'utf8'));
    expect(file.accuracy).toBe(reported.accuracy);
    expect(file.confusion_matrix['1']['1']).toBe(tp);
    expect(file.latency.p50_ms).toBeLessThanOrEqual(file.latency.p95_ms);
    expect(file.latency.p95_ms).toBeLessThanOrEqual(file.latency.p99_ms);
    expect(file.throughput.rows_per_s).toBeGreaterThan(0);
    expect(file.rows).toBe(rows.length);
  });

  it('reads JSON Lines with the same result', async () => {
    const jsonl = rows.map((r) => JSON.stringify(Object.fromEntries([...FEATURES, 'label'].map((k, j) => [k, r[j]])))).join('\n');
    write('holdout.jsonl', jsonl + '\n');
    const a = await cli(['--model', model, '--data', 'data/holdout.csv', '--out', 'a.json', '--json', '--latency-samples', '0', '--throughput-ms', '0']);
    const b = await cli(['--model', model, '--data', 'holdout.jsonl', '--out', 'b.json', '--json', '--latency-samples', '0', '--throughput-ms', '0']);
    expect(JSON.parse(b.out).metrics).toEqual(JSON.parse(a.out).metrics);
  });

  it('takes the features by name in model order when the file has other columns too', async () => {
    write('with-id.csv', `customer_id,${header}\n` + rows.map((r, i) => `${i},${r.join(',')}`).join('\n') + '\n');
    const { code } = await cli(['--model', model, '--data', 'with-id.csv', '--features', FEATURES.join(','), '--out', 'c.json', '--latency-samples', '0', '--throughput-ms', '0']);
    expect(code).toBe(0);
  });
});

/** A model whose input and output layout differs from the training scripts' (built here with onnx-proto). */
function tinyModel(kind: 'multiclass' | 'regression'): string {
  const f = (name: string, dims: number[], values: number[]) => ({ name, dims, dataType: 1, floatData: values });
  const info = (name: string, dims: (number | string)[]) => ({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
  const graph =
    kind === 'multiclass'
      ? {
          name: 'softmax',
          node: [
            { opType: 'MatMul', input: ['x', 'W'], output: ['z0'] },
            { opType: 'Add', input: ['z0', 'b'], output: ['z'] },
            { opType: 'Softmax', input: ['z'], output: ['class_probabilities'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
          ],
          initializer: [f('W', [2, 3], [2, -1, 0, 0, 1, -2]), f('b', [3], [0, 0.1, 0.2])],
          input: [info('x', ['N', 2])],
          output: [info('class_probabilities', ['N', 'classes'])], // symbolic: evaluate learns K from a probe run
        }
      : {
          name: 'linear',
          node: [
            { opType: 'Concat', input: ['a', 'b'], output: ['ab'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
            { opType: 'MatMul', input: ['ab', 'W'], output: ['y0'] },
            { opType: 'Add', input: ['y0', 'c'], output: ['prediction'] },
          ],
          initializer: [f('W', [2, 1], [2, -1]), f('c', [1], [0.5])],
          input: [info('a', ['N', 1]), info('b', ['N', 1])],
          output: [info('prediction', ['N', 1])],
        };
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph })).finish();
  writeFileSync(join(dir, `${kind}.onnx`), bytes);
  return `${kind}.onnx`;
}

describe('other tasks and input layouts', () => {
  it('scores a multiclass softmax model', async () => {
    const m = tinyModel('multiclass');
    write('mc.csv', 'u,v,y\n1,0,0\n0,1,1\n0,-1,2\n-1,-1,2\n1,1,0\n');
    const { code, out } = await cli(['--model', m, '--data', 'mc.csv', '--label', 'y', '--task', 'multiclass', '--out', 'mc.json', '--json', '--latency-samples', '5', '--throughput-ms', '0']);
    expect(code).toBe(0);
    const metrics = JSON.parse(out).metrics;
    // logits: [2,0.1,0.2] [-1,1.1,-1.8] [0,-0.9,2.2] [-2,-0.9,2.2] [2,1.1,-1.8] → argmax 0 1 2 2 0: all correct.
    expect(metrics.accuracy).toBe(1);
    expect(metrics.f1).toBe(1);
    expect(metrics.roc_auc).toBe(1);
    expect(metrics['confusion_matrix.2.2']).toBe(2);
  });

  it('scores a regression model with one input per column', async () => {
    const m = tinyModel('regression');
    write('reg.csv', 'b,a,target\n1,1,1.5\n0,2,4\n2,0,-1\n');
    // predictions 2a - b + 0.5: 1.5, 4.5, -1.5
    const { code, out } = await cli(['--model', m, '--data', 'reg.csv', '--label', 'target', '--task', 'regression', '--out', 'reg.json', '--json', '--latency-samples', '0', '--throughput-ms', '0']);
    expect(code).toBe(0);
    const metrics = JSON.parse(out).metrics;
    expect(metrics.mae).toBeCloseTo(1 / 3, 6);
    expect(metrics.rmse).toBeCloseTo(Math.sqrt(0.5 / 3), 6);
    const mean = 4.5 / 3;
    expect(metrics.r2).toBeCloseTo(1 - 0.5 / ((1.5 - mean) ** 2 + (4 - mean) ** 2 + (-1 - mean) ** 2), 6);
  });
});

describe('bad inputs: exit 2 with a message naming the input, no metrics file', () => {
  const cases: [string, () => string[], RegExp][] = [
    ['a missing column', () => ['--data', write('missing.csv', `${header.replace('age,', '')}\n${rows.slice(0, 3).map((r) => r.filter((_, j) => j !== 3).join(',')).join('\n')}\n`)], /missing age.*expected tenure_months, .*found/],
    ['an extra column', () => ['--data', write('extra.csv', `${header},note\n${rows.slice(0, 2).map((r) => `${r.join(',')},7`).join('\n')}\n`)], /unexpected note.*features/],
    ['a non-numeric value', () => ['--data', write('text.csv', `${header}\n${rows[0]!.join(',')}\n${rows[1]!.join(',').replace(/^\d+/, 'twelve')}\n`)], /text\.csv line 3 column "tenure_months" has "twelve", not a finite number/],
    ['an empty holdout', () => ['--data', write('empty.csv', `${header}\n`)], /^mlops evaluate: data: .*empty\.csv has no rows/],
    ['a label of the wrong type', () => ['--data', write('yes.csv', `${header}\n${rows[0]!.slice(0, -1).join(',')},yes\n`)], /label: .*yes\.csv line 2 has "yes" in "label"; binary labels must be 0 or 1/],
    ['a class outside the model', () => ['--data', write('two.csv', `${header}\n${rows[0]!.slice(0, -1).join(',')},2\n`)], /binary labels must be 0 or 1/],
    ['a missing label column', () => ['--data', 'data/holdout.csv', '--label', 'churned'], /^mlops evaluate: label: "churned" is not a column/],
    ['a model onnxruntime cannot load', () => ['--data', 'data/holdout.csv', '--model', write('broken.onnx', 'this is not a protobuf')], /^mlops evaluate: model: ".*broken\.onnx" cannot be loaded by onnxruntime/],
    ['an unknown task', () => ['--data', 'data/holdout.csv', '--task', 'ranking'], /^mlops evaluate: task: "ranking" must be one of binary, multiclass, regression/],
    ['a missing model file', () => ['--data', 'data/holdout.csv', '--model', 'nope.onnx'], /^mlops evaluate: model: ".*nope\.onnx" cannot be read \(ENOENT\)/],
  ];
  it.each(cases)('%s', async (_, args, message) => {
    const given = args();
    const all = given.includes('--model') ? given : ['--model', model, ...given];
    const out = `bad-${Math.random().toString(36).slice(2)}.json`;
    const { code, err } = await cli([...all, '--out', out]);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, out))).toBe(false);
  });
});

// The example training programs on generated data: both export ONNX that onnxruntime-node scores like the
// trainer itself does, deterministically.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDataset, FEATURES, generateRows } from '../../../scripts/generate-data.ts';
import { train } from '../../../scripts/train.ts';
import { scoreRow } from '../../../src/onnx/linear-classifier.ts';
import { tempDir } from '../../helpers/tmp.ts';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const TRAIN_PY = join(import.meta.dirname, '../../../scripts/train.py');

let dir: string;
let holdout: number[][];

beforeAll(() => {
  dir = tempDir('programs');
  writeDataset(join(dir, 'data'), { rows: 800, seed: 7 });
  holdout = readFileSync(join(dir, 'data', 'holdout.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function scoreWithOrt(modelPath: string, rows: number[][]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(modelPath);
  const x = Float32Array.from(rows.flatMap((r) => r.slice(0, FEATURES.length)));
  const out = await session.run({ input: new ort.Tensor('float32', x, [rows.length, FEATURES.length]) });
  await session.release();
  return out.probabilities!.data as Float32Array;
}

function trainTs(out: string) {
  return train({
    train: join(dir, 'data/train.csv'),
    holdout: join(dir, 'data/holdout.csv'),
    schema: join(dir, 'data/schema.json'),
    modelDir: join(dir, out, 'model'),
    metrics: join(dir, out, 'metrics.json'),
    params: join(dir, out, 'params.yaml'),
    c: 1,
    maxIter: 100,
    seed: 1,
  });
}

async function trainPy(out: string, seed = '3') {
  await run(PYTHON, [TRAIN_PY, '--model-dir', `${out}/model`, '--metrics', `${out}/metrics.json`, '--params', `${out}/params.yaml`, '--predictions', `${out}/predictions.json`], {
    cwd: dir,
    env: { ...process.env, MLOPS_SEED: seed },
  });
  return join(dir, out);
}

describe('generate-data', () => {
  it('is deterministic by seed, differs across seeds, and --drift shifts the distribution', () => {
    expect(generateRows({ rows: 50, seed: 1 })).toEqual(generateRows({ rows: 50, seed: 1 }));
    expect(generateRows({ rows: 50, seed: 1 })).not.toEqual(generateRows({ rows: 50, seed: 2 }));
    const mean = (rows: number[][], j: number) => rows.reduce((s, r) => s + r[j]!, 0) / rows.length;
    const base = generateRows({ rows: 2000, seed: 5 });
    const drifted = generateRows({ rows: 2000, seed: 5, drift: 1 });
    expect(mean(drifted, 1) - mean(base, 1)).toBeGreaterThan(10); // monthly_charges
    expect(mean(base, 8)).toBeGreaterThan(0.15); // both classes present
    expect(mean(base, 8)).toBeLessThan(0.85);
  });
});

describe('scripts/train.ts', () => {
  it("exports a model whose onnxruntime predictions match its own TypeScript scoring", async () => {
    const { spec, modelPath, metrics } = trainTs('ts-a');
    const probabilities = await scoreWithOrt(modelPath, holdout);
    holdout.forEach((row, i) => {
      const p = scoreRow(spec, row);
      expect(Math.abs(probabilities[2 * i + 1]! - p)).toBeLessThan(1e-5);
      expect(Math.abs(probabilities[2 * i]! - (1 - p))).toBeLessThan(1e-5);
    });
    expect(metrics.accuracy).toBeGreaterThan(0.7);
    for (const v of Object.values(metrics)) expect(Number.isFinite(v)).toBe(true);
  });

  it('writes byte-identical model, metrics and params for the same data and options', () => {
    trainTs('ts-b');
    trainTs('ts-c');
    for (const f of ['model/model.onnx', 'metrics.json', 'params.yaml']) {
      expect(readFileSync(join(dir, 'ts-b', f)).equals(readFileSync(join(dir, 'ts-c', f)))).toBe(true);
    }
  });

  it("passes the ONNX reference checker with full shape inference", async () => {
    const check = 'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print(m.ir_version, m.opset_import[0].version)';
    const { stdout } = await run(PYTHON, ['-c', check, join(dir, 'ts-b/model/model.onnx')]);
    expect(stdout.trim()).toBe('8 13');
  });

  it('declares IR 8 / opset 13, one float32 input [N, F] and probabilities + label outputs', async () => {
    const session = await ort.InferenceSession.create(join(dir, 'ts-b/model/model.onnx'));
    expect(session.inputMetadata).toEqual([{ name: 'input', isTensor: true, type: 'float32', shape: ['N', FEATURES.length] }]);
    expect(session.outputNames).toEqual(['probabilities', 'label']);
    await session.release();
  });
});

describe('scripts/train.py (Debian python3 + scikit-learn)', () => {
  it("exports a model whose onnxruntime predictions match scikit-learn's predict_proba within 1e-5", async () => {
    const out = await trainPy('py-a');
    const expected = JSON.parse(readFileSync(join(out, 'predictions.json'), 'utf8')).predict_proba as number[][];
    const probabilities = await scoreWithOrt(join(out, 'model/model.onnx'), holdout);
    expect(expected).toHaveLength(holdout.length);
    expected.forEach(([p0, p1], i) => {
      expect(Math.abs(probabilities[2 * i]! - p0!)).toBeLessThan(1e-5);
      expect(Math.abs(probabilities[2 * i + 1]! - p1!)).toBeLessThan(1e-5);
    });
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(Object.keys(metrics).sort()).toEqual(['accuracy', 'f1', 'log_loss', 'roc_auc']);
    expect(readFileSync(join(out, 'params.yaml'), 'utf8')).toContain('seed: 3');
  });

  it('writes byte-identical model and metrics for the same seed', async () => {
    const a = await trainPy('py-b');
    const b = await trainPy('py-c');
    for (const f of ['model/model.onnx', 'metrics.json', 'params.yaml']) {
      expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f)))).toBe(true);
    }
  });

  it('agrees with the TypeScript trainer: both minimise the same L2 logistic objective', async () => {
    const py = await scoreWithOrt(join(dir, 'py-a/model/model.onnx'), holdout);
    const ts = await scoreWithOrt(join(dir, 'ts-a/model/model.onnx'), holdout);
    let max = 0;
    for (let i = 0; i < py.length; i++) max = Math.max(max, Math.abs(py[i]! - ts[i]!));
    expect(max).toBeLessThan(1e-3);
  });
});

import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { silentLogger } from '../../../src/log.ts';
import { publishModel } from '../../../src/model/publish.ts';
import { buildLinearClassifier } from '../../../src/onnx/linear-classifier.ts';
import type { Remote } from '../../../src/storage/remote.ts';
import { LocalRemote } from '../../../src/storage/local-remote.ts';
import { startS3Target, type S3Target } from '../../helpers/s3-servers.ts';
import { tempDir } from '../../helpers/tmp.ts';

/**
 * Issue 16 item 1: `baseline: production` with a holdout scores the production model again on the candidates'
 * rows. Real ONNX models, real onnxruntime, a directory store and s3rver (whose requests a proxy counts).
 */

const FEATURES = ['tenure', 'charges'];
const NO_TIMING = ['--latency-samples', '0', '--throughput-ms', '0'];
const RULES = 'baseline: production\nmetrics:\n  roc_auc: { min: 0.5, max-drop: 0.05 }\n  accuracy: { min: 0.5 }\n';

/** A model directory holding one linear classifier; `w` changes the model (and so the version). */
function modelDir(ws: string, name: string, w: [number, number]): string {
  const dir = join(ws, name);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'model.onnx'),
    buildLinearClassifier({ features: FEATURES, numeric: [{ index: 0, mean: 24, scale: 12 }, { index: 1, mean: 70, scale: 30 }], categorical: [], weights: w, intercept: -0.2, producer: { name: 'test', version: '1' } }),
  );
  return dir;
}

/** 300 rows whose label mostly follows short tenure and high charges, deterministic. */
function holdout(ws: string, file = 'holdout.csv', rows = 300): string {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const lines = ['tenure,charges,label'];
  for (let i = 0; i < rows; i++) {
    const tenure = Math.round(rand() * 60);
    const charges = Math.round(20 + rand() * 100);
    const label = rand() < 1 / (1 + Math.exp(0.08 * (tenure - 24) - 0.03 * (charges - 70))) ? 1 : 0;
    lines.push(`${tenure},${charges},${label}`);
  }
  writeFileSync(join(ws, file), `${lines.join('\n')}\n`);
  return file;
}

async function mlops(argv: string[], cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const log = (m: string) => err.push(m);
  const code = await main(argv, { out: (t) => out.push(t), logger: { debug() {}, info: log, notice: log, warning: log, error: log }, cwd, env: process.env });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** Publishes `dir` with stored card metrics (scored on an older, smaller holdout, plus one metric only training knows). */
async function publish(ws: string, remote: Remote, dir: string, stored: Record<string, number>) {
  writeFileSync(join(ws, `${dir}-card-metrics.json`), JSON.stringify(stored));
  return publishModel({ modelDir: dir, name: 'churn', metrics: `${dir}-card-metrics.json` }, { remote, logger: silentLogger, cwd: ws, env: {} });
}

function deploy(ws: string, version: string): void {
  writeFileSync(join(ws, 'inference.yaml'), `apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: churn}\nspec:\n  predictor:\n    model:\n      modelFormat: {name: onnx}\n      storageUri: s3://models/models/churn/${version}/\n`);
}

function legs(ws: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const name = `leg-${i}`;
    mkdirSync(join(ws, 'legs', name), { recursive: true });
    writeFileSync(join(ws, 'legs', name, 'metrics.json'), JSON.stringify({ roc_auc: 0.7 + i / 100, accuracy: 0.7 }));
    return name;
  });
}

describe('champion re-scoring on a directory store', () => {
  it('two versions scored on one holdout give the numbers two `mlops evaluate` runs give; card-only metrics stay', async () => {
    const ws = tempDir('champion');
    const store = tempDir('champion-store');
    const remote = new LocalRemote(store);
    holdout(ws);
    writeFileSync(join(ws, 'gates.yml'), RULES);
    legs(ws, 1);
    const scores: number[] = [];
    for (const [dir, w] of [['v1', [-0.9, 0.6]], ['v2', [-0.4, 0.9]]] as const) {
      modelDir(ws, dir, [...w]);
      const published = await publish(ws, remote, dir, { roc_auc: 0.99, accuracy: 0.99, 'train.seconds': 12.5 });
      deploy(ws, published.version);
      const evaluated = await mlops(['evaluate', '--model', `${dir}/model.onnx`, '--data', 'holdout.csv', '--out', `${dir}-evaluation.json`, ...NO_TIMING, '--json'], ws);
      expect(evaluated.code, evaluated.stderr).toBe(0);
      const expected = JSON.parse(evaluated.stdout).metrics;
      expect(Object.keys(expected)).toEqual(expect.arrayContaining(['roc_auc', 'accuracy', 'log_loss', 'rows']));
      scores.push(expected.roc_auc);

      const gate = await mlops(['gate', '--metrics', 'legs', '--rules', 'gates.yml', '--manifest', 'inference.yaml', '--remote', store, '--holdout', 'holdout.csv', ...NO_TIMING, '--json'], ws);
      expect([0, 1], gate.stderr).toContain(gate.code);
      const { baseline } = JSON.parse(gate.stdout);
      expect(baseline.source).toBe(`production churn ${published.version}, re-scored on holdout.csv (300 rows)`);
      expect(baseline.metrics).toEqual({ ...expected, 'train.seconds': 12.5 });
      expect(baseline.production).toMatchObject({ version: published.version, rescored: { holdout: 'holdout.csv', rows: 300, cached: false }, fromCard: ['train.seconds'] });

      const report = await mlops(['gate', '--metrics', 'legs', '--rules', 'gates.yml', '--manifest', 'inference.yaml', '--remote', store, '--holdout', 'holdout.csv', ...NO_TIMING], ws);
      expect(report.stdout).toContain(`baseline \`production churn ${published.version}\` re-scored on \`holdout.csv\` (300 rows); \`train.seconds\` from its model card.`);
    }
    expect(scores[0]).not.toBe(scores[1]); // two models, two sets of numbers: nothing came from the card
  });

  it('without a holdout the card\'s stored metrics are the baseline, and the report says so', async () => {
    const ws = tempDir('champion-card');
    const store = tempDir('champion-store');
    modelDir(ws, 'v1', [-0.9, 0.6]);
    const published = await publish(ws, new LocalRemote(store), 'v1', { roc_auc: 0.99, accuracy: 0.99 });
    deploy(ws, published.version);
    writeFileSync(join(ws, 'gates.yml'), RULES);
    legs(ws, 1);
    const json = await mlops(['gate', '--metrics', 'legs', '--rules', 'gates.yml', '--manifest', 'inference.yaml', '--remote', store, '--json'], ws);
    expect(json.code).toBe(1); // 0.70 is a drop of 0.29 from the stored 0.99
    const { baseline } = JSON.parse(json.stdout);
    expect(baseline).toMatchObject({ source: `production churn ${published.version}, stored metrics from its model card`, metrics: { roc_auc: 0.99, accuracy: 0.99 } });
    expect(baseline.production.rescored).toBeUndefined();
    const report = await mlops(['gate', '--metrics', 'legs', '--rules', 'gates.yml', '--manifest', 'inference.yaml', '--remote', store], ws);
    expect(report.stdout).toContain(`baseline \`production churn ${published.version}\`: stored metrics from its model card.`);
  });

  it('a corrupt production model (sha256 mismatch) is exit 3 naming the file, and nothing is scored', async () => {
    const ws = tempDir('champion-corrupt');
    const store = tempDir('champion-store');
    modelDir(ws, 'v1', [-0.9, 0.6]);
    const published = await publish(ws, new LocalRemote(store), 'v1', { roc_auc: 0.6 });
    deploy(ws, published.version);
    holdout(ws);
    legs(ws, 1);
    const file = join(store, 'models/churn', published.version, 'model.onnx');
    const bytes = modelDir(ws, 'other', [5, 5]);
    writeFileSync(file, readFileSync(join(bytes, 'model.onnx')));
    const r = await mlops(['gate', '--metrics', 'legs', '--rules', RULES, '--manifest', 'inference.yaml', '--remote', store, '--holdout', 'holdout.csv', ...NO_TIMING], ws);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`^mlops gate: file://${store}/models/churn/${published.version}/model\\.onnx: has (\\d+ bytes|sha256 [0-9a-f]{64}), model\\.json says`, 'm'));
    expect(r.stderr).not.toContain('re-scored');
    expect(r.stdout).toBe('');
  });

  it('refuses evaluate options without a holdout, and a holdout without a production manifest (exit 2)', async () => {
    const ws = tempDir('champion-usage');
    legs(ws, 1);
    const stray = await mlops(['gate', '--metrics', 'legs', '--rules', RULES, '--task', 'regression'], ws);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('task: "regression" only applies with holdout');
    const orphan = await mlops(['gate', '--metrics', 'legs', '--rules', RULES, '--holdout', 'holdout.csv'], ws);
    expect(orphan.code).toBe(2);
    expect(orphan.stderr).toContain('holdout: re-scores the production model, which needs --baseline production and --manifest');
  });
});

describe('the gate action with a holdout', () => {
  it('re-scores production and says so in the job summary and the report output', async () => {
    const ws = tempDir('champion-action');
    const store = tempDir('champion-store');
    modelDir(ws, 'v1', [-0.9, 0.6]);
    const published = await publish(ws, new LocalRemote(store), 'v1', { roc_auc: 0.99, accuracy: 0.99 });
    deploy(ws, published.version);
    holdout(ws);
    legs(ws, 2);
    writeFileSync(join(ws, 'gates.yml'), RULES);
    const output = join(ws, 'output');
    const summary = join(ws, 'summary.md');
    writeFileSync(output, '');
    writeFileSync(summary, '');
    const env = {
      PATH: process.env.PATH,
      GITHUB_WORKSPACE: ws,
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_EVENT_NAME: 'push',
      INPUT_METRICS: 'legs',
      INPUT_RULES: 'gates.yml',
      INPUT_MANIFEST: 'inference.yaml',
      INPUT_REMOTE: store,
      INPUT_HOLDOUT: 'holdout.csv',
      'INPUT_LATENCY-SAMPLES': '0',
      'INPUT_THROUGHPUT-MS': '0',
      INPUT_COMMENT: 'false',
      'INPUT_FAIL-ON-REGRESSION': 'false',
    };
    const r = await promisify(execFile)(process.execPath, [join(import.meta.dirname, '../../../actions/gate/dist/index.js')], { env, cwd: ws });
    expect(r.stdout).not.toContain('::error::');
    expect(readFileSync(summary, 'utf8')).toContain(`baseline \`production churn ${published.version}\` re-scored on \`holdout.csv\` (300 rows)`);
  });
});

describe('champion re-scoring against S3, counted', () => {
  let s3: S3Target;
  beforeAll(async () => {
    s3 = await startS3Target();
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('a matrix of 4 legs downloads and scores the champion once; 4 gate runs with a champion cache, once in all', async () => {
    const ws = tempDir('champion-s3');
    const bucket = await s3.newBucket();
    const proxy = await s3.proxy();
    modelDir(ws, 'v1', [-0.9, 0.6]);
    const published = await publish(ws, s3.remote(`s3://${bucket}/registry`), 'v1', { roc_auc: 0.75, accuracy: 0.7 });
    deploy(ws, published.version);
    holdout(ws);
    writeFileSync(join(ws, 'gates.yml'), RULES);
    const names = legs(ws, 4);
    const args = ['--rules', 'gates.yml', '--manifest', 'inference.yaml', '--remote', `s3://${bucket}/registry`, '--endpoint', proxy.endpoint, '--holdout', 'holdout.csv', ...NO_TIMING];
    const downloads = () => proxy.count('GET', '/model.onnx');

    const together = await mlops(['gate', '--metrics', 'legs', ...args, '--json'], ws);
    expect([0, 1], together.stderr).toContain(together.code);
    expect(JSON.parse(together.stdout).legs).toHaveLength(4);
    expect(downloads()).toBe(1);
    expect(together.stderr.match(/re-scored production churn/g)).toHaveLength(1);

    // The same matrix gated leg by leg (one job per leg on one runner), sharing a champion cache.
    const cache = tempDir('champion-cache');
    const before = downloads();
    const runs = [];
    for (const name of names) runs.push(await mlops(['gate', '--metrics', `legs/${name}`, ...args, '--champion-cache', cache, '--json'], ws));
    expect(downloads() - before).toBe(1);
    expect(runs.map((r) => JSON.parse(r.stdout).baseline.production.rescored.cached)).toEqual([false, true, true, true]);
    const metrics = runs.map((r) => JSON.parse(r.stdout).baseline.metrics);
    for (const m of metrics) expect(m).toEqual(metrics[0]);

    // Another holdout is another key: scored again.
    holdout(ws, 'holdout-2.csv', 200);
    const other = await mlops(['gate', '--metrics', 'legs/leg-0', ...args.map((a) => (a === 'holdout.csv' ? 'holdout-2.csv' : a)), '--champion-cache', cache, '--json'], ws);
    expect(JSON.parse(other.stdout).baseline.production.rescored).toMatchObject({ holdout: 'holdout-2.csv', rows: 200, cached: false });
    expect(downloads() - before).toBe(2);
  });
});

// `mlops profile` and `mlops drift` as a user runs them: a profile from training data and a real ONNX model
// (onnxruntime-node), drift on KServe payload logs with the --json shape, exit codes (0, 1 with
// --fail-on-drift, 2 for bad input naming it, 3 when the window cannot be read), and a profile read from a
// published version on a real S3-compatible server.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDataset } from '../../../scripts/generate-data.ts';
import { train } from '../../../scripts/train.ts';
import { main } from '../../../src/cli/main.ts';
import { parseProfile } from '../../../src/drift/profile.ts';
import { silentLogger } from '../../../src/log.ts';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3RVER_CREDENTIALS, startS3rver, type S3rverProcess } from '../../helpers/s3rver.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { FEATURES, payloadLog, writeProfileFile } from './fixtures.ts';

let dir: string;

beforeAll(() => {
  dir = tempDir('drift-cli');
  writeProfileFile(join(dir, 'profile.json'));
  mkdirSync(join(dir, 'logs'));
  writeFileSync(join(dir, 'logs', 'calm.jsonl'), payloadLog({ records: 30, rowsPerRecord: 100, seed: 5 }));
});

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const logger = { ...silentLogger, error: (m: string) => (err += `${m}\n`), warning: (m: string) => (err += `warning: ${m}\n`) };
  const code = await main(args, { logger, out: (t) => (out += t), cwd: dir, env });
  return { code, out, err };
}

describe('mlops profile', () => {
  it('profiles training data with the model’s outputs, in the v1 format, ≤ 32 KB per numeric feature', async () => {
    const data = join(dir, 'train');
    writeDataset(data, { rows: 1200, seed: 8 });
    const trained = train({ train: join(data, 'train.csv'), holdout: join(data, 'holdout.csv'), schema: join(data, 'schema.json'), modelDir: join(dir, 'model'), metrics: join(dir, 'm.json'), params: join(dir, 'p.yaml'), c: 1, maxIter: 50, seed: 0 });
    const { code, out } = await cli(['profile', '--data', 'train/train.csv', '--categorical', 'contract,payment_method', '--categorical', 'internet_service', '--model', trained.modelPath, '--out', 'out/profile.json', '--json']);
    expect(code).toBe(0);
    const summary = JSON.parse(out) as { rows: number; features: { name: string; kind: string }[]; outputs: { name: string; kind: string }[] };
    expect(summary.rows).toBe(900);
    expect(summary.features.map((f) => `${f.name}:${f.kind}`)).toEqual([
      'tenure_months:numeric',
      'monthly_charges:numeric',
      'support_calls:numeric',
      'age:numeric',
      'data_usage_gb:numeric',
      'contract:categorical',
      'payment_method:categorical',
      'internet_service:categorical',
    ]);
    expect(summary.outputs.map((f) => `${f.name}:${f.kind}`)).toEqual(['probabilities[0]:numeric', 'probabilities[1]:numeric', 'label:categorical']);
    const text = readFileSync(join(dir, 'out/profile.json'), 'utf8');
    const profile = parseProfile(text, 'profile.json');
    expect(profile.inputs).toEqual([{ name: 'input', features: summary.features.map((f) => f.name) }]);
    for (const line of text.split('\n').filter((l) => l.includes('"kind":"numeric"'))) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(32 * 1024);
    const p1 = profile.outputs.find((o) => o.name === 'probabilities[1]')!;
    expect(p1.kind === 'numeric' && p1.count).toBe(900);
    // The same data gives the same bytes (a republished model is the same version).
    await cli(['profile', '--data', 'train/train.csv', '--categorical', 'contract,payment_method,internet_service', '--model', trained.modelPath, '--out', 'out/again.json']);
    expect(readFileSync(join(dir, 'out/again.json'), 'utf8')).toBe(text);
  });

  it('exits 2 naming the input for a missing label or categorical column, and writes nothing', async () => {
    writeFileSync(join(dir, 'small.csv'), 'a,b\n1,x\n2,y\n');
    const label = await cli(['profile', '--data', 'small.csv', '--label', 'target', '--out', 'bad.json']);
    expect(label.code).toBe(2);
    expect(label.err).toMatch(/label: "target" is not a column of .*small\.csv; its columns are a, b/);
    const categorical = await cli(['profile', '--data', 'small.csv', '--categorical', 'c', '--out', 'bad.json']);
    expect(categorical.code).toBe(2);
    expect(existsSync(join(dir, 'bad.json'))).toBe(false);
  });
});

describe('mlops drift', () => {
  it('finds no drift on a calm window and prints the issue’s --json shape', async () => {
    const { code, out } = await cli(['drift', '--profile', 'profile.json', '--current', 'logs/calm.jsonl', '--json']);
    expect(code).toBe(0);
    const r = JSON.parse(out) as Record<string, unknown> & { features: Record<string, unknown>[]; dataset: Record<string, number> };
    expect(r).toMatchObject({ drifted: false, insufficient: false, rows: 3000, dataset: { 'drift-share': 0.5 } });
    expect(r.features.map((f) => f.name)).toEqual([...FEATURES, 'label', 'probabilities[0]', 'probabilities[1]']);
    for (const f of r.features) {
      expect(Object.keys(f)).toEqual(expect.arrayContaining(['name', 'kind', 'test', 'statistic', 'threshold', 'drifted', 'severity']));
      expect(f.kind === 'categorical' ? 'new_categories' in f : true).toBe(true);
      expect('p_value' in f).toBe(f.test === 'ks' || f.test === 'chi2');
      expect(f.drifted).toBe(false);
    }
    expect(r.records).toMatchObject({ requests: 30, responses: 30, unpairedRequests: 0, malformed: 0 });
  });

  it('finds the two shifted features, exits 0 (drift is a signal) or 1 with --fail-on-drift, and writes the report', async () => {
    writeFileSync(join(dir, 'logs-shifted.jsonl'), payloadLog({ records: 30, rowsPerRecord: 100, seed: 6, shift: ['tenure_months', 'monthly_charges'] }));
    writeFileSync(join(dir, 'drift.yml'), 'drift-share: 0.5\nfeatures:\n  support_calls: { test: ks, min-p: 0.01 }\n');
    const args = ['drift', '--profile', 'profile.json', '--current', 'logs-shifted.jsonl', '--rules', 'drift.yml', '--report', 'report.md'];
    const run = await cli([...args, '--json']);
    expect(run.code).toBe(0);
    const r = JSON.parse(run.out) as { drifted: boolean; features: { name: string; drifted: boolean }[]; dataset: { share: number } };
    expect(r.features.filter((f) => f.drifted).map((f) => f.name)).toEqual(['tenure_months', 'monthly_charges']);
    expect(r.dataset.share).toBe(0.5);
    expect(r.drifted).toBe(true);
    expect((await cli([...args, '--fail-on-drift'])).code).toBe(1);
    const report = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(report).toMatch(/^### 🔴 dataset drift — 2 of 4 columns drifted/);
    expect(report).toMatch(/```mermaid\nxychart-beta\n {2}title "tenure_months: reference \(bars\) vs current \(line\), % of rows"/);
  });

  it('says insufficient data below min-rows, exit 0, never "no drift"', async () => {
    writeFileSync(join(dir, 'few.jsonl'), payloadLog({ records: 2, rowsPerRecord: 100, seed: 7, shift: ['tenure_months'] }));
    const { code, out } = await cli(['drift', '--profile', 'profile.json', '--current', 'few.jsonl', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ drifted: false, insufficient: true, rows: 200 });
    const text = await cli(['drift', '--profile', 'profile.json', '--current', 'few.jsonl']);
    expect(text.out).toMatch(/insufficient data to judge drift/);
  });

  it('reads the window by --since/--until and --window', async () => {
    writeFileSync(join(dir, 'hours.jsonl'), payloadLog({ records: 40, rowsPerRecord: 50, seed: 9, start: '2026-11-22T09:30:00Z', step: 90_000 }));
    const { out } = await cli(['drift', '--profile', 'profile.json', '--current', 'hours.jsonl', '--since', '2026-11-22T10:00:00Z', '--until', '2026-11-22T10:30:00', '--json']);
    const r = JSON.parse(out) as { rows: number; window: Record<string, string>; records: { outside: number } };
    expect(r.rows).toBe(20 * 50);
    expect(r.window).toMatchObject({ since: '2026-11-22T10:00:00.000Z', until: '2026-11-22T10:30:00.000Z', key: '2026-11-22T10:00:00.000Z..2026-11-22T10:30:00.000Z' });
    expect(r.records.outside).toBe(40 * 2 - 20 * 2);
  });

  it('exits 2 for bad input, naming it: rules, format, times, profile path', async () => {
    writeFileSync(join(dir, 'bad-rules.yml'), 'features:\n  tenure_months: { test: kolmogorov }\n');
    const rules = await cli(['drift', '--profile', 'profile.json', '--current', 'logs/calm.jsonl', '--rules', 'bad-rules.yml']);
    expect(rules.code).toBe(2);
    expect(rules.err).toMatch(/bad-rules\.yml: key "features\.tenure_months\.test" has value "kolmogorov"/);
    const unknown = await cli(['drift', '--profile', 'profile.json', '--current', 'logs/calm.jsonl', '--rules', 'features:\n  tenure: { max: 0.3 }\n']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/key "features\.tenure" names no feature or output of the profile; did you mean "tenure_months"\?/);
    expect((await cli(['drift', '--profile', 'profile.json', '--current', 'logs', '--format', 'parquet'])).err).toMatch(/format: "parquet" must be one of auto, csv, jsonl, kserve/);
    expect((await cli(['drift', '--profile', 'profile.json', '--current', 'logs', '--since', 'yesterday'])).err).toMatch(/since: "yesterday" is not an ISO 8601 time/);
    expect((await cli(['drift', '--profile', 'nope.json', '--current', 'logs'])).code).toBe(2);
    expect((await cli(['drift', '--profile', 'profile.json', '--current', 'logs', '--issue'])).err).toMatch(/repository: "" is required with --issue/);
  });

  it('exits 3 when more than 1 % of the records are malformed, or the profile is not a profile', async () => {
    const good = payloadLog({ records: 20, rowsPerRecord: 10, seed: 3 });
    writeFileSync(join(dir, 'broken.jsonl'), `${good}{"specversion":"1.0","id":"x-1","type":"org.kubeflow.serving.inference.request","data":{"instances":[[1,2]]}}\n`);
    const run = await cli(['drift', '--profile', 'profile.json', '--current', 'broken.jsonl']);
    expect(run.code).toBe(3);
    expect(run.err).toMatch(/1 of 41 records are malformed \(more than 1 %\); the first: .*broken\.jsonl:41 id "x-1": an instance has 2 values, the model takes 4/);
    writeFileSync(join(dir, 'not-a-profile.json'), '{"schema": "something/else"}');
    const profile = await cli(['drift', '--profile', 'not-a-profile.json', '--current', 'logs']);
    expect(profile.code).toBe(3);
    expect(profile.err).toMatch(/schema: must be "mlops-actions\/profile\/v1"/);
  });

  it('writes the dispatch it would send to a file (--dispatch-out), with no token', async () => {
    writeFileSync(join(dir, 'shift-all.jsonl'), payloadLog({ records: 20, rowsPerRecord: 100, seed: 11, shift: ['tenure_months', 'monthly_charges', 'contract'] }));
    const { code, out } = await cli(['drift', '--profile', 'profile.json', '--current', 'shift-all.jsonl', '--repository', 'acme/churn-ml', '--dispatch', 'retrain.yml', '--dispatch-out', 'dispatch.json', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(out).retrain.dispatch.status).toBe('written');
    const request = JSON.parse(readFileSync(join(dir, 'dispatch.json'), 'utf8')) as { method: string; path: string; body: { ref: string; inputs: Record<string, string>; return_run_details: boolean } };
    expect([request.method, request.path]).toEqual(['POST', '/repos/acme/churn-ml/actions/workflows/retrain.yml/dispatches']);
    expect(request.body.ref).toBe('main');
    expect(Object.keys(request.body.inputs)).toEqual(['model', 'reason', 'profile-version', 'window']);
  });
});

describe('a profile from a published version on S3', () => {
  let s3: S3rverProcess;
  const saved = { ...process.env };
  beforeAll(async () => {
    s3 = await startS3rver(tempDir('drift-s3rver'));
    // The CLI finds its keys the way users' runs do: through the standard AWS chain.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' });
  });
  afterAll(async () => {
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_EC2_METADATA_DISABLED']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await s3.stop();
  });

  it('reads profile.json and model.json from the storage URI, and payload logs from an S3 prefix', async () => {
    const admin = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: S3RVER_CREDENTIALS });
    await admin.send(new CreateBucketCommand({ Bucket: 'models' }));
    const version = 'sha256-00112233445566aa';
    const put = (Key: string, Body: string | Buffer) => admin.send(new PutObjectCommand({ Bucket: 'models', Key, Body }));
    await put(`models/churn/${version}/profile.json`, readFileSync(join(dir, 'profile.json')));
    const card = { schema: 'mlops-actions/model/v1', name: 'churn', version, format: 'onnx', files: [{ path: 'model.onnx', sha256: 'a'.repeat(64), size: 1 }], metrics: {}, params: {}, data: [], source: {}, signature: { inputs: [{ name: 'input', dtype: 'float32', shape: [-1, 4] }], outputs: [] }, created: '2026-11-22T10:00:00Z' };
    await put(`models/churn/${version}/model.json`, JSON.stringify(card));
    await put('logs/churn/2026-11-22/part-0001.jsonl', payloadLog({ records: 10, rowsPerRecord: 100, seed: 12, shift: ['tenure_months', 'monthly_charges'] }));
    await put('logs/churn/2026-11-22/part-0002.jsonl', payloadLog({ records: 5, rowsPerRecord: 100, seed: 13, shift: ['tenure_months', 'monthly_charges'] }));
    admin.destroy();
    const { code, out, err } = await cli(['drift', '--profile', `s3://models/models/churn/${version}/`, '--current', 's3://models/logs/churn/', '--endpoint', s3.endpoint, '--json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const r = JSON.parse(out) as { model: string; version: string; rows: number; sources: unknown[]; features: { name: string; drifted: boolean }[] };
    expect([r.model, r.version, r.rows, r.sources.length]).toEqual(['churn', version, 1500, 2]);
    expect(r.features.filter((f) => f.drifted).map((f) => f.name)).toEqual(['tenure_months', 'monthly_charges']);
    const missing = await cli(['drift', '--profile', 's3://models/models/churn/sha256-ffffffffffffffff/', '--current', 's3://models/logs/churn/', '--endpoint', s3.endpoint]);
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/profile\.json does not exist: this version was published without a profile/);
  });
});

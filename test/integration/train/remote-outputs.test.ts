// A cluster leg's outputs, collected from the S3 prefix the pod wrote (s3rver on loopback): what lands in the
// working directory, what is refused, and that nothing half-arrived is left behind.
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.ts';
import { buildLinearClassifier } from '../../../src/onnx/linear-classifier.ts';
import { collectOutputs, s3OutputStore, type OutputStore } from '../../../src/train/backends/outputs.ts';
import { startS3Target, type S3Target } from '../../helpers/s3-servers.ts';
import { tempDir } from '../../helpers/tmp.ts';

let target: S3Target;
beforeAll(async () => {
  target = await startS3Target();
});
afterAll(async () => {
  await target?.stop();
});

const ONNX = buildLinearClassifier({ features: ['a'], numeric: [{ index: 0, mean: 0, scale: 1 }], categorical: [], weights: [1], intercept: 0, producer: { name: 'test', version: '1' } });

async function runPrefix(extra: Record<string, string | Uint8Array> = {}): Promise<{ bucket: string; url: string }> {
  const bucket = await target.newBucket();
  const objects: Record<string, string | Uint8Array> = {
    'model/model.onnx': ONNX,
    'model/tokenizer/vocab.json': '{"a": 1}',
    'metrics.json': '{"accuracy": 0.91}',
    'profile.json': '{"schema": "mlops-actions/profile/v1", "rows": 3, "features": [], "outputs": []}',
    'unrelated.log': 'not collected',
    ...extra,
  };
  for (const [key, body] of Object.entries(objects)) await target.put(bucket, `runs/mlops-churn-a-1/${key}`, body);
  return { bucket, url: `s3://${bucket}/runs/mlops-churn-a-1` };
}

const open = (url: string) => s3OutputStore(url, { endpoint: target.endpoint });

describe('collectOutputs', () => {
  it('downloads the model folder, metrics and profile.json into the working directory, replacing stale ones', async () => {
    const { url } = await runPrefix();
    const cwd = tempDir('remote-outputs');
    mkdirSync(join(cwd, 'model'), { recursive: true });
    writeFileSync(join(cwd, 'model', 'stale.onnx'), 'left by an earlier attempt');
    const store = open(url);
    try {
      const got = await collectOutputs(store, { cwd, modelDir: 'model', metrics: 'metrics.json' }, silentLogger);
      expect(got.files.map((f) => f.slice(cwd.length + 1)).sort()).toEqual(['metrics.json', 'model/model.onnx', 'model/tokenizer/vocab.json', 'profile.json']);
      expect(got.profile).toBe(join(cwd, 'profile.json'));
      expect(Buffer.compare(readFileSync(join(cwd, 'model/model.onnx')), Buffer.from(ONNX))).toBe(0);
      expect(existsSync(join(cwd, 'model', 'stale.onnx'))).toBe(false);
      expect(existsSync(join(cwd, 'unrelated.log'))).toBe(false);
      expect(readdirSync(cwd).filter((f) => f.includes('.tmp'))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('refuses a run that uploaded no model or no metrics, naming the input and where it looked', async () => {
    const bucket = await target.newBucket();
    await target.put(bucket, 'runs/x/metrics.json', '{"accuracy": 1}');
    const store = open(`s3://${bucket}/runs/x`);
    try {
      await expect(collectOutputs(store, { cwd: tempDir('remote-none'), modelDir: 'model', metrics: 'metrics.json' }, silentLogger)).rejects.toThrow(
        new RegExp(`^model-dir: "model" was not uploaded: the pod must write the model under \\$MLOPS_OUTPUT_URI \\(s3://${bucket}/runs/x/model/\\)`),
      );
      await expect(collectOutputs(store, { cwd: tempDir('remote-none'), modelDir: 'out', metrics: 'm.json' }, silentLogger)).rejects.toThrow(/^model-dir/);
    } finally {
      await store.close();
    }
  });

  it('refuses bytes that do not match the listing (MD5) and keys that would escape, leaving the workspace untouched', async () => {
    const { url } = await runPrefix();
    const real = open(url);
    const tampered = (change: (o: Awaited<ReturnType<OutputStore['list']>>) => void): OutputStore => ({
      ...real,
      url: real.url,
      async list() {
        const objects = await real.list();
        change(objects);
        return objects;
      },
    });
    try {
      const cwd = tempDir('remote-bad');
      writeFileSync(join(cwd, 'metrics.json'), 'previous');
      const wrongMd5 = tampered((objects) => {
        objects.find((o) => o.key === 'model/model.onnx')!.etag = '0'.repeat(32);
      });
      await expect(collectOutputs(wrongMd5, { cwd, modelDir: 'model', metrics: 'metrics.json' }, silentLogger)).rejects.toThrow(/model\/model\.onnx: the downloaded bytes do not match the object's MD5/);
      const wrongSize = tampered((objects) => {
        objects.find((o) => o.key === 'metrics.json')!.size += 1;
      });
      await expect(collectOutputs(wrongSize, { cwd, modelDir: 'model', metrics: 'metrics.json' }, silentLogger)).rejects.toThrow(/metrics\.json: downloaded \d+ bytes, the listing says/);
      const escaping = tampered((objects) => {
        objects.push({ key: 'model/../../../etc/evil', size: 1 });
      });
      await expect(collectOutputs(escaping, { cwd, modelDir: 'model', metrics: 'metrics.json' }, silentLogger)).rejects.toThrow(/is not a plain relative path/);
      expect(readdirSync(cwd)).toEqual(['metrics.json']);
      expect(readFileSync(join(cwd, 'metrics.json'), 'utf8')).toBe('previous');
    } finally {
      await real.close();
    }
  });
});

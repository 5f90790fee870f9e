import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { silentLogger } from '../../../src/log.ts';
import { publishModel, versionFiles } from '../../../src/model/publish.ts';
import { startS3Target, type S3Target } from '../../helpers/s3-servers.ts';
import { publishSuite, workspace } from '../publish/suite.ts';

// s3rver in `npm test`; radosgw (which answers 412 to the losing conditional PUT) in `npm run test:s3-real`.
let target: S3Target;
beforeAll(async () => {
  target = await startS3Target();
});
afterAll(async () => {
  await target?.stop();
});

publishSuite(process.env.MLOPS_S3_ENDPOINT ? 'radosgw' : 's3rver', {
  // s3rver ignores If-None-Match, so two racing writers can both "win" (with identical file bytes).
  exclusiveCreate: Boolean(process.env.MLOPS_S3_ENDPOINT),
  async open() {
    const bucket = await target.newBucket();
    const proxy = await target.proxy();
    const remote = target.remote(`s3://${bucket}/registry`, { endpoint: proxy.endpoint, maxAttempts: 2 });
    return { remote, puts: () => proxy.count('PUT') };
  },
});

describe('mlops publish --remote s3://… --endpoint', () => {
  it('publishes through the CLI with the standard credential chain, then reports unchanged', async () => {
    const bucket = await target.newBucket();
    const cwd = workspace();
    const run = async () => {
      const out: string[] = [];
      const code = await main(['publish', 'churn', '--name', 'churn', '--remote', `s3://${bucket}/registry`, '--endpoint', target.endpoint, '--profile', 'profile.json', '--json'], {
        out: (t) => out.push(t),
        logger: silentLogger,
        cwd,
        env: process.env,
      });
      return { code, json: JSON.parse(out.join('')) };
    };
    const first = await run();
    expect(first.code).toBe(0);
    expect(first.json.status).toBe('published');
    expect(first.json['storage-uri']).toBe(`s3://${bucket}/registry/models/churn/${first.json.version}/`);
    expect(await target.keys(bucket)).toEqual(
      ['extra-weights.bin', 'model.json', 'model.onnx', 'profile.json', 'tokenizer/vocab.json'].map((p) => `registry/models/churn/${first.json.version}/${p}`),
    );
    const second = await run();
    expect(second.json).toMatchObject({ status: 'unchanged', version: first.json.version, created: [] });
  });
});

describe('publish when the connection breaks on model.json', () => {
  it('fails, leaves no model.json, and a re-run sends only model.json', async () => {
    const bucket = await target.newBucket();
    const proxy = await target.proxy();
    const remote = target.remote(`s3://${bucket}`, { endpoint: proxy.endpoint, maxAttempts: 2 });
    proxy.setFault((req) => (req.method === 'PUT' && req.url.includes('/model.json') ? 'reset-request' : 'pass'));
    const cwd = workspace();
    const settings = { modelDir: 'churn', name: 'churn' };
    const deps = { remote, logger: silentLogger, cwd, env: {} };
    await expect(publishModel(settings, deps)).rejects.toThrow();
    const { version } = await versionFiles(settings, cwd);
    expect(await target.get(bucket, `models/churn/${version}/model.json`)).toBeUndefined();
    expect(await target.get(bucket, `models/churn/${version}/model.onnx`)).toBeDefined();
    proxy.setFault(undefined);
    const putsBefore = proxy.count('PUT');
    const resumed = await publishModel(settings, deps);
    expect(resumed).toMatchObject({ status: 'published', created: [`models/churn/${version}/model.json`] });
    expect(proxy.count('PUT') - putsBefore).toBe(1);
    await remote.close();
  });
});

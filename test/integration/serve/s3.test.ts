// s3:// storage URIs and payload prefixes against an S3-compatible server on loopback (s3rver): the version
// published to S3 is downloaded with its sha256 checked and served; payload logs land as objects under the
// prefix; a changed or missing object is refused naming its s3:// URI; the CLI's --endpoint reaches the store.
import { spawn } from 'node:child_process';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.ts';
import { IntegrityError } from '../../../src/model/download.ts';
import { parsePayloadLine, startServer } from '../../../src/serve/index.ts';
import { openRemote } from '../../../src/storage/open-remote.ts';
import { S3Remote } from '../../../src/storage/s3-remote.ts';
import { S3RVER_CREDENTIALS, startS3rver, type S3rverProcess } from '../../helpers/s3rver.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { call, churnRequest } from './client.ts';
import { churnModel, CHURN_FEATURES, type Churn } from './fixtures.ts';

let s3: S3rverProcess;
let admin: S3Client;
let churn: Churn;
const bucket = 'mlops-serve-test';
const saved = { ...process.env };

beforeAll(async () => {
  s3 = await startS3rver(tempDir('s3rver'));
  // The server finds its keys the way users' runs do: the standard AWS chain.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' });
  admin = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: S3RVER_CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  churn = await churnModel({ rows: 200, remote: () => new S3Remote(`s3://${bucket}/registry`, { endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS }) });
});
afterAll(async () => {
  admin?.destroy();
  await s3?.stop();
  for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_EC2_METADATA_DISABLED']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

const open = (url: string) => openRemote(url, { endpoint: s3.endpoint });
const key = (uri: string, file: string) => `${uri.replace(`s3://${bucket}/`, '')}${file}`;

async function keys(prefix: string): Promise<string[]> {
  const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key as string).sort();
}

async function object(k: string): Promise<Buffer> {
  const out = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: k }));
  return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

describe('serving a version published to S3', () => {
  it('downloads it with sha256 checks, serves it, and writes payload logs under an s3:// prefix', async () => {
    expect(churn.storageUri).toBe(`s3://${bucket}/registry/models/churn/${churn.version}/`);
    const server = await startServer({ storageUri: churn.storageUri, port: 0, logPayloads: `s3://${bucket}/payloads/churn` }, { logger: silentLogger, openRemote: open });
    const rows = churn.rows.slice(0, 4).map((r) => r.slice(0, CHURN_FEATURES));
    const answers = await Promise.all(Array.from({ length: 6 }, () => call(server.url, 'POST', '/v2/models/churn/infer', churnRequest(rows))));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(answers[0]!.json.model_version).toBe(churn.version);
    expect(server.storageUri).toBe(churn.storageUri);
    expect(await server.close()).toEqual({ payloadRecords: 12, payloadFiles: 1, payloadDropped: 0 });
    const written = await keys('payloads/churn/');
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^payloads\/churn\/\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}-000001\.jsonl$/);
    const records = (await object(written[0]!)).toString().trim().split('\n').map((l, i) => parsePayloadLine(l, `line ${i + 1}`));
    expect(records).toHaveLength(12);
    expect(records.filter((r) => r.type.endsWith('.request')).map((r) => r.data)).toEqual(Array(6).fill(churnRequest(rows)));
  });

  it('refuses an object whose bytes changed after publishing, naming its s3:// URI', async () => {
    const modelKey = key(churn.storageUri, 'model.onnx');
    const original = await object(modelKey);
    const changed = Buffer.from(original);
    changed[10] = changed[10]! ^ 0x01;
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: modelKey, Body: changed }));
    try {
      const failure = startServer({ storageUri: churn.storageUri, port: 0 }, { logger: silentLogger, openRemote: open });
      await expect(failure).rejects.toThrow(IntegrityError);
      await expect(failure).rejects.toThrow(new RegExp(`^${churn.storageUri}model\\.onnx: has sha256 [0-9a-f]{64}, model\\.json says [0-9a-f]{64}`));
      await admin.send(new DeleteObjectCommand({ Bucket: bucket, Key: modelKey }));
      await expect(startServer({ storageUri: churn.storageUri, port: 0 }, { logger: silentLogger, openRemote: open })).rejects.toThrow(`${churn.storageUri}model.onnx: is missing, but model.json lists it`);
    } finally {
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: modelKey, Body: original }));
    }
  });

  it('is what `mlops serve --storage-uri s3://… --endpoint …` serves', async () => {
    const bin = fileURLToPath(new URL('../../../bin/mlops.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'serve', '--storage-uri', churn.storageUri, '--endpoint', s3.endpoint, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    try {
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d;
          const m = /at (http:\/\/\S+)\n/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`exit ${code}: ${err}`)));
      });
      expect(out).toBe(`serving churn ${churn.version} at ${url}\n`);
      expect((await call(url, 'GET', `/v2/models/churn/versions/${churn.version}/ready`)).status).toBe(200);
      const exit = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

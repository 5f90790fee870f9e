// Faults between client and server, through test/helpers/fault-proxy.ts; runs on s3rver and on radosgw.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { md5Hex } from '../../../src/data/hash.ts';
import { cloneWorkspace, listFiles, makeWorkspace, mlops } from '../../helpers/data-workspace.ts';
import { startS3Target, type S3Target } from '../../helpers/s3-servers.ts';

let s3: S3Target;
beforeAll(async () => {
  s3 = await startS3Target();
});
afterAll(async () => {
  await s3?.stop();
});

function dataset(n: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) files[`data/f${i}.txt`] = `file ${i} ${'x'.repeat(i * 37)}\n`;
  return files;
}

/** Every object's bytes hash to its key, and there are `expected` of them. */
async function expectIntact(bucket: string, prefix: string, expected: number): Promise<void> {
  const keys = await s3.keys(bucket, `${prefix}/`);
  expect(keys).toHaveLength(expected);
  for (const key of keys) {
    const name = key.slice(`${prefix}/files/md5/`.length).replace('/', '').replace(/\.dir$/, '');
    expect(md5Hex((await s3.get(bucket, key)) as Buffer), key).toBe(name);
  }
}

function expectSameData(a: string, b: string): void {
  expect(listFiles(join(b, 'data'))).toEqual(listFiles(join(a, 'data')));
  // Buffer.equals, not toEqual: a deep comparison of 34 MiB takes vitest seconds.
  for (const f of listFiles(join(a, 'data'))) expect(readFileSync(join(b, 'data', f)).equals(readFileSync(join(a, 'data', f))), f).toBe(true);
}

describe('S3 faults', () => {
  it('503 SlowDown on uploads is retried with backoff', async () => {
    const bucket = await s3.newBucket();
    const proxy = await s3.proxy();
    const root = makeWorkspace(dataset(10));
    await mlops(root, ['data', 'add', 'data']);
    proxy.setFault((r, n) => (r.method === 'PUT' && n < 1 ? 'slowdown' : 'pass'));
    const push = await mlops(root, ['data', 'push', '--remote', `s3://${bucket}/p`, '--endpoint', proxy.endpoint, '--json']);
    expect(push.code, push.log).toBe(0);
    expect(JSON.parse(push.stdout).transferred).toBe(11);
    expect(proxy.count('PUT')).toBe(22); // every object: a 503, then success
    await expectIntact(bucket, 'p', 11);
  });

  it('a connection reset mid-upload is retried', async () => {
    const bucket = await s3.newBucket();
    const proxy = await s3.proxy();
    const root = makeWorkspace(dataset(10));
    await mlops(root, ['data', 'add', 'data']);
    proxy.setFault((r, n) => (r.method === 'PUT' && n === 0 ? 'reset-request' : 'pass'));
    const push = await mlops(root, ['data', 'push', '--remote', `s3://${bucket}/p`, '--endpoint', proxy.endpoint]);
    expect(push.code, push.log).toBe(0);
    expect(proxy.count('PUT')).toBe(22);
    await expectIntact(bucket, 'p', 11);
  });

  it('a connection reset mid-download is retried and the data arrives intact', async () => {
    const bucket = await s3.newBucket();
    const proxy = await s3.proxy();
    const root = makeWorkspace(dataset(10));
    await mlops(root, ['data', 'add', 'data']);
    await mlops(root, ['data', 'push', '--remote', `s3://${bucket}/p`, '--endpoint', s3.endpoint]);
    proxy.setFault((r, n) => (r.method === 'GET' && n === 0 ? 'reset-response' : 'pass'));
    const clone = cloneWorkspace(root);
    const pull = await mlops(clone, ['data', 'pull', '--remote', `s3://${bucket}/p`, '--endpoint', proxy.endpoint]);
    expect(pull.code, pull.log).toBe(0);
    expect(proxy.count('GET')).toBe(22);
    expectSameData(root, clone);
  });

  it('large objects reset mid-download (one stream, one ranged part) are fetched again and land intact, with no leftovers', async () => {
    const bucket = await s3.newBucket();
    const proxy = await s3.proxy();
    const pattern = (n: number, seed: string) => md5Hex(seed).repeat(Math.ceil(n / 32)).slice(0, n);
    const root = makeWorkspace({ 'data/three.bin': pattern(3 << 20, 'three'), 'data/big.bin': pattern(34 << 20, 'big'), 'data/small.txt': 'small' });
    await mlops(root, ['data', 'add', 'data']);
    await mlops(root, ['data', 'push', '--remote', `s3://${bucket}/p`, '--endpoint', s3.endpoint]);
    const three = md5Hex(pattern(3 << 20, 'three'));
    let partReset = false;
    proxy.setFault((r, n) => {
      if (r.method === 'GET' && r.url.endsWith(three.slice(2)) && n === 0) return 'reset-response'; // the 3 MiB single stream
      if (r.method === 'GET' && r.range === 'bytes=16777216-33554431' && !partReset) {
        partReset = true; // the second 16 MiB part of the 34 MiB object
        return 'reset-response';
      }
      return 'pass';
    });
    const clone = cloneWorkspace(root);
    const pull = await mlops(clone, ['data', 'pull', '--remote', `s3://${bucket}/p`, '--endpoint', proxy.endpoint]);
    expect(pull.code, pull.log).toBe(0);
    expect(partReset).toBe(true);
    expect(proxy.count('GET', three.slice(2))).toBe(2);
    expectSameData(root, clone);
    expect(listFiles(clone).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('a corrupted object in the remote fails the pull, naming it, and leaves no file', async () => {
    const bucket = await s3.newBucket();
    const root = makeWorkspace(dataset(5));
    await mlops(root, ['data', 'add', 'data']);
    await mlops(root, ['data', 'push', '--remote', `s3://${bucket}/p`, '--endpoint', s3.endpoint]);
    const victim = md5Hex('file 3 ' + 'x'.repeat(3 * 37) + '\n');
    const key = `p/files/md5/${victim.slice(0, 2)}/${victim.slice(2)}`;
    await s3.admin.send(new (await import('@aws-sdk/client-s3')).DeleteObjectCommand({ Bucket: bucket, Key: key }));
    await s3.put(bucket, key, 'tampered');
    const clone = cloneWorkspace(root);
    const pull = await mlops(clone, ['data', 'pull', '--remote', `s3://${bucket}/p`, '--endpoint', s3.endpoint]);
    expect(pull.code).toBe(3);
    expect(pull.log).toContain(`s3://${bucket}/p/files/md5/${victim.slice(0, 2)}/${victim.slice(2)}: content has MD5 ${md5Hex('tampered')}, expected ${victim}`);
    expect(existsSync(join(clone, 'data'))).toBe(false);
    expect(existsSync(join(clone, '.dvc/cache/files/md5', victim.slice(0, 2), victim.slice(2)))).toBe(false);
    expect(listFiles(join(clone, '.dvc/cache')).filter((f) => f.includes('tmp'))).toEqual([]);
  });

  it('a push killed with SIGKILL and run again converges with no corrupt object', async () => {
    const bucket = await s3.newBucket();
    const proxy = await s3.proxy();
    const root = makeWorkspace(dataset(120));
    await mlops(root, ['data', 'add', 'data']);
    proxy.setDelay(20);
    const child = spawn(process.execPath, [join(process.cwd(), 'bin/mlops.js'), 'data', 'push', '--remote', `s3://${bucket}/k`, '--endpoint', proxy.endpoint, '--jobs', '4'], {
      cwd: root,
      env: process.env,
      stdio: 'ignore',
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (proxy.count('PUT') >= 30) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        } else if (child.exitCode !== null) {
          clearInterval(timer);
          reject(new Error('the push finished before it could be killed'));
        }
      }, 5);
    });
    await new Promise((r) => child.once('exit', r));
    proxy.setDelay(0);
    const partial = await s3.keys(bucket, 'k/');
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.some((k) => k.endsWith('.dir'))).toBe(false); // an interrupted push never publishes its manifest

    const again = await mlops(root, ['data', 'push', '--remote', `s3://${bucket}/k`, '--endpoint', proxy.endpoint, '--json']);
    expect(again.code, again.log).toBe(0);
    await expectIntact(bucket, 'k', 121);
    const clone = cloneWorkspace(root);
    expect((await mlops(clone, ['data', 'pull', '--remote', `s3://${bucket}/k`, '--endpoint', s3.endpoint])).code).toBe(0);
    expectSameData(root, clone);
  });

  it('an interrupted multipart upload is aborted, leaving no parts and no object', async () => {
    const bucket = await s3.newBucket();
    const proxy = await s3.proxy();
    const root = makeWorkspace({ 'big.bin': Buffer.alloc(11 << 20, 'ab').toString() });
    const remote = s3.remote(`s3://${bucket}/mp`, { endpoint: proxy.endpoint, multipartThreshold: 5 << 20, partSize: 5 << 20, maxAttempts: 2 });
    proxy.setFault((r) => (r.method === 'PUT' && r.url.includes('partNumber=2') ? 'reset-request' : 'pass'));
    try {
      await expect(remote.putIfAbsent('big.bin', { path: join(root, 'big.bin') })).rejects.toThrow();
    } finally {
      await remote.close();
    }
    expect(proxy.requests.some((r) => r.method === 'DELETE' && r.url.includes('uploadId='))).toBe(true);
    expect(await s3.keys(bucket)).toEqual([]);
    if (s3.kind === 'radosgw') {
      const uploads = await s3.admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      expect(uploads.Uploads ?? []).toEqual([]);
    }
  });
});

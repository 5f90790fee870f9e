import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isUsageError } from '../../../src/errors.ts';
import { LocalRemote } from '../../../src/storage/local-remote.ts';
import { openRemote } from '../../../src/storage/open-remote.ts';
import { objectKey } from '../../../src/storage/remote.ts';
import { isTransientNetworkError, withRetry } from '../../../src/storage/retry.ts';
import { parseS3Url, S3Remote } from '../../../src/storage/s3-remote.ts';
import { tempDir } from '../../helpers/tmp.ts';

const dir = () => tempDir('remote');

describe('object keys', () => {
  it('join parts and refuse segments that would leave the root', () => {
    expect(objectKey('prefix/', '/files/md5', 'ab/cd')).toBe('prefix/files/md5/ab/cd');
    expect(() => objectKey('a', '../b')).toThrow(/"\.\." is not allowed/);
    expect(() => objectKey('./a')).toThrow(/"\." is not allowed/);
  });
});

describe('LocalRemote', () => {
  it('writes once: a second write keeps the first bytes', async () => {
    const remote = new LocalRemote(dir());
    expect(await remote.putIfAbsent('files/md5/ab/cd', { data: 'first' })).toBe('created');
    expect(await remote.putIfAbsent('files/md5/ab/cd', { data: 'second' })).toBe('exists');
    expect(Buffer.from((await remote.read('files/md5/ab/cd')) as Uint8Array).toString()).toBe('first');
    expect(await remote.head('files/md5/ab/cd')).toEqual({ size: 5 });
    expect(await remote.head('files/md5/ab/zz')).toBeUndefined();
    expect(await remote.read('nothing')).toBeUndefined();
  });

  it('concurrent writers of one key: exactly one wins, the object is whole', async () => {
    const remote = new LocalRemote(dir());
    const bodies = Array.from({ length: 12 }, (_, i) => Buffer.alloc(100_000, i));
    const results = await Promise.all(bodies.map((data) => remote.putIfAbsent('k', { data })));
    expect(results.filter((r) => r === 'created')).toHaveLength(1);
    const stored = Buffer.from((await remote.read('k')) as Uint8Array);
    expect(bodies.some((b) => b.equals(stored))).toBe(true);
  });

  it('downloads to a new file only, reporting each chunk', async () => {
    const root = dir();
    const remote = new LocalRemote(root);
    await remote.putIfAbsent('obj', { data: 'payload' });
    const target = join(dir(), 'out');
    const seen: Uint8Array[] = [];
    expect(await remote.download('obj', target, { onData: (c) => void seen.push(c) })).toEqual({ file: target });
    expect(readFileSync(target, 'utf8')).toBe('payload');
    expect(Buffer.concat(seen).toString()).toBe('payload');
    await expect(remote.download('obj', target)).rejects.toThrow(/EEXIST/);
    expect(await remote.download('absent', join(dir(), 'x'))).toBeUndefined();
  });

  it('returns objects up to inMemoryUpTo bytes in memory, writing no file', async () => {
    const remote = new LocalRemote(dir());
    await remote.putIfAbsent('small', { data: '12345' });
    const target = join(dir(), 'out');
    const got = await remote.download('small', target, { inMemoryUpTo: 5 });
    expect(got && 'bytes' in got && Buffer.from(got.bytes).toString()).toBe('12345');
    expect(existsSync(target)).toBe(false);
    expect(await remote.download('small', target, { inMemoryUpTo: 4 })).toEqual({ file: target });
    expect(readFileSync(target, 'utf8')).toBe('12345');
  });

  it('uploads from a file path', async () => {
    const src = join(dir(), 'src');
    writeFileSync(src, 'from disk');
    const remote = new LocalRemote(dir());
    expect(await remote.putIfAbsent('a/b', { path: src })).toBe('created');
    expect(Buffer.from((await remote.read('a/b')) as Uint8Array).toString()).toBe('from disk');
  });
});

describe('openRemote', () => {
  it('maps s3://, file:// and paths to the right remote', async () => {
    const s3 = openRemote('s3://my-bucket/some/prefix/', { endpoint: 'http://127.0.0.1:9' });
    expect(s3).toBeInstanceOf(S3Remote);
    expect(s3.url).toBe('s3://my-bucket/some/prefix');
    await s3.close();
    const base = dir();
    expect(openRemote('file:///tmp/store')).toEqual(new LocalRemote('/tmp/store'));
    expect(openRemote('store', { cwd: base }).url).toBe(join(base, 'store'));
  });

  it('rejects unsupported schemes, bad buckets and an endpoint for a directory, as usage errors', () => {
    for (const [url, options, message] of [
      ['gs://bucket/x', {}, /remote: "gs:\/\/bucket\/x" uses a scheme this tool does not support/],
      ['s3://Bad_Bucket', {}, /remote: "s3:\/\/Bad_Bucket" is not an S3 URL with a valid bucket name/],
      ['s3://', {}, /is not an S3 URL/],
      ['', {}, /remote: "" is empty/],
      ['/tmp/dir', { endpoint: 'http://127.0.0.1:1' }, /endpoint: .* only applies to an s3:\/\/ remote/],
    ] as const) {
      let caught: unknown;
      try {
        openRemote(url, options);
      } catch (error) {
        caught = error;
      }
      expect(isUsageError(caught), url).toBe(true);
      expect((caught as Error).message).toMatch(message);
    }
  });

  it('parses bucket and prefix', () => {
    expect(parseS3Url('s3://data.example-1/a/b')).toEqual({ bucket: 'data.example-1', prefix: 'a/b' });
    expect(parseS3Url('s3://bucket')).toEqual({ bucket: 'bucket', prefix: '' });
  });
});

describe('retries', () => {
  it('retry resets, 5xx and SlowDown, then succeed', async () => {
    const errors = [
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      Object.assign(new Error('Please reduce your request rate'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }),
      Object.assign(new Error('internal'), { $metadata: { httpStatusCode: 500 } }),
    ];
    let calls = 0;
    const value = await withRetry(
      async () => {
        const error = errors[calls++];
        if (error) throw error;
        return 'ok';
      },
      { baseMs: 1 },
    );
    expect([value, calls]).toEqual(['ok', 4]);
  });

  it('do not retry what will not change: a 403, a corrupt object', async () => {
    expect(isTransientNetworkError(Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }))).toBe(false);
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error('content has MD5 x, expected y');
        },
        { baseMs: 1 },
      ),
    ).rejects.toThrow(/MD5/);
    expect(calls).toBe(1);
  });

  it('give up after the last attempt with the last error', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw Object.assign(new Error(`reset ${calls}`), { code: 'ECONNRESET' });
        },
        { attempts: 3, baseMs: 1 },
      ),
    ).rejects.toThrow('reset 3');
  });
});

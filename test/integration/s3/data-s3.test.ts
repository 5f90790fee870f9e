// One suite, two servers: s3rver by default, radosgw under `npm run test:s3-real` (see test/helpers/s3-servers.ts).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

function dataset(n: number, prefix = 'data'): Record<string, string | Buffer> {
  const files: Record<string, string | Buffer> = {};
  for (let i = 0; i < n; i++) files[`${prefix}/part-${String(i).padStart(3, '0')}.csv`] = `id,value\n${i},${i * i}\n`;
  files[`${prefix}/nested/ünïcode 数据 😀.bin`] = Buffer.from([0, 1, 2, 255, 13, 10]);
  return files;
}

describe(`mlops data against S3`, () => {
  it('push, then pull into a fresh clone byte-identical, with DVC layout and exact stored bytes', async () => {
    const bucket = await s3.newBucket();
    const remote = `s3://${bucket}/dvcstore`;
    const root = makeWorkspace(dataset(30));
    expect((await mlops(root, ['data', 'add', 'data'])).code).toBe(0);
    const push = await mlops(root, ['data', 'push', '--remote', remote, '--endpoint', s3.endpoint, '--json']);
    expect(push.code, push.log).toBe(0);
    expect(JSON.parse(push.stdout)).toMatchObject({ transferred: 32, skipped: 0, missing: [] });

    const keys = await s3.keys(bucket);
    expect(keys).toHaveLength(32);
    for (const key of keys) {
      expect(key).toMatch(/^dvcstore\/files\/md5\/[0-9a-f]{2}\/[0-9a-f]{30}(\.dir)?$/);
      // Stored bytes, not just status codes: each object's content hashes to its name (no chunk framing).
      const body = (await s3.get(bucket, key)) as Buffer;
      const name = key.replace(/^dvcstore\/files\/md5\//, '').replace('/', '').replace(/\.dir$/, '');
      expect(md5Hex(body), key).toBe(name);
    }

    const clone = cloneWorkspace(root);
    const pull = await mlops(clone, ['data', 'pull', '--remote', remote, '--endpoint', s3.endpoint]);
    expect(pull.code, pull.log).toBe(0);
    expect(listFiles(join(clone, 'data'))).toEqual(listFiles(join(root, 'data')));
    for (const f of listFiles(join(root, 'data'))) expect(readFileSync(join(clone, 'data', f)), f).toEqual(readFileSync(join(root, 'data', f)));
  });

  it('a re-push sends no PUT, and a no-op status is one HEAD', async () => {
    const bucket = await s3.newBucket();
    const proxy = await s3.proxy();
    const remote = `s3://${bucket}/r`;
    const root = makeWorkspace(dataset(20));
    await mlops(root, ['data', 'add', 'data']);
    await mlops(root, ['data', 'push', '--remote', remote, '--endpoint', proxy.endpoint]);
    const before = proxy.requests.length;
    const again = await mlops(root, ['data', 'push', '--remote', remote, '--endpoint', proxy.endpoint, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ transferred: 0 });
    const later = proxy.requests.slice(before);
    expect(later.filter((r) => r.method === 'PUT' || r.method === 'POST')).toEqual([]);
    expect(later.some((r) => r.method === 'GET' && !r.url.includes('/files/md5/'))).toBe(false); // never a listing

    const mark = proxy.requests.length;
    const status = await mlops(root, ['data', 'status', '--remote', remote, '--endpoint', proxy.endpoint, '--json']);
    expect(JSON.parse(status.stdout).status.missing.remote).toEqual([]);
    expect(proxy.requests.slice(mark).map((r) => r.method)).toEqual(['HEAD']);
  });

  it('an incremental push of 1% changed files sends only those (and the new .dir)', async () => {
    const bucket = await s3.newBucket();
    const proxy = await s3.proxy();
    const remote = `s3://${bucket}/r`;
    const root = makeWorkspace(dataset(299)); // above the size where a push samples the remote first
    await mlops(root, ['data', 'add', 'data']);
    await mlops(root, ['data', 'push', '--remote', remote, '--endpoint', proxy.endpoint]);
    writeFileSync(join(root, 'data/part-010.csv'), 'id,value\n10,-1\n');
    writeFileSync(join(root, 'data/part-150.csv'), 'id,value\n150,-1\n');
    await mlops(root, ['data', 'add', 'data']);
    const mark = proxy.count('PUT');
    const push = await mlops(root, ['data', 'push', '--remote', remote, '--endpoint', proxy.endpoint, '--json']);
    expect(JSON.parse(push.stdout)).toMatchObject({ transferred: 3 });
    const puts = proxy.requests.filter((r) => r.method === 'PUT').slice(mark).map((r) => r.url.split('?')[0]);
    expect(puts.sort()).toEqual(
      [md5Hex('id,value\n10,-1\n'), md5Hex('id,value\n150,-1\n'), JSON.parse(push.stdout).outputs[0].md5]
        .map((m: string) => `/${bucket}/r/files/md5/${m.slice(0, 2)}/${m.slice(2)}`)
        .sort(),
    );
  });

  it('a first push of many objects sends one conditional PUT each where the store refuses overwrites, else HEADs first', async () => {
    const bucket = await s3.newBucket();
    const proxy = await s3.proxy();
    const remote = `s3://${bucket}/f`;
    const root = makeWorkspace(dataset(299));
    await mlops(root, ['data', 'add', 'data']);
    const push = await mlops(root, ['data', 'push', '--remote', remote, '--endpoint', proxy.endpoint, '--json']);
    expect(push.code, push.log).toBe(0);
    expect(JSON.parse(push.stdout)).toMatchObject({ transferred: 301, skipped: 0 });
    const objectHeads = proxy.requests.filter((r) => r.method === 'HEAD' && !r.url.endsWith('.dir')).length;
    // 300 files + the .dir, plus one file sent twice to learn whether the store answers 412.
    expect(proxy.count('PUT')).toBe(302);
    if (s3.honoursIfNoneMatch) expect(objectHeads).toBe(32); // the sample only
    else expect(objectHeads).toBe(300); // s3rver overwrites: every object is HEADed before its PUT
    for (const key of await s3.keys(bucket)) {
      const name = key.replace(/^f\/files\/md5\//, '').replace('/', '').replace(/\.dir$/, '');
      expect(md5Hex((await s3.get(bucket, key)) as Buffer), key).toBe(name);
    }
    const clone = cloneWorkspace(root);
    expect((await mlops(clone, ['data', 'pull', '--remote', remote, '--endpoint', s3.endpoint])).code).toBe(0);
    expect(listFiles(join(clone, 'data'))).toEqual(listFiles(join(root, 'data')));
  });

  it('a push of several large outputs learns once whether the store answers 412', async () => {
    const bucket = await s3.newBucket();
    const proxy = await s3.proxy();
    const test = Object.fromEntries(Object.entries(dataset(259, 'test')).map(([path, content]) => [path, `${content}test\n`]));
    const root = makeWorkspace({ ...dataset(259, 'train'), ...test });
    await mlops(root, ['data', 'add', 'train', 'test']);
    const push = await mlops(root, ['data', 'push', '--remote', `s3://${bucket}/two`, '--endpoint', proxy.endpoint, '--json']);
    expect(push.code, push.log).toBe(0);
    // 2 x 260 files and 2 manifests; one probe PUT, not one per output.
    expect(JSON.parse(push.stdout)).toMatchObject({ transferred: 522, skipped: 0 });
    expect(proxy.count('PUT')).toBe(523);
  });

  it('never overwrites an existing object', async () => {
    const bucket = await s3.newBucket();
    const remote = s3.remote(`s3://${bucket}/p`);
    try {
      expect(await remote.putIfAbsent('k/obj', { data: 'first' })).toBe('created');
      // Another writer's HEAD came before our write: only the store's If-None-Match can stop the overwrite.
      if (s3.honoursIfNoneMatch) {
        expect(await remote.putIfAbsent('k/obj', { data: 'second' }, { knownAbsent: true })).toBe('exists');
      }
      expect(await remote.putIfAbsent('k/obj', { data: 'third' })).toBe('exists');
      expect((await s3.get(bucket, 'p/k/obj'))?.toString()).toBe('first');
    } finally {
      await remote.close();
    }
  });

  it('two concurrent pushes of the same data both succeed and leave intact objects', async () => {
    const bucket = await s3.newBucket();
    const remote = `s3://${bucket}/c`;
    const a = makeWorkspace(dataset(40));
    const b = makeWorkspace(dataset(40));
    await mlops(a, ['data', 'add', 'data']);
    await mlops(b, ['data', 'add', 'data']);
    const [ra, rb] = await Promise.all([
      mlops(a, ['data', 'push', '--remote', remote, '--endpoint', s3.endpoint, '--json']),
      mlops(b, ['data', 'push', '--remote', remote, '--endpoint', s3.endpoint, '--json']),
    ]);
    expect([ra.code, rb.code]).toEqual([0, 0]);
    const total = JSON.parse(ra.stdout).transferred + JSON.parse(ra.stdout).skipped;
    expect(total).toBe(42);
    for (const key of await s3.keys(bucket)) {
      const name = key.replace(/^c\/files\/md5\//, '').replace('/', '').replace(/\.dir$/, '');
      expect(md5Hex((await s3.get(bucket, key)) as Buffer), key).toBe(name);
    }
  });

  it('large files go up as a multipart upload and come back identical through parallel ranged GETs', async () => {
    const bucket = await s3.newBucket();
    const proxy = await s3.proxy();
    const remote = s3.remote(`s3://${bucket}/m`, { endpoint: proxy.endpoint, multipartThreshold: 5 << 20, partSize: 5 << 20 });
    const root = makeWorkspace({ 'big.bin': createHash('sha512').update('seed').digest().toString('hex').repeat(100_000).slice(0, 12 << 20) });
    try {
      expect(await remote.putIfAbsent('big.bin', { path: join(root, 'big.bin') })).toBe('created');
      expect((await remote.head('big.bin'))?.size).toBe(12 << 20);
      const back = join(root, 'back.bin');
      const chunks: Uint8Array[] = [];
      expect(await remote.download('big.bin', back, { onData: (c) => void chunks.push(c), inMemoryUpTo: 1 << 20 })).toEqual({ file: back });
      expect(readFileSync(back)).toEqual(readFileSync(join(root, 'big.bin')));
      expect(Buffer.concat(chunks)).toEqual(readFileSync(join(root, 'big.bin'))); // in order, for hashing
      // A plain GET learns the size (and is cut short), then 12 MiB comes in three 5 MiB ranges.
      expect(proxy.requests.filter((r) => r.method === 'GET').map((r) => r.range)).toEqual([undefined, 'bytes=0-5242879', 'bytes=5242880-10485759', 'bytes=10485760-12582911']);
      expect(proxy.count('POST', 'uploads')).toBe(1); // one multipart upload
      expect(await remote.putIfAbsent('big.bin', { path: join(root, 'big.bin') })).toBe('exists');
    } finally {
      await remote.close();
    }
  });

  it('a file larger than two parts pulls through ranged GETs into the cache and the workspace, identical', async () => {
    const bucket = await s3.newBucket();
    const remote = `s3://${bucket}/big`;
    const big = createHash('sha512').update('big').digest().toString('hex').repeat(280_000).slice(0, 34 << 20); // > 2 x 16 MiB parts
    const root = makeWorkspace({ 'data/big.bin': big, 'data/small.txt': 'small' });
    await mlops(root, ['data', 'add', 'data']);
    expect((await mlops(root, ['data', 'push', '--remote', remote, '--endpoint', s3.endpoint])).code).toBe(0);
    const proxy = await s3.proxy();
    const clone = cloneWorkspace(root);
    const pull = await mlops(clone, ['data', 'pull', '--remote', remote, '--endpoint', proxy.endpoint]);
    expect(pull.code, pull.log).toBe(0);
    expect(readFileSync(join(clone, 'data/big.bin'), 'utf8') === big).toBe(true);
    expect(readFileSync(join(clone, '.dvc/cache/files/md5', md5Hex(big).slice(0, 2), md5Hex(big).slice(2)), 'utf8') === big).toBe(true);
    expect(proxy.requests.filter((r) => r.range).length).toBe(3); // 34 MiB in 16 MiB ranges
    expect(listFiles(clone).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('small objects come back in memory from one GET without a Range header', async () => {
    const bucket = await s3.newBucket();
    const proxy = await s3.proxy();
    const remote = s3.remote(`s3://${bucket}/m`, { endpoint: proxy.endpoint });
    const root = makeWorkspace({});
    try {
      await remote.putIfAbsent('small', { data: 'x'.repeat(3000) });
      const got = await remote.download('small', join(root, 'never'), { inMemoryUpTo: 4096 });
      expect(got && 'bytes' in got && Buffer.from(got.bytes).toString()).toBe('x'.repeat(3000));
      expect(existsSync(join(root, 'never'))).toBe(false);
      expect(proxy.requests.filter((r) => r.method === 'GET')).toEqual([{ method: 'GET', url: `/${bucket}/m/small` }]);
      expect(await remote.download('absent', join(root, 'never'), { inMemoryUpTo: 4096 })).toBeUndefined();
    } finally {
      await remote.close();
    }
  });

  it('through the SDK (the path AWS takes): small objects in memory, large ones to the file in order, absent ones undefined', async () => {
    const bucket = await s3.newBucket();
    const remote = s3.remote(`s3://${bucket}/sdk`, { leanHttp: false });
    const root = makeWorkspace({});
    try {
      await remote.putIfAbsent('small', { data: 'tiny' });
      const big = Buffer.alloc(3 << 20, 9);
      await remote.putIfAbsent('big', { data: big });
      const small = await remote.download('small', join(root, 'never'), { inMemoryUpTo: 1024 });
      expect(small && 'bytes' in small && Buffer.from(small.bytes).toString()).toBe('tiny');
      expect(existsSync(join(root, 'never'))).toBe(false);
      const seen: Uint8Array[] = [];
      let waited = 0;
      const got = await remote.download('big', join(root, 'big'), {
        inMemoryUpTo: 1024,
        onData: async (c) => {
          seen.push(c);
          await new Promise((r) => setTimeout(r, 1));
          waited++;
        },
      });
      expect(got).toEqual({ file: join(root, 'big') });
      expect(readFileSync(join(root, 'big')).equals(big)).toBe(true);
      expect(Buffer.concat(seen).equals(big)).toBe(true);
      expect(waited).toBe(seen.length); // every returned promise was awaited before the next chunk
      expect(await remote.download('absent', join(root, 'x'), { inMemoryUpTo: 1024 })).toBeUndefined();
    } finally {
      await remote.close();
    }
  });

  it('reads the remote and endpoint from .dvc/config, as DVC writes it', async () => {
    const bucket = await s3.newBucket();
    const root = makeWorkspace(dataset(3));
    writeFileSync(join(root, '.git', 'keep'), '');
    await mlops(root, ['data', 'add', 'data']);
    writeFileSync(join(root, '.dvc/config'), `[core]\n    remote = s3store\n['remote "s3store"']\n    url = s3://${bucket}/from-config\n    endpointurl = ${s3.endpoint}\n`);
    const push = await mlops(root, ['data', 'push']);
    expect(push.code, push.log).toBe(0);
    expect((await s3.keys(bucket, 'from-config/')).length).toBe(5);
  });
});

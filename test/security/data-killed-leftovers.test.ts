// Issue 10 item 9: an add or pull killed mid-way (a cancelled CI job, an OOM kill) leaves temporary files in
// the cache and the workspace; the next add/pull/status deletes them, but only ours and only of dead processes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { dirObject, md5Hex, mlops, remoteWith, victim, writeFiles } from './data-attack.ts';

const BIN = fileURLToPath(new URL('../../bin/mlops.js', import.meta.url));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Every file below `dir` whose name ends like a temporary file, as relative paths. */
function temporaries(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.tmp$|\.tmp-|\/\.tmp/.test(join(e.parentPath, e.name)))
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

async function waitFor(what: string, child: ChildProcess, ready: () => boolean): Promise<void> {
  for (;;) {
    if (ready()) return;
    if (child.exitCode !== null) throw new Error(`the child exited (${child.exitCode}) before ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** An S3 endpoint serving `objects` that sends half of `stall` and then never another byte. */
async function stallingS3(objects: Record<string, string | Buffer>, stall: string): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const md5 = (req.url ?? '').replace(/^\/bucket\/files\/md5\/(..)\/([^?]*).*$/, '$1$2');
    const body = objects[md5];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    const bytes = Buffer.from(body);
    res.writeHead(200, { 'content-length': bytes.length, etag: `"${md5Hex(bytes)}"` });
    if (req.method === 'HEAD') res.end();
    else if (md5 === stall) res.write(bytes.subarray(0, bytes.length / 2));
    else res.end(bytes);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

describe('a killed pull', () => {
  it('leaves temporaries in the cache and the workspace that the next status deletes', async () => {
    const big = Buffer.alloc(4 << 20, 5);
    const dir = dirObject({ 'big.bin': big, 'small.csv': 'a\n' });
    const v = victim({ 'data.dvc': `outs:\n- md5: ${dir.md5}\n  size: ${big.length + 2}\n  nfiles: 2\n  hash: md5\n  path: data\n` });
    const s3 = await stallingS3(dir.objects, md5Hex(big));
    try {
      const child = spawn(process.execPath, [BIN, 'data', 'pull', '--remote', 's3://bucket', '--endpoint', s3.endpoint], {
        cwd: v.root,
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'key', AWS_SECRET_ACCESS_KEY: 'secret' },
        stdio: 'ignore',
      });
      children.push(child);
      const cacheTemp = () => temporaries(join(v.root, '.dvc/cache')).filter((f) => (statSync(join(v.root, '.dvc/cache', f), { throwIfNoEntry: false })?.size ?? 0) > 0);
      await waitFor('half of the object arrived', child, () => cacheTemp().length > 0 && temporaries(join(v.root, 'data')).length > 0);
      await kill(child);
    } finally {
      await s3.stop();
    }
    expect(temporaries(join(v.root, '.dvc/cache'))).toHaveLength(1);
    expect(temporaries(join(v.root, 'data'))).toHaveLength(1);

    const status = await mlops(v.root, ['data', 'status', '--json']);
    expect(status.code).toBe(0);
    expect(temporaries(join(v.root, '.dvc/cache'))).toEqual([]);
    expect(temporaries(join(v.root, 'data'))).toEqual([]);
    // ...and a pull from a remote that answers completes the data.
    const pull = await mlops(v.root, ['data', 'pull', '--remote', remoteWith(dir.objects)]);
    expect(pull.code).toBe(0);
    expect(readFileSync(join(v.root, 'data/big.bin')).equals(big)).toBe(true);
  });
});

describe('a killed add', () => {
  it('leaves a temporary in the cache that the next add deletes', async () => {
    const v = victim();
    writeFiles(v.root, { 'data/big.bin': Buffer.alloc(128 << 20, 9) });
    const child = spawn(process.execPath, [BIN, 'data', 'add', 'data'], { cwd: v.root, stdio: 'ignore' });
    children.push(child);
    const cache = join(v.root, '.dvc/cache');
    await waitFor('the copy into the cache started', child, () => temporaries(cache).length > 0);
    await kill(child);
    expect(temporaries(cache)).toHaveLength(1);
    expect((await mlops(v.root, ['data', 'add', 'data'])).code).toBe(0);
    expect(temporaries(cache)).toEqual([]);
  });
});

describe('only our temporaries, and only those of dead processes', () => {
  for (const command of ['add', 'pull', 'status'] as const) {
    it(`${command} deletes ours of a dead process and keeps a live one's and anything not ours`, async () => {
      const v = victim({ 'data/a.csv': 'a\n' });
      expect((await mlops(v.root, ['data', 'add', 'data'])).code).toBe(0);
      const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
      const live = spawn('sleep', ['60'], { stdio: 'ignore' });
      children.push(live);
      try {
        const md5 = md5Hex('a\n');
        const cache = join(v.root, '.dvc/cache/files/md5');
        const prefix = join(cache, md5.slice(0, 2));
        const deleted = [join(prefix, `${'0'.repeat(30)}.mlops-${dead}-0.tmp`), join(cache, `.mlops-${dead}-3.tmp`), join(v.root, `data/b.csv.mlops-${dead}-1.tmp`)];
        const kept = [
          join(prefix, `${'1'.repeat(30)}.mlops-${live.pid}-0.tmp`),
          join(cache, `.mlops-${live.pid}-7.tmp`),
          join(prefix, 'notes.tmp'),
          join(prefix, `${'2'.repeat(30)}.mlops-x${dead}-0.tmp`),
        ];
        for (const f of [...deleted, ...kept]) writeFileSync(f, 'partial');
        const args = command === 'pull' ? ['data', 'pull', '--remote', remoteWith([])] : ['data', command, ...(command === 'add' ? ['data'] : [])];
        const r = await mlops(v.root, args);
        expect(r.code, r.log).toBe(0);
        for (const f of deleted) expect(existsSync(f), f).toBe(false);
        for (const f of kept) expect(existsSync(f), f).toBe(true);
        expect(existsSync(join(v.root, 'data/a.csv'))).toBe(true);
      } finally {
        live.kill('SIGKILL');
      }
    });
  }
});

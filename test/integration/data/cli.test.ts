import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dirManifest, md5Hex } from '../../../src/data/hash.ts';
import { mlops, tempDir } from '../../helpers/data-workspace.ts';

function workspace(files: Record<string, string | Buffer> = { 'data/foo': 'foo', 'data/bar': 'bar', 'data/sub/é 中 😀.txt': 'x y' }): string {
  const root = tempDir('ws');
  mkdirSync(join(root, '.git'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

/** A fresh clone: only what git would carry (.dvc files, .gitignore, .dvc/config). */
function cloneOf(root: string, extra: string[] = []): string {
  const clone = tempDir('clone');
  mkdirSync(join(clone, '.git'));
  for (const f of ['data.dvc', '.gitignore', ...extra]) writeFileSync(join(clone, f), readFileSync(join(root, f)));
  return clone;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('mlops data with a directory remote', () => {
  it('add writes the .dvc file, the cache and .gitignore like DVC', async () => {
    const root = workspace({ 'data/foo': 'foo', 'data/bar': 'bar' });
    const r = await mlops(root, ['data', 'add', 'data']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('5ea40360f5b4ec688df672a4db9c17d1.dir  data');
    expect(readFileSync(join(root, 'data.dvc'), 'utf8')).toBe(
      'outs:\n- md5: 5ea40360f5b4ec688df672a4db9c17d1.dir\n  size: 6\n  nfiles: 2\n  hash: md5\n  path: data\n',
    );
    expect(readFileSync(join(root, '.gitignore'), 'utf8')).toBe('/data\n');
    expect(listFiles(join(root, '.dvc/cache'))).toEqual([
      'files/md5/37/b51d194a7513e45b56f6524f2d51f2',
      'files/md5/5e/a40360f5b4ec688df672a4db9c17d1.dir',
      'files/md5/ac/bd18db4cc2f85cedef654fccc4a4d8',
    ]);
    expect(readFileSync(join(root, '.dvc/cache/files/md5/5e/a40360f5b4ec688df672a4db9c17d1.dir'), 'utf8')).toBe(
      '[{"md5": "37b51d194a7513e45b56f6524f2d51f2", "relpath": "bar"}, {"md5": "acbd18db4cc2f85cedef654fccc4a4d8", "relpath": "foo"}]',
    );
  });

  it('push, re-push no-op, pull into a fresh clone byte-identical, status', async () => {
    const root = workspace();
    const remote = tempDir('remote');
    expect((await mlops(root, ['data', 'add', 'data'])).code).toBe(0);
    const push = await mlops(root, ['data', 'push', '--remote', remote, '--json']);
    expect(push.code).toBe(0);
    expect(JSON.parse(push.stdout)).toMatchObject({ transferred: 4, skipped: 0, missing: [] });
    expect(listFiles(remote).every((f) => /^files\/md5\/[0-9a-f]{2}\/[0-9a-f]{30}(\.dir)?$/.test(f))).toBe(true);
    expect(listFiles(remote)).toHaveLength(4);

    const again = await mlops(root, ['data', 'push', '--remote', remote, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ transferred: 0, skipped: 4 });

    const clone = cloneOf(root);
    const before = await mlops(clone, ['data', 'status', '--remote', remote, '--json']);
    expect(JSON.parse(before.stdout).status.outputs[0]).toMatchObject({ path: 'data', workspace: 'missing', missingInRemote: 0 });
    const pull = await mlops(clone, ['data', 'pull', '--remote', remote]);
    expect(pull.code).toBe(0);
    for (const f of listFiles(join(root, 'data'))) {
      expect(readFileSync(join(clone, 'data', f)), f).toEqual(readFileSync(join(root, 'data', f)));
    }
    expect(statSync(join(clone, 'data/foo')).mode & 0o200).toBe(0o200); // the user can edit pulled data
    const after = await mlops(clone, ['data', 'status', '--remote', remote, '--json']);
    expect(JSON.parse(after.stdout).status).toMatchObject({ missing: { workspace: [], cache: [], remote: [] } });
  });

  it('uses the remote from .dvc/config when none is given, and sees local modifications', async () => {
    const root = workspace();
    const remote = tempDir('remote');
    mkdirSync(join(root, '.dvc'));
    writeFileSync(join(root, '.dvc/config'), `[core]\n    remote = store\n['remote "store"']\n    url = ${remote}\n`);
    await mlops(root, ['data', 'add', 'data']);
    expect((await mlops(root, ['data', 'push'])).code).toBe(0);
    expect(existsSync(join(remote, 'files/md5/ac/bd18db4cc2f85cedef654fccc4a4d8'))).toBe(true);
    writeFileSync(join(root, 'data/foo'), 'changed');
    const status = await mlops(root, ['data', 'status', '--json']);
    expect(JSON.parse(status.stdout).status.outputs[0].workspace).toBe('modified');
  });

  it('incremental push sends only the changed files', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 100; i++) files[`data/f${i}.txt`] = `row ${i}\n`;
    const root = workspace(files);
    const remote = tempDir('remote');
    await mlops(root, ['data', 'add', 'data']);
    await mlops(root, ['data', 'push', '--remote', remote]);
    writeFileSync(join(root, 'data/f7.txt'), 'row 7 changed\n');
    await mlops(root, ['data', 'add', 'data']);
    const push = await mlops(root, ['data', 'push', '--remote', remote, '--json']);
    // one changed file + its new .dir manifest
    expect(JSON.parse(push.stdout)).toMatchObject({ transferred: 2, skipped: 99 });
  });

  it('status --json lists what the remote and the cache lack', async () => {
    const root = workspace({ 'data/foo': 'foo', 'data/bar': 'bar' });
    const empty = tempDir('remote');
    await mlops(root, ['data', 'add', 'data']);
    const status = JSON.parse((await mlops(root, ['data', 'status', '--remote', empty, '--json'])).stdout).status;
    expect(status.outputs[0]).toMatchObject({ workspace: 'ok', missingInCache: 0, missingInRemote: 3 });
    expect([...status.missing.remote].sort()).toEqual([md5Hex('bar'), '5ea40360f5b4ec688df672a4db9c17d1.dir', md5Hex('foo')].sort());
    expect(status.missing.cache).toEqual([]);
  });

  it('tracks a single file in a subfolder: push and pull it by its .dvc file from another folder', async () => {
    const root = workspace({ 'models/v1/weights.bin': 'W'.repeat(5000) });
    const remote = tempDir('remote');
    const add = await mlops(join(root, 'models'), ['data', 'add', 'v1/weights.bin']);
    expect(add.stdout).toBe(`${md5Hex('W'.repeat(5000))}  models/v1/weights.bin`);
    expect(readFileSync(join(root, 'models/v1/weights.bin.dvc'), 'utf8')).toContain('path: weights.bin\n');
    expect(readFileSync(join(root, 'models/v1/.gitignore'), 'utf8')).toBe('/weights.bin\n');
    expect((await mlops(root, ['data', 'push', 'models/v1/weights.bin.dvc', '--remote', remote])).code).toBe(0);

    const clone = tempDir('clone');
    mkdirSync(join(clone, '.git'));
    mkdirSync(join(clone, 'models/v1'), { recursive: true });
    writeFileSync(join(clone, 'models/v1/weights.bin.dvc'), readFileSync(join(root, 'models/v1/weights.bin.dvc')));
    const pull = await mlops(join(clone, 'models/v1'), ['data', 'pull', '--remote', remote, '--json']);
    expect(pull.code, pull.log).toBe(0);
    expect(JSON.parse(pull.stdout)).toMatchObject({ transferred: 1, outputs: [{ path: 'models/v1/weights.bin' }] });
    expect(readFileSync(join(clone, 'models/v1/weights.bin'), 'utf8')).toBe('W'.repeat(5000));
  });

  it('a re-run on unchanged data uses the state cache instead of re-reading files', async () => {
    const root = workspace({ 'data/a': 'aaaa', 'data/b': 'bbbb' });
    const file = join(root, 'data/a');
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    const first = await mlops(root, ['data', 'add', 'data']);
    // Same size, same mtime, same inode: the state cache vouches for it, so the stale hash is kept (as DVC does).
    writeFileSync(file, 'AAAA');
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    const second = await mlops(root, ['data', 'add', 'data']);
    expect(second.stdout).toBe(first.stdout);
    // A real change (new mtime) is hashed again.
    utimesSync(file, 1_700_000_000, 1_700_000_005);
    const third = await mlops(root, ['data', 'add', 'data']);
    expect(third.stdout).not.toBe(first.stdout);
  });

  it('re-adding keeps the comments of an existing .dvc file', async () => {
    const root = workspace({ 'model.bin': 'weights' });
    writeFileSync(join(root, 'model.bin.dvc'), '# the model\nouts:\n- md5: 00000000000000000000000000000000\n  size: 1\n  hash: md5\n  path: model.bin\n');
    expect((await mlops(root, ['data', 'add', 'model.bin'])).code).toBe(0);
    expect(readFileSync(join(root, 'model.bin.dvc'), 'utf8')).toBe(
      `# the model\nouts:\n- md5: ${md5Hex('weights')}\n  size: 7\n  hash: md5\n  path: model.bin\n`,
    );
  });

  it('reports names that differ only by case or Unicode normalisation', async () => {
    const root = workspace({ 'data/Readme': '1', 'data/README': '2', 'data/caf\u00e9': '3', 'data/cafe\u0301': '4' });
    const r = await mlops(root, ['data', 'add', 'data']);
    expect(r.code).toBe(0);
    expect(r.log).toMatch(/warning: data: "README" and "Readme" differ only by case|warning: data: "Readme" and "README" differ only by case/);
    expect(r.log).toContain('caf\u00e9');
  });

  it('an empty directory is an error unless --allow-empty', async () => {
    const root = workspace({});
    mkdirSync(join(root, 'empty'));
    const r = await mlops(root, ['data', 'add', 'empty']);
    expect(r.code).toBe(2);
    expect(r.log).toMatch(/targets: "empty" is an empty directory.*--allow-empty/);
    expect(existsSync(join(root, 'empty.dvc'))).toBe(false);
    const ok = await mlops(root, ['data', 'add', 'empty', '--allow-empty']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`${dirManifest([]).md5}  empty`);
  });
});

describe('mlops data pull makes the workspace match the data, as dvc pull does', () => {
  /** v1 pushed and checked out in `root`; v2's .dvc file (pushed too) returned, as `git checkout` would bring it. */
  async function twoVersions() {
    const root = workspace({ 'data/foo': 'foo', 'data/bar': 'bar', 'data/old/x.txt': 'x' });
    const remote = tempDir('remote');
    await mlops(root, ['data', 'add', 'data']);
    await mlops(root, ['data', 'push', '--remote', remote]);
    const v1 = readFileSync(join(root, 'data.dvc'));
    writeFileSync(join(root, 'data/bar'), 'bar v2');
    writeFileSync(join(root, 'data/baz'), 'baz');
    rmSync(join(root, 'data/old'), { recursive: true });
    await mlops(root, ['data', 'add', 'data']);
    await mlops(root, ['data', 'push', '--remote', remote]);
    const v2 = readFileSync(join(root, 'data.dvc'));
    return { root, remote, v1, v2 };
  }

  it('switching versions updates changed files, adds new ones and deletes what the data no longer has', async () => {
    const { root, remote, v1, v2 } = await twoVersions();
    const clone = cloneOf(root);
    writeFileSync(join(clone, 'data.dvc'), v1);
    expect((await mlops(clone, ['data', 'pull', '--remote', remote])).code).toBe(0);
    expect(listFiles(join(clone, 'data'))).toEqual(['bar', 'foo', 'old/x.txt']);
    const fooBefore = statSync(join(clone, 'data/foo'));

    writeFileSync(join(clone, 'data.dvc'), v2);
    const pull = await mlops(clone, ['data', 'pull', '--remote', remote, '--json']);
    expect(pull.code).toBe(0);
    expect(listFiles(join(clone, 'data'))).toEqual(['bar', 'baz', 'foo']);
    expect(existsSync(join(clone, 'data/old'))).toBe(false); // the folder it emptied goes too
    expect(readFileSync(join(clone, 'data/bar'), 'utf8')).toBe('bar v2');
    expect(statSync(join(clone, 'data/foo')).ino).toBe(fooBefore.ino); // unchanged files are not rewritten

    writeFileSync(join(clone, 'data.dvc'), v1); // and back, from the cache alone
    expect((await mlops(clone, ['data', 'pull', '--remote', tempDir('empty-remote')])).code).toBe(0);
    expect(listFiles(join(clone, 'data'))).toEqual(['bar', 'foo', 'old/x.txt']);
    expect(readFileSync(join(clone, 'data/bar'), 'utf8')).toBe('bar');
  });

  it('an edit that is not in the cache stops the pull before any write; --force discards it', async () => {
    const { root, remote, v1 } = await twoVersions();
    writeFileSync(join(root, 'data.dvc'), v1);
    writeFileSync(join(root, 'data/foo'), 'my unsaved edit');
    writeFileSync(join(root, 'data/notes.txt'), 'also unsaved');
    const refused = await mlops(root, ['data', 'pull', '--remote', remote]);
    expect(refused.code).toBe(2);
    expect(refused.log).toContain('targets: "data" has 2 file(s) whose changes are not in the cache and would be lost (data/foo, data/notes.txt)');
    expect(refused.log).toContain('--force');
    expect(readFileSync(join(root, 'data/foo'), 'utf8')).toBe('my unsaved edit');
    expect(existsSync(join(root, 'data/old/x.txt'))).toBe(false); // nothing was written

    const forced = await mlops(root, ['data', 'pull', '--remote', remote, '--force']);
    expect(forced.code).toBe(0);
    expect(listFiles(join(root, 'data'))).toEqual(['bar', 'foo', 'old/x.txt']);
    expect(readFileSync(join(root, 'data/foo'), 'utf8')).toBe('foo');
  });

  it("a killed pull's temporary files are deleted by the next pull, not taken for the user's edits", async () => {
    const { root, remote, v1 } = await twoVersions();
    const clone = cloneOf(root);
    writeFileSync(join(clone, 'data.dvc'), v1);
    mkdirSync(join(clone, 'data/old'), { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(join(clone, `data/old/x.txt.mlops-${dead}-17.tmp`), 'half of x');
    writeFileSync(join(clone, 'data/bar'), 'bar'); // finished before the kill; the state database never saved it
    const pull = await mlops(clone, ['data', 'pull', '--remote', remote]);
    expect(pull.code, pull.log).toBe(0);
    expect(listFiles(join(clone, 'data'))).toEqual(['bar', 'foo', 'old/x.txt']);
  });

  it('a temporary file of a pull still running stops an add (it is not data yet)', async () => {
    const root = workspace({ 'data/foo': 'foo' });
    writeFileSync(join(root, `data/bar.mlops-${process.pid}-3.tmp`), 'half of bar'); // this process is alive
    const add = await mlops(root, ['data', 'add', 'data']);
    expect(add.code).toBe(2);
    expect(add.log).toContain(`targets: "data/bar.mlops-${process.pid}-3.tmp" is a file a pull running now is writing, not data`);
    expect(existsSync(join(root, 'data.dvc'))).toBe(false);
  });

  it('an object missing from the remote: exit 3, that output is not checked out, nothing is left half-written', async () => {
    const root = workspace({ 'data/a': 'a', 'data/b': 'b', 'data/sub/c': 'c' });
    const remote = tempDir('remote');
    await mlops(root, ['data', 'add', 'data']);
    await mlops(root, ['data', 'push', '--remote', remote]);
    const gone = md5Hex('b');
    rmSync(join(remote, 'files/md5', gone.slice(0, 2), gone.slice(2)), { force: true });
    const clone = cloneOf(root);
    const pull = await mlops(clone, ['data', 'pull', '--remote', remote, '--json']);
    expect(pull.code).toBe(3);
    expect(JSON.parse(pull.stdout).missing).toEqual([gone]);
    expect(pull.log).toContain('data: 1 object(s) are not on');
    expect(existsSync(join(clone, 'data'))).toBe(false);
    // What did arrive is in the cache: a pull from a complete remote only fetches the rest.
    const again = await mlops(clone, ['data', 'pull', '--remote', root + '/.dvc/cache', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ transferred: 1 });
    expect(listFiles(join(clone, 'data'))).toEqual(['a', 'b', 'sub/c']);
  });
});

describe('mlops data rejects bad input with exit 2, naming it', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown verb', ['data', 'frob'], /command: "frob" must be one of add, push, pull, status/],
    ['no verb', ['data'], /command: "" is missing/],
    ['jobs out of range', ['data', 'push', '--jobs', '0', '--remote', '/tmp/x'], /--jobs: "0" is not a whole number from 1 to 256/],
    ['jobs not a number', ['data', 'push', '--jobs', 'many'], /--jobs: "many" is not a whole number/],
    ['path outside the workspace', ['data', 'add', '../elsewhere'], /targets: "\.\.\/elsewhere" is outside the workspace/],
    ['absolute path', ['data', 'add', '/etc/passwd'], /targets: "\/etc\/passwd" is an absolute path/],
    ['missing path', ['data', 'add', 'nothere'], /targets: "nothere" does not exist/],
    ['add with no target', ['data', 'add'], /targets: "" is empty/],
    ['untracked target', ['data', 'push', 'data', '--remote', '/tmp/x'], /targets: "data" is not tracked/],
    ['unsupported scheme', ['data', 'push', '--remote', 'ftp://host/x'], /remote: "ftp:\/\/host\/x" uses a scheme this tool does not support/],
    ['bad bucket', ['data', 'push', '--remote', 's3://A_B/x'], /remote: "s3:\/\/A_B\/x" is not an S3 URL with a valid bucket name/],
    ['bad endpoint', ['data', 'push', '--remote', 's3://bucket/x', '--endpoint', 'localhost:9000'], /endpoint: "localhost:9000" is not an http\(s\) URL/],
    ['endpoint with a directory remote', ['data', 'push', '--remote', '/tmp/x', '--endpoint', 'http://127.0.0.1:1'], /endpoint: "http:\/\/127\.0\.0\.1:1" only applies to an s3:\/\/ remote/],
    ['no remote', ['data', 'push'], /remote: "" is not set/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const root = workspace();
      if (!['untracked target', 'add with no target', 'missing path', 'path outside the workspace', 'absolute path'].includes(name)) {
        await mlops(root, ['data', 'add', 'data']);
      }
      const r = await mlops(root, args);
      expect(r.log).toMatch(message);
      expect(r.code).toBe(2);
    });
  }

  it('a symlink that leaves the workspace', async () => {
    const root = workspace();
    const outside = tempDir('outside');
    writeFileSync(join(outside, 'secret'), 's');
    symlinkSync(join(outside, 'secret'), join(root, 'data/link'));
    const r = await mlops(root, ['data', 'add', 'data']);
    expect(r.code).toBe(2);
    expect(r.log).toMatch(/targets: "data\/link" is a symlink to .*outside the workspace/);
    expect(existsSync(join(root, 'data.dvc'))).toBe(false);
  });

  it('a target reached through a symlinked folder that leaves the workspace', async () => {
    const root = workspace();
    const outside = tempDir('outside');
    mkdirSync(join(outside, 'd'));
    writeFileSync(join(outside, 'd/x'), 'x');
    symlinkSync(outside, join(root, 'escape'));
    const r = await mlops(root, ['data', 'add', 'escape/d']);
    expect(r.code).toBe(2);
    expect(r.log).toMatch(/targets: "escape\/d" resolves through a symlink/);
    expect(existsSync(join(outside, 'd.dvc'))).toBe(false);
  });

  it('a .dir manifest from the remote with a path that escapes: nothing is written', async () => {
    const root = workspace({});
    const remote = tempDir('remote');
    const hostile = Buffer.from(JSON.stringify([{ md5: md5Hex('pwned'), relpath: '../../evil' }]).replace(/,/g, ', ').replace(/:/g, ': '));
    const name = `${md5Hex(hostile)}.dir`;
    mkdirSync(join(remote, 'files/md5', name.slice(0, 2)), { recursive: true });
    writeFileSync(join(remote, 'files/md5', name.slice(0, 2), name.slice(2)), hostile);
    mkdirSync(join(remote, 'files/md5', md5Hex('pwned').slice(0, 2)), { recursive: true });
    writeFileSync(join(remote, 'files/md5', md5Hex('pwned').slice(0, 2), md5Hex('pwned').slice(2)), 'pwned');
    writeFileSync(join(root, 'data.dvc'), `outs:\n- md5: ${name}\n  size: 5\n  nfiles: 1\n  hash: md5\n  path: data\n`);
    const r = await mlops(root, ['data', 'pull', '--remote', remote]);
    expect(r.code).toBe(2);
    expect(r.log).toMatch(/manifest: "\.\.\/\.\.\/evil" in .* is not a safe relative path/);
    expect(existsSync(join(root, '..', 'evil'))).toBe(false);
    expect(existsSync(join(root, 'data'))).toBe(false);
  });

  it('a large object, hashed and copied while it downloads, that turns out corrupt leaves no file anywhere', async () => {
    const big = Buffer.alloc(3 << 20, 7); // above the size that is kept in memory
    const root = workspace({ 'data/big.bin': big, 'data/small': 's' });
    const remote = tempDir('remote');
    await mlops(root, ['data', 'add', 'data']);
    await mlops(root, ['data', 'push', '--remote', remote]);
    const good = cloneOf(root);
    expect((await mlops(good, ['data', 'pull', '--remote', remote])).code).toBe(0);
    expect(readFileSync(join(good, 'data/big.bin')).equals(big)).toBe(true);
    expect(statSync(join(good, 'data/big.bin')).mode & 0o200).toBe(0o200);

    const key = `files/md5/${md5Hex(big).slice(0, 2)}/${md5Hex(big).slice(2)}`;
    chmodSync(join(remote, key), 0o644);
    writeFileSync(join(remote, key), Buffer.alloc(3 << 20, 8));
    const clone = cloneOf(root);
    const r = await mlops(clone, ['data', 'pull', '--remote', remote]);
    expect(r.code).toBe(3);
    expect(r.log).toContain(`${key}: content has MD5 ${md5Hex(Buffer.alloc(3 << 20, 8))}, expected ${md5Hex(big)}`);
    expect(existsSync(join(clone, 'data'))).toBe(false);
    expect(listFiles(join(clone, '.dvc/cache')).some((f) => f.endsWith('.tmp') || f.includes(md5Hex(big).slice(2)))).toBe(false);
  });

  it('a corrupted object fails the pull naming it and leaves no file', async () => {
    const root = workspace();
    const remote = tempDir('remote');
    await mlops(root, ['data', 'add', 'data']);
    await mlops(root, ['data', 'push', '--remote', remote]);
    const key = `files/md5/ac/bd18db4cc2f85cedef654fccc4a4d8`;
    chmodSync(join(remote, key), 0o644);
    writeFileSync(join(remote, key), 'fox');
    const clone = cloneOf(root);
    const r = await mlops(clone, ['data', 'pull', '--remote', remote]);
    expect(r.code).toBe(3);
    expect(r.log).toContain(`${key}: content has MD5 ${md5Hex('fox')}, expected acbd18db4cc2f85cedef654fccc4a4d8`);
    expect(existsSync(join(clone, 'data'))).toBe(false);
    expect(existsSync(join(clone, '.dvc/cache/files/md5/ac/bd18db4cc2f85cedef654fccc4a4d8'))).toBe(false);
    expect(listFiles(join(clone, '.dvc/cache')).some((f) => f.endsWith('.tmp'))).toBe(false);
  });
});

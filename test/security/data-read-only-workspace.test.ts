// Issue 10 item 10: a workspace mounted read-only (a review checkout, a cache volume shared read-only) still
// gets a `status`: it prints what it knows and exits 0, though it can neither save its state database nor
// clean up a dead process's temporary files.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fingerprint, mlops, victim } from './data-attack.ts';

const BIN = fileURLToPath(new URL('../../bin/mlops.js', import.meta.url));

/**
 * Runs Node with `args` in `root` with `root` read-only: a read-only bind mount in a private mount namespace
 * when running as root (permissions do not stop root), else the folders' write bits cleared.
 */
function runReadOnly(root: string, args: string[]) {
  if (process.getuid?.() === 0) {
    // $1 is the folder, the rest is the command: no value reaches the shell's parser.
    const script = 'mount --bind -o ro "$1" "$1" && cd "$1" && shift && exec "$@"';
    return spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', root, process.execPath, ...args], { cwd: root, encoding: 'utf8' });
  }
  const dirs = [root, ...readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(e.parentPath, e.name))];
  for (const d of dirs) chmodSync(d, statSync(d).mode & ~0o222);
  try {
    return spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  } finally {
    for (const d of dirs) chmodSync(d, statSync(d).mode | 0o200);
  }
}

describe('status in a read-only workspace', () => {
  it('prints every output and exits 0, writing nothing', async () => {
    const v = victim({ 'data/a.csv': 'a\n', 'data/b.csv': 'b\n', 'model.bin': 'm' });
    expect((await mlops(v.root, ['data', 'add', 'data', 'model.bin'])).code).toBe(0);
    // Touched since: the state database no longer vouches, so status hashes and would like to save it.
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(v.root, 'data/a.csv'), later, later);
    writeFileSync(join(v.root, 'model.bin'), 'changed');
    // And a dead process's temporary file in the cache it cannot delete.
    writeFileSync(join(v.root, '.dvc/cache/files/md5', '.mlops-999999999-0.tmp'), 'partial');
    const before = fingerprint(v.root);

    const r = runReadOnly(v.root, [BIN, 'data', 'status', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const outputs = JSON.parse(r.stdout).status.outputs as { path: string; workspace: string }[];
    expect(outputs.map((o) => [o.path, o.workspace])).toEqual([
      ['data', 'ok'],
      ['model.bin', 'modified'],
    ]);
    expect(fingerprint(v.root)).toEqual(before);
    // The same workspace writable again: its state database is still what it was and works.
    expect((await mlops(v.root, ['data', 'status', '--json'])).code).toBe(0);
  });

  it('the read-only set-up really is read-only (the test above can fail)', () => {
    const v = victim();
    const r = runReadOnly(v.root, ['-e', 'require("node:fs").writeFileSync("probe", "")']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/EROFS|EACCES/);
    expect(existsSync(join(v.root, 'probe'))).toBe(false);
  });
});

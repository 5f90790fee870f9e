// Issue 10 item 2: a cache object whose bytes are not its name (edited in place, or committed to the
// repository by an attacker) is never checked out, and never pushed under a name its bytes do not have.
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { md5Hex, mlops, putObject, tempDir, untouchable, victim, writeFiles } from './data-attack.ts';

const genuine = 'id,label\n1,0\n2,1\n';
const poison = 'id,label\n1,1\n2,0\n'; // same size: flipped labels
const object = md5Hex(genuine);
const cacheRel = `.dvc/cache/files/md5/${object.slice(0, 2)}/${object.slice(2)}`;

/** A project that tracked data/train.csv, whose cache object was then edited in place. */
async function editedCache() {
  const v = victim({ 'data/train.csv': genuine, 'data/other.csv': 'x\n' });
  expect((await mlops(v.root, ['data', 'add', 'data'])).code).toBe(0);
  const cached = join(v.root, cacheRel);
  chmodSync(cached, 0o644);
  writeFileSync(cached, poison);
  chmodSync(cached, 0o444);
  return v;
}

function expectNamesObject(log: string) {
  expect(log).toContain(object);
  expect(log).toMatch(new RegExp(`content has MD5 ${md5Hex(poison)}`));
}

describe('a cache object edited in place', () => {
  it('is not checked out: exit 3 naming the object, and the workspace is left as it was', async () => {
    const v = await editedCache();
    rmSync(join(v.root, 'data'), { recursive: true });
    const before = untouchable(v);
    const r = await mlops(v.root, ['data', 'pull', '--remote', tempDir('empty-remote')]);
    expect(r.code).toBe(3);
    expectNamesObject(r.log);
    expect(existsSync(join(v.root, 'data'))).toBe(false);
    expect(untouchable(v)).toEqual(before);
  });

  it('is not pushed: exit 3 naming the object, and the remote never holds those bytes under the genuine name', async () => {
    const v = await editedCache();
    const remote = tempDir('remote');
    const r = await mlops(v.root, ['data', 'push', '--remote', remote]);
    expect(r.code).toBe(3);
    expectNamesObject(r.log);
    expect(existsSync(join(remote, 'files/md5', object.slice(0, 2), object.slice(2)))).toBe(false);
    // Without all its files the `.dir` is not published either: a pull elsewhere cannot take a half dataset for whole.
    const dvc = readFileSync(join(v.root, 'data.dvc'), 'utf8');
    const dir = /md5: ([0-9a-f]{32}\.dir)/.exec(dvc)?.[1] as string;
    expect(existsSync(join(remote, 'files/md5', dir.slice(0, 2), dir.slice(2)))).toBe(false);
  });
});

describe('a cache committed to the repository by an attacker', () => {
  it('a fresh clone with .dvc/cache holding a forged object does not check it out', async () => {
    // The clone has data.csv.dvc (genuine md5) and, under that md5, the attacker's bytes: no state vouches for them.
    const v = victim({ 'data.csv.dvc': `outs:\n- md5: ${object}\n  size: ${genuine.length}\n  hash: md5\n  path: data.csv\n` });
    putObject(join(v.root, '.dvc/cache'), object, poison);
    const remote = tempDir('remote');
    putObject(remote, object, genuine);
    const r = await mlops(v.root, ['data', 'pull', '--remote', remote]);
    expect(r.code).toBe(3);
    expectNamesObject(r.log);
    expect(existsSync(join(v.root, 'data.csv'))).toBe(false);
  });
});

describe('verification stays off the hot path', () => {
  const rchar = () => Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);

  it('objects this tool wrote are not read again before a checkout; objects it did not write are (one read each)', async () => {
    const big = Buffer.alloc(32 << 20, 3);
    const v = victim();
    writeFiles(v.root, { 'data/big.bin': big });
    expect((await mlops(v.root, ['data', 'add', 'data'])).code).toBe(0);
    const emptyRemote = tempDir('empty-remote');
    const checkout = async () => {
      rmSync(join(v.root, 'data'), { recursive: true });
      const start = rchar();
      expect((await mlops(v.root, ['data', 'pull', '--remote', emptyRemote])).code).toBe(0);
      const read = rchar() - start;
      expect(readFileSync(join(v.root, 'data/big.bin')).equals(big)).toBe(true);
      return read;
    };
    await checkout(); // warm: modules loaded
    const vouched = await checkout();
    // The same object, rewritten with the same bytes: the state database no longer vouches for it.
    const cached = join(v.root, `.dvc/cache/files/md5/${md5Hex(big).slice(0, 2)}/${md5Hex(big).slice(2)}`);
    chmodSync(cached, 0o644);
    writeFileSync(cached, big);
    const unvouched = await checkout();
    expect(unvouched - vouched).toBeGreaterThan(0.9 * big.length); // the verification reads it once...
    expect(vouched).toBeLessThan(1.5 * big.length); // ...and only then: a vouched object is copied, not hashed
    const again = await checkout();
    expect(again).toBeLessThan(1.5 * big.length); // verified once, vouched for from then on
  });
});

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileWriter } from '../../../src/data/file-writer.ts';
import { md5Hex } from '../../../src/data/hash.ts';
import { tempDir } from '../../helpers/tmp.ts';

const writers: FileWriter[] = [];
afterEach(async () => {
  await Promise.all(writers.splice(0).map((w) => w.close()));
});

function setup() {
  const dir = tempDir('writer');
  const writer = new FileWriter();
  writers.push(writer);
  return { dir, writer };
}

describe('FileWriter (the writer thread behind pull)', () => {
  it('writes every file in order under its temporary name, renames it, and reports what the state database needs', async () => {
    const { dir, writer } = setup();
    const bytes = Buffer.from('hello data');
    const files = ['cache', 'a', 'b'].map((n) => ({ temp: join(dir, `${n}.tmp`), target: join(dir, n), mode: n === 'cache' ? 0o444 : 0o666 }));
    const outcome = await writer.write(bytes, md5Hex(bytes), files);
    expect(outcome.error).toBeUndefined();
    expect(outcome.written).toHaveLength(3);
    for (const [i, f] of files.entries()) {
      expect(readFileSync(f.target, 'utf8')).toBe('hello data');
      const s = statSync(f.target);
      expect(outcome.written[i]).toEqual({ size: 10, mtimeMs: s.mtimeMs, ino: s.ino });
    }
    expect(statSync(join(dir, 'cache')).mode & 0o222).toBe(0); // cache objects are read-only
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('bytes that do not hash to the expected MD5 are reported and nothing is written', async () => {
    const { dir, writer } = setup();
    const outcome = await writer.write(Buffer.from('tampered'), md5Hex('original'), [{ temp: join(dir, 'c.tmp'), target: join(dir, 'c'), mode: 0o444 }]);
    expect(outcome).toEqual({ written: [], corrupt: md5Hex('tampered') });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('stops at the first file it cannot write, says which, and leaves no temporary file', async () => {
    const { dir, writer } = setup();
    const bytes = Buffer.from('x');
    const outcome = await writer.write(bytes, md5Hex(bytes), [
      { temp: join(dir, 'ok.tmp'), target: join(dir, 'ok'), mode: 0o666 },
      { temp: join(dir, 'missing-folder', 'no.tmp'), target: join(dir, 'missing-folder', 'no'), mode: 0o666 },
      { temp: join(dir, 'after.tmp'), target: join(dir, 'after'), mode: 0o666 },
    ]);
    expect(outcome.written).toHaveLength(1);
    expect(outcome.error).toMatchObject({ code: 'ENOENT' });
    expect(existsSync(join(dir, 'after'))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['ok']);
  });

  it('hashes a large object chunk by chunk, in order, off the main thread', async () => {
    const { writer } = setup();
    const chunks = ['first ', 'second ', 'third'].map((c) => Buffer.from(c));
    const hash = writer.hasher();
    const other = writer.hasher(); // two at once do not mix
    await Promise.all(chunks.map((c) => hash.update(c)));
    await other.update(Buffer.from('unrelated'));
    expect(await hash.digest()).toBe(md5Hex('first second third'));
    expect(await other.digest()).toBe(md5Hex('unrelated'));
  });
});

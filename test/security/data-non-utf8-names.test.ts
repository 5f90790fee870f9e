// Issue 10 item 10: file names are bytes on Linux, text in DVC's manifests. A name that is not UTF-8 is
// bad input (exit 2 naming it, its bytes escaped), never a crash or a silently renamed file.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dirObject, dvcFile, mlops, remoteWith, victim, writeFiles } from './data-attack.ts';

/** `data/caf\xe9.csv`: Latin-1 é, as an old Windows tool would have written it. */
function latin1Name(root: string): void {
  mkdirSync(join(root, 'data'), { recursive: true });
  writeFileSync(Buffer.concat([Buffer.from(join(root, 'data', 'caf')), Buffer.from([0xe9]), Buffer.from('.csv')]), 'x\n');
}

describe('a file name that is not UTF-8', () => {
  it('add names it with its bytes escaped (exit 2) and writes nothing', async () => {
    const v = victim({ 'data/ok.csv': 'ok\n' });
    latin1Name(v.root);
    const r = await mlops(v.root, ['data', 'add', 'data']);
    expect(r.code, r.log).toBe(2);
    expect(r.log).toContain('data/caf\\\\xe9.csv');
    expect(r.log).toMatch(/not valid UTF-8/);
    expect(existsSync(join(v.root, 'data.dvc'))).toBe(false);
    expect(existsSync(join(v.root, '.dvc/cache'))).toBe(false);
  });

  it('status of tracked data that gained one names it (exit 2)', async () => {
    const v = victim({ 'data/ok.csv': 'ok\n' });
    expect((await mlops(v.root, ['data', 'add', 'data'])).code).toBe(0);
    latin1Name(v.root);
    const r = await mlops(v.root, ['data', 'status']);
    expect(r.code).toBe(2);
    expect(r.log).toContain('data/caf\\\\xe9.csv');
  });

  it('a .dvc file whose own name is not UTF-8 is named too', async () => {
    const v = victim();
    writeFileSync(Buffer.concat([Buffer.from(join(v.root, 'caf')), Buffer.from([0xe9, 0x2e]), Buffer.from('dvc')]), dvcFile('acbd18db4cc2f85cedef654fccc4a4d8', 'x'));
    const r = await mlops(v.root, ['data', 'status']);
    expect(r.code).toBe(2);
    expect(r.log).toContain('caf\\\\xe9.dvc');
  });
});

describe('a manifest name that is not well-formed Unicode', () => {
  it('a lone surrogate (which would be written as U+FFFD and collide) is refused before anything is written', async () => {
    const v = victim();
    const dir = dirObject({ 'a\ud800.csv': 'x\n', 'ok.csv': 'ok\n' });
    writeFiles(v.root, { 'data.dvc': dvcFile(dir.md5, 'data') });
    const r = await mlops(v.root, ['data', 'pull', '--remote', remoteWith(dir.objects)]);
    expect(r.code).toBe(2);
    expect(r.log).toMatch(/manifest: "a\\ud800\.csv"/);
    expect(existsSync(join(v.root, 'data'))).toBe(false);
  });
});

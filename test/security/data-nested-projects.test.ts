// Issue 16 item 6: `data push`/`status` with no targets work on this project's .dvc files only. A folder with
// its own `.dvc/` is another DVC project (DVC calls it a subrepo) and is not walked into, as DVC does not:
// a clone that holds a demo workspace or a vendored project must not fail on someone else's data.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dvcFile, fingerprint, mlops, tempDir, victim, writeFiles } from './data-attack.ts';

/** A project with data pushed from it, holding two nested projects whose objects are nowhere here. */
async function withNested() {
  const v = victim({ 'data/train.csv': 'a\n' });
  expect((await mlops(v.root, ['data', 'add', 'data'])).code).toBe(0);
  for (const nested of ['.mlops-demo/project', 'vendor/other']) {
    mkdirSync(join(v.root, nested, '.dvc'), { recursive: true });
    writeFiles(join(v.root, nested), { '.dvc/config': '', 'data.dvc': dvcFile('0123456789abcdef0123456789abcdef.dir', 'data') });
  }
  return v;
}

describe('nested DVC projects', () => {
  it('push with no targets pushes this project only', async () => {
    const v = await withNested();
    const remote = tempDir('remote');
    const r = await mlops(v.root, ['data', 'push', '--remote', remote, '--json']);
    expect(r.code, r.log).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outputs: [{ path: 'data' }], transferred: 2, missing: [] });
  });

  it('status with no targets lists this project only', async () => {
    const v = await withNested();
    const r = await mlops(v.root, ['data', 'status', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).status.outputs.map((o: { path: string }) => o.path)).toEqual(['data']);
  });

  it('pull with no targets leaves the nested projects alone', async () => {
    const v = await withNested();
    const remote = tempDir('remote');
    expect((await mlops(v.root, ['data', 'push', '--remote', remote])).code).toBe(0);
    const before = fingerprint(join(v.root, 'vendor'));
    const r = await mlops(v.root, ['data', 'pull', '--remote', remote, '--json']);
    expect(r.code, r.log).toBe(0);
    expect(fingerprint(join(v.root, 'vendor'))).toEqual(before);
  });

  it('inside a nested project, its own .dvc files are found as before', async () => {
    const v = await withNested();
    const r = await mlops(join(v.root, 'vendor/other'), ['data', 'status', '--json']);
    expect(JSON.parse(r.stdout).status.outputs.map((o: { path: string }) => o.path)).toEqual(['data']);
    expect(readFileSync(join(v.root, 'vendor/other/data.dvc'), 'utf8')).toContain('0123456789abcdef');
  });
});

// Issue 10 items 9 and 10: where a remote points. `..` in a remote URL is bad input (exit 2 naming it), not an
// I/O failure; a directory remote inside the data it stores is refused before a byte is written there.
import { existsSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprint, mlops, tempDir, victim } from './data-attack.ts';

async function tracked() {
  const v = victim({ 'data/train.csv': 'a,b\n1,2\n' });
  expect((await mlops(v.root, ['data', 'add', 'data'])).code).toBe(0);
  return v;
}

describe('`..` in a remote URL', () => {
  const urls = ['s3://bucket/../other-bucket', 's3://bucket/dvc/../../x', 's3://bucket/./dvc', 'file:///srv/dvc/../../etc'];
  for (const url of urls) {
    for (const command of ['push', 'pull', 'status']) {
      it(`${command} --remote ${url} is exit 2 naming the remote`, async () => {
        const v = await tracked();
        // A closed port as the endpoint: were the URL let through, the command would fail fast with exit 3.
        const endpoint = url.startsWith('s3://') ? ['--endpoint', 'http://127.0.0.1:9'] : [];
        const r = await mlops(v.root, ['data', command, '--remote', url, ...endpoint]);
        expect(r.code, r.log).toBe(2);
        expect(r.log).toContain(`remote: ${JSON.stringify(url)}`);
      });
    }
  }

  it('in .dvc/config (the pull request can edit it) as well', async () => {
    const v = await tracked();
    writeFileSync(join(v.root, '.dvc/config'), "[core]\n    remote = r\n['remote \"r\"']\n    url = s3://bucket/dvc/../../x\n    endpointurl = http://127.0.0.1:9\n");
    const r = await mlops(v.root, ['data', 'push']);
    expect(r.code).toBe(2);
    expect(r.log).toContain('remote: "s3://bucket/dvc/../../x"');
  });
});

describe('a directory remote inside the tracked data', () => {
  for (const command of ['push', 'pull']) {
    it(`${command} is refused (exit 2) and the data folder is left as it was`, async () => {
      const v = await tracked();
      const before = fingerprint(join(v.root, 'data'));
      const r = await mlops(v.root, ['data', command, '--remote', 'data/store']);
      expect(r.code).toBe(2);
      expect(r.log).toMatch(/remote: ".*data\/store" is inside the tracked data "data"/);
      expect(fingerprint(join(v.root, 'data'))).toEqual(before);
      expect(existsSync(join(v.root, 'data/store'))).toBe(false);
      expect((await mlops(v.root, ['data', 'status', '--json'])).stdout).toContain('"workspace": "ok"');
    });
  }

  it('also when reached through a symlink', async () => {
    const v = await tracked();
    const link = join(tempDir('links'), 'to-data');
    symlinkSync(join(v.root, 'data'), link);
    const r = await mlops(v.root, ['data', 'push', '--remote', join(link, 'store')]);
    expect(r.code).toBe(2);
    expect(r.log).toMatch(/is inside the tracked data "data"/);
    expect(existsSync(join(v.root, 'data/store'))).toBe(false);
  });
});

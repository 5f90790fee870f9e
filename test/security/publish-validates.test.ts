import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.ts';
import { mlops } from './mlops-cli.ts';

/** Issue 10 item 9 (publish): inputs are checked before the "already published" answer, on every run; item 6: the source it records is held to its shape. */

describe('publish validates --metrics and --run-json even when the version exists', () => {
  it('a typo in --metrics or a broken --run-json is exit 2 on the second run too, not "unchanged"', async () => {
    const cwd = tempDir('sec-publish');
    const remote = tempDir('sec-publish-remote');
    mkdirSync(join(cwd, 'model'));
    writeFileSync(join(cwd, 'model', 'weights.bin'), 'weights\n');
    writeFileSync(join(cwd, 'metrics.json'), '{"accuracy": 0.9}\n');
    writeFileSync(join(cwd, 'broken-run.json'), '{"source": ');
    const publish = (...extra: string[]) => mlops(['publish', 'model', '--name', 'churn', '--remote', remote, ...extra], cwd);
    expect((await publish('--metrics', 'metrics.json')).code).toBe(0);
    const again = await publish('--metrics', 'metrics.json');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^unchanged churn sha256-/);

    const typo = await publish('--metrics', 'metrics.jsn');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/metrics\.jsn: no such file/);
    const broken = await publish('--run-json', 'broken-run.json');
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/run-json: ".*broken-run\.json" is not valid JSON/);
    const missing = await publish('--run-json', 'no-run.json');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/run-json: ".*no-run\.json" does not exist/);
  });

  it('a run.json whose source would reach PR bodies and trailers unchecked is exit 2, and no card is written', async () => {
    const cwd = tempDir('sec-publish-source');
    const remote = tempDir('sec-publish-remote');
    mkdirSync(join(cwd, 'model'));
    writeFileSync(join(cwd, 'model', 'weights.bin'), 'weights\n');
    for (const source of [{ commit: 'main\n::add-mask::x' }, { repository: '@org/team' }, { 'run-url': 'javascript:alert(1)' }]) {
      writeFileSync(join(cwd, 'run.json'), JSON.stringify({ source }));
      const r = await mlops(['publish', 'model', '--name', 'churn', '--remote', remote, '--run-json', 'run.json'], cwd);
      expect(r.code, JSON.stringify(source)).toBe(2);
      expect(r.stderr).toMatch(/run-json: "run\.json" has an invalid source\.(commit|repository|run-url) \(must be/);
    }
    expect(readdirSync(remote)).toEqual([]);
  });
});

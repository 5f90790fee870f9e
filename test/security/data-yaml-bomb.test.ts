// Issue 10 item 10: a `.dvc` file from a pull request is hostile YAML. A billion-laughs alias bomb is bad
// input (exit 2 naming the file), refused before it is expanded, for every command that reads .dvc files.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mlops, remoteWith, untouchable, victim } from './data-attack.ts';

const levels = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];
const bomb = [
  'x0: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...levels.slice(1).map((l, i) => `x${i + 1}: &${l} [${Array(9).fill(`*${levels[i]}`).join(',')}]`),
  'outs:',
  '- md5: acbd18db4cc2f85cedef654fccc4a4d8',
  '  size: 3',
  '  hash: md5',
  '  path: data.csv',
  `  meta: *${levels.at(-1)}`,
  '',
].join('\n');

describe('a .dvc file that is a YAML alias bomb', () => {
  for (const command of ['pull', 'push', 'status']) {
    it(`${command} refuses it with exit 2 naming the file`, async () => {
      const v = victim();
      writeFileSync(join(v.root, 'data.csv.dvc'), bomb);
      const before = untouchable(v);
      const started = Date.now();
      const r = await mlops(v.root, ['data', command, ...(command === 'status' ? [] : ['--remote', remoteWith([])])]);
      expect(r.code, r.log).toBe(2);
      expect(r.log).toMatch(/dvc-file: ".*data\.csv\.dvc".*alias/);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(untouchable(v)).toEqual(before);
    });
  }

  it('one alias is enough to refuse: a .dvc file has no use for them', async () => {
    const v = victim();
    writeFileSync(join(v.root, 'data.csv.dvc'), 'outs:\n- md5: &m acbd18db4cc2f85cedef654fccc4a4d8\n  size: 3\n  path: data.csv\n  desc: *m\n');
    const r = await mlops(v.root, ['data', 'status']);
    expect(r.code).toBe(2);
    expect(r.log).toMatch(/data\.csv\.dvc.*alias/);
  });
});

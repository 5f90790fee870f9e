import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { silentLogger } from '../../../src/log.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const logger = { ...silentLogger, error: (m: string) => err.push(m) };
  return { out, err, ctx: { out: (t: string) => out.push(t), logger } };
}

describe('mlops CLI', () => {
  it('lists every command on --help and exits 0', async () => {
    const c = capture();
    expect(await main(['--help'], c.ctx)).toBe(0);
    for (const name of ['gate', 'data', 'train', 'evaluate', 'publish', 'bump', 'pull-request', 'demo']) {
      expect(c.out.join('\n')).toContain(`  ${name} `);
    }
  });

  it('exits 2 with usage when no command is given', async () => {
    const c = capture();
    expect(await main([], c.ctx)).toBe(2);
    expect(c.out.join('\n')).toContain('Usage: mlops <command>');
  });

  it('exits 2 and names an unknown command', async () => {
    const c = capture();
    expect(await main(['gaet'], c.ctx)).toBe(2);
    expect(c.err.join('\n')).toContain('"gaet"');
  });
});

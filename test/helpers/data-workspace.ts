import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import type { Logger } from '../../src/log.ts';

/** Runs `mlops …` in-process in `cwd`, capturing stdout and log lines. */
export async function mlops(cwd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const out: string[] = [];
  const log: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: (m) => log.push(m),
    notice: (m) => log.push(`notice: ${m}`),
    warning: (m) => log.push(`warning: ${m}`),
    error: (m) => log.push(`error: ${m}`),
  };
  const code = await main(args, { cwd, logger, env, out: (t) => out.push(t) });
  return { code, stdout: out.join('\n'), log: log.join('\n') };
}

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `${prefix}-`));

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { main } from '../../src/cli/main.ts';
import type { Logger } from '../../src/log.ts';
import { tempDir } from './tmp.ts';

export { tempDir };

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

/** A project folder (with `.git`) holding `files` (path → content). */
export function makeWorkspace(files: Record<string, string | Buffer>): string {
  const root = tempDir('ws');
  mkdirSync(join(root, '.git'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

/** What a fresh git clone of `root` holds: its `.dvc` files and `.gitignore`s, no data, no cache. */
export function cloneWorkspace(root: string): string {
  const clone = tempDir('clone');
  mkdirSync(join(clone, '.git'));
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/(\.dvc|\.gitignore)$/.test(entry.name)) continue;
    const rel = relative(root, join(entry.parentPath, entry.name));
    if (rel.startsWith('.dvc/') || rel.startsWith('.git/')) continue;
    mkdirSync(dirname(join(clone, rel)), { recursive: true });
    writeFileSync(join(clone, rel), readFileSync(join(root, rel)));
  }
  return clone;
}

/** Every file below `dir`, as sorted relative POSIX paths. */
export function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

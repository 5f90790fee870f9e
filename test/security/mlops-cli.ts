import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';

/** Runs `mlops …` in-process, as a user would from `cwd`; stderr is every log line, stdout every result. */
export async function mlops(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const log = (m: string) => err.push(m);
  const logger = { debug() {}, info: log, notice: log, warning: log, error: log };
  const code = await main(argv, { out: (t) => out.push(t), logger, cwd, env });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** A digest of every path, file byte and link target under `dir`: equal before and after means nothing was touched. */
export function treeDigest(dir: string): string {
  const hash = createHash('sha256');
  const walk = (path: string, rel: string) => {
    const info = lstatSync(path);
    if (info.isSymbolicLink()) hash.update(`L ${rel} -> ${readlinkSync(path)}\n`);
    else if (info.isDirectory()) {
      hash.update(`D ${rel}\n`);
      for (const name of readdirSync(path).sort()) walk(join(path, name), `${rel}/${name}`);
    } else hash.update(`F ${rel} ${info.mode} ${createHash('sha256').update(readFileSync(path)).digest('hex')}\n`);
  };
  walk(dir, '.');
  return hash.digest('hex');
}

/** Markdown with fenced blocks and code spans removed: what GitHub would scan for mentions, links and HTML. */
export function outsideCode(markdown: string): string {
  const lines = markdown.split('\n');
  const kept: string[] = [];
  let fence: string | undefined;
  for (const line of lines) {
    const open = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (open && open[0] === fence[0] && open.length >= fence.length && line.trim() === open) fence = undefined;
      continue;
    }
    if (open) {
      fence = open;
      continue;
    }
    kept.push(line);
  }
  // Inline code spans: a run of n backticks up to the next run of exactly n.
  return kept.join('\n').replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, ' ');
}

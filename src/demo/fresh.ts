import { existsSync, lstatSync, readdirSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { badInput } from '../errors.ts';

/** The file every demo work folder holds after its first run. */
export const DEMO_STATE = 'demo-state.json';

/**
 * `demo --fresh` deletes the work folder: only when it is plainly a demo's (empty, or holding the demo's own
 * demo-state.json), and never the current directory or a folder above it, the home folder, the file-system
 * root or a git work tree, whatever it holds. `--workdir . --fresh` inside a project must not delete it.
 */
export function checkFreshWorkdir(workdir: string, context: { cwd: string; home?: string }): void {
  const refuse = (why: string) => badInput('workdir', workdir, `${why}; --fresh deletes only a demo's work folder (one holding ${DEMO_STATE}, or empty): give --workdir a folder of its own, e.g. .mlops-demo`);
  if (!existsSync(workdir)) return;
  const info = lstatSync(workdir);
  if (info.isSymbolicLink()) throw refuse('is a symbolic link');
  if (!info.isDirectory()) throw refuse('is not a folder');
  const target = realpathSync(workdir);
  const cwd = realpathOr(context.cwd);
  if (target === cwd || isAncestor(target, cwd)) throw refuse('is the current directory or a folder above it');
  const home = realpathOr(context.home ?? homedir());
  if (target === home || isAncestor(target, home)) throw refuse('is the home folder or a folder above it');
  if (target === dirname(target)) throw refuse('is the root of the file system');
  if (existsSync(join(target, '.git'))) throw refuse('is a git work tree');
  const entries = readdirSync(target);
  if (entries.length > 0 && !entries.includes(DEMO_STATE)) throw refuse(`holds files but no ${DEMO_STATE}, so it is not a demo's work folder`);
  const state = lstatSync(join(target, DEMO_STATE), { throwIfNoEntry: false });
  if (state && !state.isFile()) throw refuse(`has a ${DEMO_STATE} that is not a file`);
}

function realpathOr(path: string): string {
  try {
    return realpathSync(resolve(path));
  } catch {
    return resolve(path);
  }
}

function isAncestor(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

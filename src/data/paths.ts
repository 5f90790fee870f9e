import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { badInput } from '../errors.ts';

/** True when `child` is `parent` or below it (both absolute, normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Resolves a target the user named (relative to `cwd`) to a workspace-relative POSIX path.
 * Absolute paths, paths that leave the workspace, and paths reached through a symlink that leaves it are rejected.
 */
export function resolveTarget(root: string, cwd: string, target: string, input = 'targets'): string {
  if (target === '' || target.includes('\0')) throw badInput(input, target, 'is not a path: name a file or directory inside the workspace');
  if (isAbsolute(target)) throw badInput(input, target, `is an absolute path: give a path relative to the workspace ${root}`);
  const absolute = resolve(cwd, target.replace(/\.dvc$/, ''));
  if (!isInside(root, absolute) || absolute === root) {
    throw badInput(input, target, `is outside the workspace ${root}: give a path inside it`);
  }
  assertNoSymlinkEscape(root, absolute, input, target);
  return relative(root, absolute).split(sep).join('/');
}

/** Fails when the deepest existing ancestor of `absolute` (or the path itself) resolves outside `root`. */
export function assertNoSymlinkEscape(root: string, absolute: string, input: string, shown: string): void {
  const realRoot = realpathSync(root);
  let probe = absolute;
  while (!existsSync(probe) && probe !== dirname(probe)) probe = dirname(probe);
  let real: string;
  try {
    real = realpathSync(probe);
  } catch {
    return; // a dangling symlink: the caller's stat reports it
  }
  if (!isInside(realRoot, real)) {
    throw badInput(input, shown, `resolves through a symlink to ${real}, outside the workspace: remove the link or name a path inside ${root}`);
  }
}

/**
 * Checks a relpath read from a `.dir` manifest (possibly written by someone else):
 * POSIX, relative, no `.`/`..`/empty segments, no NUL.
 */
export function checkManifestPath(relpath: string, object: string): void {
  const segments = relpath.split('/');
  const bad = relpath.includes('\0') || relpath.startsWith('/') || /^[A-Za-z]:/.test(relpath)
    || segments.some((s) => s === '' || s === '.' || s === '..');
  if (bad) throw badInput('manifest', relpath, `in ${object} is not a safe relative path: the remote object is corrupt or hostile; refusing to write anything`);
}

/** Groups of paths that differ only by letter case or Unicode normalisation (they collide on macOS and Windows). */
export function findCollisions(paths: string[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const p of paths) {
    const key = /^[\x00-\x7f]*$/.test(p) ? p.toLowerCase() : p.normalize('NFC').toLowerCase();
    const group = groups.get(key);
    if (group) group.push(p);
    else groups.set(key, [p]);
  }
  return [...groups.values()].filter((g) => g.length > 1);
}

let tempCounter = 0;
/** Temporary names of files a pull is writing: distinctive, so that a killed pull's leftovers are known. */
export const tempSuffix = () => `.mlops-${process.pid}-${tempCounter++}.tmp`;
/** A file a pull was writing when it was killed: never data, always safe to delete. */
export const isLeftover = (path: string) => /\.mlops-\d+-\d+\.tmp$/.test(path);

import { existsSync, lstatSync, realpathSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
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

// Code points HFS+ ignores in names, and the trailing dots and spaces NTFS drops: `.g\u200cit` and `.git. ` are `.git` there.
const IGNORED_IN_NAMES = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;
const RESERVED = new Set(['.git', '.dvc', '.hg', 'git~1', 'dvc~1', 'hg~1']);

/**
 * The repository's and DVC's own folders (`.git`, `.dvc`, `.hg`), under every spelling some file system
 * takes for them (letter case, NTFS short names and trailing dots, HFS+ ignorable code points), as git
 * refuses them in a tree on every platform. DVC never tracks them; no data is ever written into one.
 */
export function isReservedName(segment: string): boolean {
  return RESERVED.has(segment.replace(IGNORED_IN_NAMES, '').replace(/[. ]+$/, '').toLowerCase());
}

/** The first segment of a relative POSIX path that is a reserved name, if any. */
export function reservedSegment(relpath: string): string | undefined {
  return relpath.split('/').find(isReservedName);
}

/**
 * Checks a relpath read from a `.dir` manifest (possibly written by someone else): POSIX, relative, no
 * `.`/`..`/empty segments, no NUL, well-formed Unicode (a lone surrogate would be written as U+FFFD and
 * could collide with another name), nothing inside `.git` or `.dvc`.
 */
export function checkManifestPath(relpath: string, object: string): void {
  const segments = relpath.split('/');
  const bad = relpath.includes('\0') || relpath.startsWith('/') || /^[A-Za-z]:/.test(relpath)
    || segments.some((s) => s === '' || s === '.' || s === '..') || !isWellFormed(relpath);
  if (bad) throw badInput('manifest', relpath, `in ${object} is not a safe relative path: the remote object is corrupt or hostile; refusing to write anything`);
  const reserved = reservedSegment(relpath);
  if (reserved !== undefined) {
    throw badInput('manifest', relpath, `in ${object} is inside ${JSON.stringify(reserved)}, the repository's or DVC's own folder: data is never written there; refusing to write anything`);
  }
}

function isWellFormed(text: string): boolean {
  return !/\p{Surrogate}/u.test(text);
}

/**
 * Fails when `rel` (workspace-relative, POSIX), or any folder on the way to it, is a symlink: what a pull
 * writes or deletes must be where its path says, never wherever a link committed to the repository points.
 */
export function assertNoSymlinkOnPath(root: string, rel: string, input: string, shown: string): void {
  let at = root;
  for (const segment of rel.split('/')) {
    at = join(at, segment);
    const s = lstatSync(at, { throwIfNoEntry: false });
    if (!s) return;
    if (s.isSymbolicLink()) {
      throw badInput(input, shown, `goes through the symlink ${JSON.stringify(relative(root, at).split(sep).join('/'))}: data is never written through a link; remove it (it may point into .git)`);
    }
  }
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
/** Temporary names of files being written: distinctive, so that a killed run's leftovers are known. */
export const tempSuffix = () => `.mlops-${process.pid}-${tempCounter++}.tmp`;

const LEFTOVER = /\.mlops-(\d+)-\d+\.tmp$/;
/** A file an add or pull was writing (ours by its name): never data. */
export const isLeftover = (path: string) => LEFTOVER.test(path);

/**
 * A leftover whose writer has exited: safe to delete. A live process's temporary (a concurrent pull) is not,
 * and neither is one whose pid we may not signal (another user's process is alive).
 */
export function isStaleLeftover(path: string): boolean {
  const pid = Number(LEFTOVER.exec(path)?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Deletes a stale leftover; a read-only workspace keeps it (status must still work there). */
export function removeLeftover(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // read-only or not ours to delete: it stays, and is still not data
  }
}

/**
 * A name from the data fit to start a log line: as it is when printable, else quoted with its control
 * characters escaped. A name that starts with `::` is quoted too: the runner obeys a line that starts so.
 */
export function shown(name: string): string {
  return /[\x00-\x1f\x7f-\x9f]/.test(name) || name.startsWith('::') ? JSON.stringify(name) : name;
}

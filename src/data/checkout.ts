import { chmodSync, constants, copyFileSync, lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, statSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { badInput } from '../errors.ts';
import type { Written } from './file-writer.ts';
import type { DirEntry } from './hash.ts';
import { assertNoSymlinkOnPath, findCollisions, isInside, isReservedName, shown, tempSuffix } from './paths.ts';
import type { Tracked } from './tracked.ts';
import type { Workspace } from './workspace.ts';

/** One file to write: where, under which state key, with which content. */
export interface Placement {
  md5: string;
  absolute: string;
  key: string;
  /** A file is there now (with other content) and is replaced. */
  replaces?: boolean;
}

/**
 * What `dvc checkout` has to do for one output, decided before anything is written: the files to write,
 * grouped by object, and the files to delete (in the workspace but not in the data).
 */
export interface CheckoutPlan {
  pending: Map<string, Placement[]>;
  extras: string[];
  /** The objects in the cache when the plan was made. */
  cached: Set<string>;
}

const SHOWN_CONFLICTS = 5;

/**
 * Compares the workspace with the data an output describes. A file whose content would be lost (it differs
 * from the data and is not in the cache: edited since the last add) stops the checkout before any write,
 * unless `force`, as in DVC; a killed pull's temporary files are simply deleted. Destinations are resolved
 * first and must stay inside the output, with no symlink on the way.
 */
export async function planCheckout(ws: Workspace, tracked: Tracked, entries: DirEntry[], force: boolean): Promise<CheckoutPlan> {
  const base = join(ws.root, tracked.rel);
  const isDir = tracked.out.md5.endsWith('.dir');
  for (const group of findCollisions(entries.map((e) => e.relpath))) {
    ws.logger.warning(`${shown(tracked.rel)}: ${group.map((g) => JSON.stringify(g)).join(' and ')} differ only by case or Unicode normalisation; they collide on macOS and Windows`);
  }
  const wanted = new Map<string, Placement>();
  for (const e of entries) {
    const absolute = e.relpath === '' ? base : join(base, ...e.relpath.split('/'));
    if (!isInside(base, absolute)) throw badInput('manifest', e.relpath, `in ${tracked.rel}'s manifest resolves outside it: refusing to write anything`);
    wanted.set(absolute, { md5: e.md5, absolute, key: e.relpath === '' ? tracked.rel : `${tracked.rel}/${e.relpath}` });
  }
  // Nothing is written or deleted through a symlink: not on the way to the output, not inside it (the
  // walk below refuses them), so every path is where it says, and never inside .git.
  assertNoSymlinkOnPath(ws.root, tracked.rel, 'targets', tracked.rel);

  // What is there now, hashed with the state database (free for files this tool wrote or hashed before).
  const current = new Map<string, string>();
  const there = lstatSync(base, { throwIfNoEntry: false });
  if (there) {
    const hashed = await ws.hashPath(tracked.rel, { toCache: false, allowEmpty: true, label: `checking ${shown(tracked.rel)}`, links: 'refuse' });
    if (hashed?.entries) for (const e of hashed.entries) current.set(join(base, ...e.relpath.split('/')), e.md5);
    else if (hashed) current.set(base, hashed.md5);
  }

  const cached = ws.cachedObjects();
  const plan: CheckoutPlan = { pending: new Map(), extras: [], cached };
  const conflicts: string[] = [];
  const safe = (md5: string) => force || cached.has(md5);
  for (const [absolute, p] of wanted) {
    const now = current.get(absolute);
    if (now === p.md5) continue;
    if (now !== undefined) {
      if (!safe(now)) conflicts.push(p.key);
      p.replaces = true;
    }
    const group = plan.pending.get(p.md5);
    if (group) group.push(p);
    else plan.pending.set(p.md5, [p]);
  }
  for (const [absolute, md5] of current) {
    if (wanted.has(absolute)) continue;
    if (!safe(md5)) conflicts.push(showKey(ws, absolute));
    plan.extras.push(absolute);
  }
  if (conflicts.length > 0) {
    const listed = conflicts.slice(0, SHOWN_CONFLICTS).map(shown).join(', ') + (conflicts.length > SHOWN_CONFLICTS ? ` and ${conflicts.length - SHOWN_CONFLICTS} more` : '');
    throw badInput(
      'targets',
      tracked.rel,
      `has ${conflicts.length} file(s) whose changes are not in the cache and would be lost (${listed}): run \`mlops data add ${tracked.rel}\` to keep them, or pull with --force (force: true) to discard them`,
    );
  }
  if (!isDir && there?.isDirectory() && current.size === 0) plan.extras.push(base); // an empty folder where a file goes
  return plan;
}

/**
 * Deletes files (the data does not have them, or a failed pull created them), then the folders that leaves
 * empty. The output itself, when it is a folder where a file goes, goes only if nothing is left in it: what
 * the walk skipped (a nested `.git`, another project) is never deleted, and the checkout then stops naming it.
 */
export function removeFiles(ws: Workspace, tracked: Tracked, files: string[]): void {
  const base = join(ws.root, tracked.rel);
  for (const file of files) {
    if (file === base && lstatSync(base, { throwIfNoEntry: false })?.isDirectory()) removeEmptyFolders(base);
    else rmSync(file, { force: true });
  }
  pruneEmptyDirs(base, files.map((f) => dirname(f)));
}

/** Removes `dir` and the folders below it that hold no file (deepest first); `.git` and the like are not entered. */
function removeEmptyFolders(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() && !isReservedName(e.name)) removeEmptyFolders(join(dir, e.name));
  }
  pruneEmptyDirs(dir, [dir]);
}

/** Removes each folder, and its parents up to and including `base`, that is empty; nothing above `base`. */
export function pruneEmptyDirs(base: string, dirs: Iterable<string>): void {
  const all = new Set<string>();
  for (const dir of dirs) for (let d = dir; d.length >= base.length && d.startsWith(base); d = dirname(d)) all.add(d);
  // Deepest first; a folder that still has something in it stays.
  for (const dir of [...all].sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    }
  }
}

/** Creates the folders the pending files go into (once each); returns them. */
export function makeParents(plan: CheckoutPlan): string[] {
  const dirs = new Set<string>();
  for (const group of plan.pending.values()) for (const p of group) dirs.add(dirname(p.absolute));
  for (const dir of dirs) mkdirSync(dir, { recursive: true });
  return [...dirs];
}


/**
 * Copies one object from the cache into place (temporary name, then rename, so a reader never sees half a
 * file) and records it in the state database. Synchronous on purpose: direct syscalls cost far less than a
 * promise round trip per file when a dataset has 100,000 of them.
 */
export function place(ws: Workspace, p: Placement): void {
  const temp = `${p.absolute}${tempSuffix()}`;
  let written: Stats;
  try {
    copyFileSync(ws.cachePath(p.md5), temp, constants.COPYFILE_FICLONE);
    chmodSync(temp, 0o644); // cache objects are read-only; the workspace copy is the user's to edit
    written = statSync(temp);
    renameSync(temp, p.absolute); // keeps the inode and mtime recorded below
  } catch (error) {
    rmSync(temp, { force: true });
    throw placementError(p, error);
  }
  ws.state.set(p.key, written.size, written.mtimeMs, written.ino, p.md5);
}

/** A clear error for a file that could not be put in place (a folder in the way is the usual case). */
export function placementError(p: Placement | undefined, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (p && (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'ENOTDIR')) {
    return badInput('targets', p.key, 'is a directory in the workspace but a file in the data (or the reverse): move it away and pull again');
  }
  return error;
}

/**
 * The workspace copies of a large object, written chunk by chunk as it downloads (each at its offset, on
 * libuv's pool, beside the cache file's own writes) under temporary names; `name` gives them their names
 * once the object is verified and in the cache, `discard` removes them after a failure.
 */
export class StreamedCopies {
  private handles: Promise<FileHandle[]> | undefined;
  private readonly group: Placement[];
  private readonly temps: string[];
  private offset = 0;

  constructor(group: Placement[]) {
    this.group = group;
    this.temps = group.map((p) => `${p.absolute}${tempSuffix()}`);
  }

  /** Writes the next chunk into every copy; resolves when it is written. */
  write(chunk: Uint8Array): Promise<unknown> {
    this.handles ??= Promise.all(this.temps.map((t) => open(t, 'wx')));
    const at = this.offset;
    this.offset += chunk.length;
    return this.handles.then((hs) => Promise.all(hs.map((h) => h.write(chunk, 0, chunk.length, at))));
  }

  /** Closes the copies and renames each into place, reporting what the state database needs. */
  async name(wrote: (p: Placement, w: Written) => void): Promise<void> {
    const handles = await this.handles;
    if (!handles) return;
    this.handles = undefined;
    const stats = await Promise.all(handles.map(async (h) => {
      const s = await h.stat();
      await h.close();
      return s;
    }));
    this.group.forEach((p, i) => {
      try {
        renameSync(this.temps[i] as string, p.absolute);
      } catch (error) {
        throw placementError(p, error);
      }
      const s = stats[i] as Stats;
      wrote(p, { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
    });
  }

  async discard(): Promise<void> {
    const handles = await this.handles?.catch(() => []);
    this.handles = undefined;
    await Promise.all((handles ?? []).map((h) => h.close().catch(() => {})));
    for (const t of this.temps) rmSync(t, { force: true });
  }
}

function showKey(ws: Workspace, absolute: string): string {
  return relative(ws.root, absolute).split(sep).join('/');
}

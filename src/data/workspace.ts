import { existsSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { access, lstat, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { badInput } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Written } from './file-writer.ts';
import { dirManifest, md5Hex, type DirEntry } from './hash.ts';
import { HashPool } from './hash-pool.ts';
import { findCollisions, isLeftover, isStaleLeftover, removeLeftover, shown, tempSuffix } from './paths.ts';
import { noProgress, type Progress } from './progress.ts';
import { StateCache } from './state.ts';
import { walkFiles, type WalkOptions } from './walk.ts';

/** The nearest folder at or above `cwd` that has a `.dvc` folder; else the nearest with `.git`; else `cwd`. */
export function findRoot(cwd: string): string {
  for (const marker of ['.dvc', '.git']) {
    let dir = cwd;
    for (;;) {
      if (existsSync(join(dir, marker))) return dir;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return cwd;
}

/** What hashing a tracked path found. */
export interface Hashed {
  md5: string;
  size: number;
  /** Directories only: the manifest entries and bytes. */
  nfiles?: number;
  entries?: DirEntry[];
  manifest?: Buffer;
}

export interface WorkspaceOptions {
  logger: Logger;
  progress?: Progress;
  threads?: number;
}

/** A DVC project folder: its cache, its state database and a hashing pool. */
export class Workspace {
  readonly cacheDir: string;
  readonly logger: Logger;
  readonly progress: Progress;
  readonly root: string;
  readonly state: StateCache;
  private objectState: StateCache | undefined;
  private pool: HashPool;

  private constructor(root: string, state: StateCache, options: WorkspaceOptions) {
    this.root = root;
    this.state = state;
    this.cacheDir = join(root, '.dvc', 'cache', 'files', 'md5');
    this.logger = options.logger;
    this.progress = options.progress ?? noProgress;
    this.pool = new HashPool(options.threads);
  }

  static async open(root: string, options: WorkspaceOptions): Promise<Workspace> {
    assertOwnFoldersAreNotLinks(root);
    const state = await StateCache.open(join(root, '.dvc', 'tmp', 'mlops-state.json'));
    return new Workspace(root, state, options);
  }

  /** Creates `.dvc/` as `dvc init --no-scm` would, when it is missing. */
  async ensureDvcDir(): Promise<void> {
    const dir = join(this.root, '.dvc');
    if (existsSync(join(dir, 'config'))) return;
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'config'), '', { flag: 'a' });
    await writeFile(join(dir, '.gitignore'), '/config.local\n/tmp\n/cache\n', { flag: 'a' });
  }

  cachePath(md5: string): string {
    return join(this.cacheDir, md5.slice(0, 2), md5.slice(2));
  }

  /**
   * The names of every object in the cache, from one directory read per `xx/` folder (256 at most)
   * instead of one stat per object: a snapshot for deciding what to hash, push or fetch. The same reads
   * find what a killed add or pull left behind; those of processes that are gone are deleted.
   */
  cachedObjects(): Set<string> {
    const names = new Set<string>();
    let top: string[];
    try {
      top = readdirSync(this.cacheDir);
    } catch {
      return names;
    }
    for (const entry of top) {
      if (/^[0-9a-f]{2}$/.test(entry)) {
        for (const name of readdirSync(join(this.cacheDir, entry))) {
          if (/^[0-9a-f]{30}(\.dir)?$/.test(name)) names.add(entry + name);
          else if (isStaleLeftover(name)) removeLeftover(join(this.cacheDir, entry, name));
        }
      } else if (isStaleLeftover(entry)) removeLeftover(join(this.cacheDir, entry));
    }
    return names;
  }

  async inCache(md5: string): Promise<boolean> {
    return access(this.cachePath(md5)).then(
      () => true,
      () => false,
    );
  }

  /** Writes bytes into the cache under their name, atomically; a no-op when present. */
  async writeCacheObject(md5: string, bytes: Uint8Array): Promise<void> {
    const target = this.cachePath(md5);
    if (await this.inCache(md5)) return;
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}${tempSuffix()}`;
    await writeFile(temp, bytes, { mode: 0o444 });
    await rename(temp, target);
  }

  /**
   * The cache objects this tool wrote or verified, by MD5 (size, mtime, inode), in a database of their own:
   * opened only by the commands that copy or send objects, so `status` does not pay for reading it.
   */
  private get objects(): StateCache {
    this.objectState ??= StateCache.openSync(join(this.root, '.dvc', 'tmp', 'mlops-objects.json'));
    return this.objectState;
  }

  /** Records a cache object this run wrote from bytes it verified, so that later runs trust it without reading it. */
  vouch(md5: string, w: Written): void {
    this.objects.set(md5, w.size, w.mtimeMs, w.ino, md5);
  }

  /**
   * Checks that each cache object's bytes are its name before they are copied or pushed. Free for objects
   * the objects' state database vouches for (written or verified by this tool, unchanged since: same size,
   * mtime and inode); the others are hashed once, on every core, and vouched for from then on. A mismatch (an object
   * edited in place, or one that arrived with a clone) fails with the object's name and nothing is used.
   * Returns each object's size, or -1 for an object that is not in the cache.
   */
  async verifyObjects(md5s: string[]): Promise<number[]> {
    const sizes = new Array<number>(md5s.length).fill(-1);
    const todo: { i: number; md5: string; s: { size: number; mtimeMs: number; ino: number } }[] = [];
    md5s.forEach((md5, i) => {
      const s = statSync(this.cachePath(md5), { throwIfNoEntry: false });
      if (!s?.isFile()) return;
      sizes[i] = s.size;
      if (this.objects.get(md5, s.size, s.mtimeMs, s.ino) !== md5) todo.push({ i, md5, s });
    });
    if (todo.length === 0) return sizes;
    const actual = await this.pool.hash(todo.map((t) => ({ file: this.cachePath(t.md5), size: t.s.size })));
    todo.forEach((t, j) => {
      if (actual[j] !== t.md5.replace(/\.dir$/, '')) {
        throw new Error(
          `cache object .dvc/cache/files/md5/${t.md5.slice(0, 2)}/${t.md5.slice(2)}: content has MD5 ${actual[j]}, expected ${t.md5}: it was changed after it was written; delete it and pull or add its data again`,
        );
      }
      this.vouch(t.md5, t.s);
    });
    return sizes;
  }

  async readManifestFromCache(md5: string): Promise<Buffer | undefined> {
    const bytes = await readFile(this.cachePath(md5)).catch(() => undefined);
    // The cache is ours, but a truncated or edited `.dir` must not silently drop files from a push.
    return bytes && `${md5Hex(bytes)}.dir` === md5 ? bytes : undefined;
  }

  /**
   * Hashes a file or directory (workspace-relative `rel`) using the state database for unchanged files.
   * With `toCache`, new bytes are copied into the cache in the same read. Temporary files a killed run left
   * are not data: those of processes that are gone are deleted, a live one (a pull at work) stops an add.
   * With `links: 'refuse'` (checkout), the path must not be a symlink and the folder must hold none.
   */
  async hashPath(rel: string, options: { toCache: boolean; allowEmpty: boolean; label: string; links?: WalkOptions['links'] }): Promise<Hashed | undefined> {
    const absolute = join(this.root, rel);
    const links = options.links ?? 'follow';
    removeStaleSiblings(absolute);
    const s = await (links === 'refuse' ? lstat(absolute) : stat(absolute)).catch(() => undefined);
    if (!s) return undefined;
    if (s.isFile()) {
      const [md5] = await this.hashFiles([{ key: rel, absolute, size: s.size, mtimeMs: s.mtimeMs, ino: s.ino }], options);
      return { md5: md5 as string, size: s.size };
    }
    if (s.isSymbolicLink()) throw badInput('targets', rel, 'is a symlink: a pull never replaces data through a link; remove it and pull again');
    if (!s.isDirectory()) throw badInput('targets', rel, 'is neither a file nor a directory: name a regular file or folder');
    const files = (await walkFiles(this.root, absolute, rel, { links })).filter((f) => {
      if (!isLeftover(f.relpath)) return true;
      if (isStaleLeftover(f.relpath)) removeLeftover(f.absolute);
      else if (options.toCache) {
        throw badInput('targets', `${rel}/${f.relpath}`, 'is a file a pull running now is writing, not data: wait for it to finish and add again');
      }
      return false;
    });
    if (files.length === 0 && !options.allowEmpty) {
      throw badInput('targets', rel, 'is an empty directory: add files to it, or pass --allow-empty (allow-empty: true) to track it empty');
    }
    for (const group of findCollisions(files.map((f) => f.relpath))) {
      this.logger.warning(`${shown(rel)}: ${group.map((g) => JSON.stringify(g)).join(' and ')} differ only by case or Unicode normalisation; they collide on macOS and Windows`);
    }
    const md5s = await this.hashFiles(
      files.map((f) => ({ key: `${rel}/${f.relpath}`, absolute: f.absolute, size: f.size, mtimeMs: f.mtimeMs, ino: f.ino })),
      options,
    );
    const entries = files.map((f, i) => ({ md5: md5s[i] as string, relpath: f.relpath }));
    const manifest = dirManifest(entries);
    return {
      md5: manifest.md5,
      size: files.reduce((sum, f) => sum + f.size, 0),
      nfiles: files.length,
      entries,
      manifest: manifest.bytes,
    };
  }

  private async hashFiles(
    files: { key: string; absolute: string; size: number; mtimeMs: number; ino: number }[],
    options: { toCache: boolean; label: string },
  ): Promise<string[]> {
    const md5s = files.map((f) => this.state.get(f.key, f.size, f.mtimeMs, f.ino));
    const cached = options.toCache ? this.cachedObjects() : undefined;
    const todo: number[] = [];
    md5s.forEach((md5, i) => {
      if (md5 === undefined || (cached && !cached.has(md5))) todo.push(i);
    });
    if (todo.length === 0) return md5s as string[];
    this.progress.start(options.label, todo.length, todo.reduce((sum, i) => sum + (files[i]?.size ?? 0), 0));
    const jobs = todo.map((i) => {
      const f = files[i] as (typeof files)[number];
      return { file: f.absolute, size: f.size, ...(options.toCache ? { cacheDir: this.cacheDir } : {}) };
    });
    try {
      const hashed = await this.pool.hash(jobs, (job, md5, created) => {
        if (created) this.vouch(md5, created);
        this.progress.advance(1, job.size);
      });
      todo.forEach((fileIndex, j) => {
        const f = files[fileIndex] as (typeof files)[number];
        md5s[fileIndex] = hashed[j] as string;
        this.state.set(f.key, f.size, f.mtimeMs, f.ino, hashed[j] as string);
      });
    } finally {
      this.progress.finish();
    }
    return md5s as string[];
  }

  async close(): Promise<void> {
    await this.pool.close();
    // Only caches: a read-only workspace still gets its answer, and the next run hashes again.
    const saved = (await this.state.save()) && (await (this.objectState?.save() ?? true));
    if (!saved) this.logger.debug(`could not save the state database in ${this.root}/.dvc/tmp (read-only?)`);
  }
}

/**
 * The folders this tool writes into under `.dvc/`: a symlink there (committed to the repository) would send
 * the cache, the state database or `dvc init`'s files wherever it points, `.git` included.
 */
function assertOwnFoldersAreNotLinks(root: string): void {
  const paths = ['.dvc', '.dvc/config', '.dvc/.gitignore', '.dvc/tmp', '.dvc/cache', '.dvc/cache/files', '.dvc/cache/files/md5'];
  const md5Dir = join(root, '.dvc/cache/files/md5');
  if (lstatSync(md5Dir, { throwIfNoEntry: false })?.isDirectory()) {
    for (const e of readdirSync(md5Dir, { withFileTypes: true })) if (e.isSymbolicLink()) paths.push(`.dvc/cache/files/md5/${e.name}`);
  }
  for (const rel of paths) {
    if (lstatSync(join(root, rel), { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw badInput('workspace', rel, 'is a symlink: the cache and DVC\'s files are never written through a link (it may point into .git); remove it');
    }
  }
}

/** A killed pull's temporary copies of a tracked file sit beside it (`<name>.mlops-<pid>-<n>.tmp`). */
function removeStaleSiblings(absolute: string): void {
  const prefix = `${basename(absolute)}.mlops-`;
  let names: string[];
  try {
    names = readdirSync(dirname(absolute));
  } catch {
    return;
  }
  for (const name of names) if (name.startsWith(prefix) && isStaleLeftover(name)) removeLeftover(join(dirname(absolute), name));
}

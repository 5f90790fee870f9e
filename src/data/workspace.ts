import { existsSync, readdirSync } from 'node:fs';
import { access, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { badInput } from '../errors.ts';
import type { Logger } from '../log.ts';
import { dirManifest, md5Hex, type DirEntry } from './hash.ts';
import { HashPool } from './hash-pool.ts';
import { findCollisions, isLeftover } from './paths.ts';
import { noProgress, type Progress } from './progress.ts';
import { StateCache } from './state.ts';
import { walkFiles } from './walk.ts';

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
   * instead of one stat per object: a snapshot for deciding what to hash, push or fetch.
   */
  cachedObjects(): Set<string> {
    const names = new Set<string>();
    let prefixes: string[];
    try {
      prefixes = readdirSync(this.cacheDir).filter((p) => /^[0-9a-f]{2}$/.test(p));
    } catch {
      return names;
    }
    for (const prefix of prefixes) {
      for (const name of readdirSync(join(this.cacheDir, prefix))) {
        if (/^[0-9a-f]{30}(\.dir)?$/.test(name)) names.add(prefix + name);
      }
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
    const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temp, bytes, { mode: 0o444 });
    await rename(temp, target);
  }

  async readManifestFromCache(md5: string): Promise<Buffer | undefined> {
    const bytes = await readFile(this.cachePath(md5)).catch(() => undefined);
    // The cache is ours, but a truncated or edited `.dir` must not silently drop files from a push.
    return bytes && `${md5Hex(bytes)}.dir` === md5 ? bytes : undefined;
  }

  /**
   * Hashes a file or directory (workspace-relative `rel`) using the state database for unchanged files.
   * With `toCache`, new bytes are copied into the cache in the same read.
   */
  async hashPath(rel: string, options: { toCache: boolean; allowEmpty: boolean; label: string }): Promise<Hashed | undefined> {
    const absolute = join(this.root, rel);
    const s = await stat(absolute).catch(() => undefined);
    if (!s) return undefined;
    if (s.isFile()) {
      const [md5] = await this.hashFiles([{ key: rel, absolute, size: s.size, mtimeMs: s.mtimeMs, ino: s.ino }], options);
      return { md5: md5 as string, size: s.size };
    }
    if (!s.isDirectory()) throw badInput('targets', rel, 'is neither a file nor a directory: name a regular file or folder');
    const files = await walkFiles(this.root, absolute, rel);
    if (files.length === 0 && !options.allowEmpty) {
      throw badInput('targets', rel, 'is an empty directory: add files to it, or pass --allow-empty (allow-empty: true) to track it empty');
    }
    const leftover = options.toCache ? files.find((f) => isLeftover(f.relpath)) : undefined;
    if (leftover) {
      throw badInput('targets', `${rel}/${leftover.relpath}`, 'is a file an interrupted pull was writing, not data: run `mlops data pull` again (it removes it), or delete it');
    }
    for (const group of findCollisions(files.map((f) => f.relpath))) {
      this.logger.warning(`${rel}: ${group.map((g) => JSON.stringify(g)).join(' and ')} differ only by case or Unicode normalisation; they collide on macOS and Windows`);
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
      const hashed = await this.pool.hash(jobs, (job) => this.progress.advance(1, job.size));
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
    await this.state.save();
  }
}

import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { tempSuffix } from './paths.ts';

type Row = [size: number, mtimeMs: number, ino: number, md5: string];

/**
 * What DVC calls the state database: (path, size, mtime, inode) → md5, so re-hashing unchanged files is skipped.
 * Kept as one JSON file under `.dvc/tmp/` (git-ignored), written atomically.
 */
export class StateCache {
  private rows = new Map<string, Row>();
  private dirty = false;

  private readonly file: string;

  private constructor(file: string) {
    this.file = file;
  }

  static async open(file: string): Promise<StateCache> {
    const state = new StateCache(file);
    state.load(await readFile(file, 'utf8').catch(() => undefined));
    return state;
  }

  /** The same, read synchronously: for a database opened only when a command turns out to need it. */
  static openSync(file: string): StateCache {
    const state = new StateCache(file);
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // missing: start empty
    }
    state.load(text);
    return state;
  }

  private load(text: string | undefined): void {
    if (text === undefined) return;
    try {
      const parsed = JSON.parse(text) as { version?: number; rows?: Record<string, Row> };
      if (parsed.version === 1 && parsed.rows) this.rows = new Map(Object.entries(parsed.rows));
    } catch {
      // unreadable: start empty, it is only a cache
    }
  }

  get(path: string, size: number, mtimeMs: number, ino: number): string | undefined {
    const row = this.rows.get(path);
    return row && row[0] === size && row[1] === mtimeMs && row[2] === ino ? row[3] : undefined;
  }

  set(path: string, size: number, mtimeMs: number, ino: number, md5: string): void {
    this.rows.set(path, [size, mtimeMs, ino, md5]);
    this.dirty = true;
  }

  /** Writes the rows if any changed; false when the folder cannot be written (a read-only workspace). */
  async save(): Promise<boolean> {
    if (!this.dirty) return true;
    const temp = `${this.file}${tempSuffix()}`;
    try {
      await mkdir(dirname(this.file), { recursive: true });
      await writeFile(temp, JSON.stringify({ version: 1, rows: Object.fromEntries(this.rows) }));
      await rename(temp, this.file);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {});
      // Node's recursive mkdir reports ENOENT on a read-only file system.
      if (['EROFS', 'EACCES', 'EPERM', 'ENOENT'].includes((error as NodeJS.ErrnoException).code ?? '')) return false;
      throw error;
    }
    this.dirty = false;
    return true;
  }
}

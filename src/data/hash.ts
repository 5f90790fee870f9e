import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { compareCodePoints, pythonString } from './python-json.ts';

/** One file of a DVC directory manifest. `relpath` is POSIX, relative to the directory. */
export interface DirEntry {
  md5: string;
  relpath: string;
}

export function md5Hex(data: Uint8Array | string): string {
  return createHash('md5').update(data).digest('hex');
}

/** Streams a file through MD5 (constant memory for any size). */
export async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Entries sorted as DVC sorts them: by relpath in code-point order. */
export function sortEntries(entries: DirEntry[]): DirEntry[] {
  return [...entries].sort((a, b) => compareCodePoints(a.relpath, b.relpath));
}

/** The `.dir` object DVC 3 stores for a directory: its bytes, and their MD5 + `.dir`. */
export function dirManifest(entries: DirEntry[]): { md5: string; bytes: Buffer } {
  // json.dumps(entries, sort_keys=True) for this one shape, written directly: 10x faster than the general walk.
  const parts = sortEntries(entries).map((e) => `{"md5": ${pythonString(e.md5)}, "relpath": ${pythonString(e.relpath)}}`);
  const bytes = Buffer.from(`[${parts.join(', ')}]`, 'utf8');
  return { md5: `${md5Hex(bytes)}.dir`, bytes };
}

export function isMd5(value: string): boolean {
  return /^[0-9a-f]{32}$/.test(value);
}

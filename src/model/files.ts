import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import { UsageError } from '../errors.ts';

export interface ModelFile {
  /** POSIX path relative to the model directory (the object key below the version). */
  path: string;
  /** Where the bytes are on disk. */
  source: string;
  sha256: string;
  size: number;
}

/** Names publish writes itself; a model directory holding them would be ambiguous. */
export const RESERVED = ['model.json', 'profile.json'] as const;

/**
 * Every regular file below `dir`, hashed, sorted by path in code-point order.
 * Symlinks and other special files are refused: a version must be exactly the bytes it names.
 */
export async function listModelFiles(dir: string, input = 'model-dir'): Promise<ModelFile[]> {
  let info;
  try {
    info = await lstat(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${input}: ${JSON.stringify(dir)} does not exist: give the directory the train step wrote`);
    throw error;
  }
  if (!info.isDirectory()) throw new UsageError(`${input}: ${JSON.stringify(dir)} is not a directory: give the directory that holds the model files`);
  const found: { path: string; source: string }[] = [];
  const pending = [''];
  while (pending.length > 0) {
    const relative = pending.pop() as string;
    for (const entry of await readdir(join(dir, relative), { withFileTypes: true })) {
      const path = relative ? posix.join(relative, entry.name) : entry.name;
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile()) found.push({ path, source: join(dir, path) });
      else throw new UsageError(`${input}: ${JSON.stringify(path)} is a symlink or special file: copy the real file into the model directory`);
    }
  }
  if (found.length === 0) throw new UsageError(`${input}: ${JSON.stringify(dir)} holds no files: did training write the model somewhere else?`);
  for (const file of found) {
    if ((RESERVED as readonly string[]).includes(file.path)) {
      throw new UsageError(`${input}: holds ${file.path}, a name publish writes itself: remove it (pass a profile with the profile input)`);
    }
  }
  found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const limit = pLimit(4);
  return Promise.all(found.map((f) => limit(async () => ({ ...f, ...(await hashFile(f.source)) }))));
}

export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(createReadStream(path), async function* (chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) {
      size += chunk.length;
      hash.update(chunk);
    }
    yield* [];
  });
  return { sha256: hash.digest('hex'), size };
}

/**
 * The canonical file manifest a version is named after: one line per file, sorted by path in
 * code-point order, `path TAB sha256 TAB size LF` (UTF-8). model.json is not part of it.
 */
export function fileManifest(files: readonly Pick<ModelFile, 'path' | 'sha256' | 'size'>[]): string {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return sorted.map((f) => `${f.path}\t${f.sha256}\t${f.size}\n`).join('');
}

/** `sha256-` + the first 16 hex digits of the SHA-256 of the file manifest. */
export function versionOf(files: readonly Pick<ModelFile, 'path' | 'sha256' | 'size'>[]): string {
  return `sha256-${createHash('sha256').update(fileManifest(files), 'utf8').digest('hex').slice(0, 16)}`;
}

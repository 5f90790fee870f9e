import { randomBytes } from 'node:crypto';
import { chmod, lstat, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, isAbsolute } from 'node:path';
import { UsageError } from '../errors.ts';
import { refuseSymlinks } from '../fs/no-symlinks.ts';
import type { Logger } from '../log.ts';
import { bumpText, type BumpRequest, type BumpResult } from './bump.ts';

/** The largest manifest bump reads (DESIGN §4.5): far above any Kubernetes object, far below what slows the parser. */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The file's text, exactly: bytes that are not UTF-8 are refused (decoding would replace them with U+FFFD and write that back). */
function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    const at = firstInvalidByte(bytes);
    const where = at < bytes.length ? `byte ${at} is 0x${bytes[at]!.toString(16).padStart(2, '0')}` : 'it ends in the middle of a character';
    throw new UsageError(`manifest: ${JSON.stringify(file)} is not valid UTF-8 (${where}): YAML manifests are UTF-8, so save it as UTF-8; nothing was changed`);
  }
}

function firstInvalidByte(bytes: Uint8Array): number {
  // Binary search for the shortest prefix that fails to decode; its last byte is where decoding broke.
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid + 1), { stream: true });
      lo = mid + 1;
    } catch {
      hi = mid;
    }
  }
  return lo;
}

export interface BumpFileOptions {
  /** Directory that paths in messages and the diff are relative to. */
  cwd: string;
  logger: Logger;
  /** Compute the result without writing the file. */
  dryRun?: boolean;
}

/**
 * Bumps one manifest file in place: the new text replaces the file atomically (temp file + rename,
 * same mode), and only when something changed. On any refusal the file is untouched.
 */
export async function bumpFile(file: string, request: BumpRequest, options: BumpFileOptions): Promise<BumpResult> {
  const path = isAbsolute(file) ? file : join(options.cwd, file);
  const fromCwd = relative(options.cwd, path).split('\\').join('/');
  const shown = fromCwd === '' || fromCwd.startsWith('../') ? path : fromCwd;
  let text: string;
  let mode: number;
  // A symlinked manifest (or folder) would make bump read a file elsewhere and write its text here, or write elsewhere.
  await refuseSymlinks(options.cwd, path, 'manifest', file);
  try {
    const info = await lstat(path);
    if (!info.isFile()) throw new UsageError(`manifest: ${JSON.stringify(file)} is not a file: give the path of a YAML manifest`);
    if (info.size > MAX_MANIFEST_BYTES) {
      throw new UsageError(`manifest: ${JSON.stringify(file)} is ${info.size} bytes, over bump's limit of ${MAX_MANIFEST_BYTES} (8 MiB); no Kubernetes object is that large (etcd stores at most 1.5 MiB): bump the manifest that defines the model`);
    }
    mode = info.mode & 0o7777;
    text = decodeUtf8(await readFile(path), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UsageError(`manifest: ${JSON.stringify(file)} does not exist: give the path of the InferenceService or kustomization file`);
    }
    throw error;
  }
  const result = bumpText(text, shown, request);
  if (!result.changed) {
    options.logger.info(`${shown}: ${result.target} is already up to date`);
    return result;
  }
  if (!options.dryRun) {
    const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(temp, result.text, { flag: 'wx', mode });
      await chmod(temp, mode);
      await rename(temp, path);
    } finally {
      await rm(temp, { force: true });
    }
  }
  for (const change of result.changes) {
    options.logger.info(`${shown}: ${change.path}: ${change.from === undefined ? '(added)' : JSON.stringify(change.from)} -> ${JSON.stringify(change.to)}`);
  }
  return result;
}

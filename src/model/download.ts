/**
 * A published model version (DESIGN §4.4) brought to a local folder with every byte checked:
 * `storage URI → { dir, card }`. `mlops serve` loads what this returns, and the gate re-scores the production
 * model with it, so both only ever run bytes that match the version's `model.json`.
 *
 * The storage URI is what `publish` printed: `s3://bucket/…/models/<name>/<version>/`, `file:///…/` or a
 * directory holding `model.json`. `model.json` is hostile input: its file paths must be safe relative paths,
 * its file list must hash to its version name (and to the `sha256-…` folder it sits in), and every file must
 * have the size and SHA-256 it lists. Any mismatch is an {@link IntegrityError} naming the file (exit 3), and
 * nothing is left behind: the copy is made in a fresh folder that is removed on failure.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pLimit from 'p-limit';
import { findCollisions } from '../data/paths.ts';
import { badInput } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Remote } from '../storage/remote.ts';
import { parseModelCard, type CardFile, type ModelCard } from './card.ts';
import { versionOf } from './files.ts';

export interface DownloadDeps {
  /** Opens the remote a storage URI lives on: `openRemote` from src/storage with the caller's endpoint and credentials. */
  openRemote(url: string): Remote;
  logger: Logger;
  /** Base of a relative directory URI (default: the process's working directory). */
  cwd?: string;
}

export interface DownloadOptions {
  /** Folder in which the local copy's own folder is made (default: the system temporary folder). */
  parent?: string;
  /** Files downloaded at once (default 4). */
  concurrency?: number;
}

export interface DownloadedVersion {
  /** The storage URI as given, normalised to end with `/` (an absolute `file://` URL for a directory). */
  storageUri: string;
  /** Local folder holding `model.json` and every file it lists, each checked. */
  dir: string;
  card: ModelCard;
  /** Absolute path of each of the card's files in `dir`, by its path in the card. */
  files: Record<string, string>;
  /** Deletes `dir`. */
  remove(): Promise<void>;
}

/** A file of a version whose bytes are not what `model.json` says (or that is missing): exit 3, never served. */
export class IntegrityError extends Error {
  override name = 'IntegrityError';
  /** The storage URI of the file (or of model.json) at fault. */
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.file = file;
  }
}

const VERSION_SEGMENT = /^sha256-[0-9a-f]{16}$/;

/** Where a storage URI's objects are: the remote URL to open and the URI shown in messages (ending in `/`). */
export function locateVersion(storageUri: string, cwd = process.cwd()): { remoteUrl: string; storageUri: string } {
  const uri = storageUri.trim();
  if (uri === '' || uri.includes('\0')) throw badInput('storage-uri', storageUri, 'is empty: give the storage-uri publish printed (s3://…/models/<name>/<version>/ or a directory)');
  if (uri.startsWith('s3://')) {
    const remoteUrl = uri.replace(/\/+$/, '');
    if (!/^s3:\/\/[^/]+\/.+/.test(remoteUrl)) throw badInput('storage-uri', storageUri, 'names a whole bucket: give the version folder publish printed (s3://bucket/…/models/<name>/<version>/)');
    return { remoteUrl, storageUri: `${remoteUrl}/` };
  }
  let path: string;
  if (uri.startsWith('file://')) {
    try {
      path = fileURLToPath(uri);
    } catch (error) {
      throw badInput('storage-uri', storageUri, `is not a valid file:// URL (${(error as Error).message}): give file:///absolute/path/`);
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
    throw badInput('storage-uri', storageUri, 'uses a scheme this tool cannot read: give s3://…/, file:///…/ or a directory holding model.json');
  } else {
    path = isAbsolute(uri) ? uri : resolve(cwd, uri);
  }
  const dir = resolve(path);
  return { remoteUrl: dir, storageUri: pathToFileURL(dir).href.replace(/\/*$/, '/') };
}

/** Refuses paths from model.json that could leave the download folder or collide in it. */
function checkFiles(files: CardFile[], where: string): void {
  for (const file of files) {
    const segments = file.path.split('/');
    const unsafe = file.path.includes('\0') || file.path.includes('\\') || file.path.startsWith('/') || /^[A-Za-z]:/.test(file.path)
      || segments.some((s) => s === '' || s === '.' || s === '..');
    if (unsafe) throw new IntegrityError(where, `lists the file ${JSON.stringify(file.path)}, which is not a safe relative path: the remote was tampered with; refusing to download anything`);
    if (file.path === 'model.json') throw new IntegrityError(where, 'lists model.json among its own files: the remote was tampered with');
  }
  const collisions = findCollisions(files.map((f) => f.path));
  if (collisions.length > 0) throw new IntegrityError(where, `lists files whose names collide (${collisions[0]!.join(', ')}): the remote was tampered with`);
  const prefixes = new Set(files.flatMap((f) => f.path.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
  const clash = files.find((f) => prefixes.has(f.path));
  if (clash) throw new IntegrityError(where, `lists ${clash.path} both as a file and as a folder: the remote was tampered with`);
}

/**
 * Downloads the version at `storageUri` into a new folder, checking model.json and every file's size and SHA-256.
 * Bad input (an unknown scheme, a directory that does not exist): UsageError, exit 2. A missing or invalid
 * model.json, a missing file or a mismatch: {@link IntegrityError} (exit 3). I/O errors pass through (exit 3).
 */
export async function downloadModelVersion(storageUri: string, deps: DownloadDeps, options: DownloadOptions = {}): Promise<DownloadedVersion> {
  const located = locateVersion(storageUri, deps.cwd);
  const uri = located.storageUri;
  if (!located.remoteUrl.startsWith('s3://')) {
    const info = await stat(located.remoteUrl).catch(() => undefined);
    if (!info) throw badInput('storage-uri', storageUri, 'does not exist: give the storage-uri publish printed, or a directory holding model.json');
    if (!info.isDirectory()) throw badInput('storage-uri', storageUri, 'is not a directory: give the version folder that holds model.json');
  }
  const remote = deps.openRemote(located.remoteUrl);
  const dir = mkdtempSync(join(options.parent ?? tmpdir(), 'mlops-model-'));
  const remove = () => rm(dir, { recursive: true, force: true, maxRetries: 3 });
  try {
    const cardUri = `${uri}model.json`;
    const bytes = await remote.read('model.json');
    if (!bytes) throw new IntegrityError(cardUri, 'does not exist: this is not a published model version (publish writes model.json last, so the version may also be incomplete)');
    let card: ModelCard;
    try {
      card = parseModelCard(bytes, cardUri);
    } catch (error) {
      throw new IntegrityError(cardUri, (error as Error).message.replace(`${cardUri}: `, ''));
    }
    const folder = uri.replace(/\/$/, '').split('/').pop() ?? '';
    if (VERSION_SEGMENT.test(folder) && folder !== card.version) {
      throw new IntegrityError(cardUri, `says version ${card.version}, but it sits under ${folder}: the remote was tampered with`);
    }
    const named = versionOf(card.files);
    if (named !== card.version) throw new IntegrityError(cardUri, `lists files that make version ${named}, not the ${card.version} it claims: the remote was tampered with`);
    checkFiles(card.files, cardUri);

    const files: Record<string, string> = {};
    const limit = pLimit(options.concurrency ?? 4);
    // Every download settles before the folder can be removed on a failure.
    const settled = await Promise.allSettled(
      card.files.map((file) =>
        limit(async () => {
          const target = join(dir, ...file.path.split('/'));
          await mkdir(dirname(target), { recursive: true });
          const hash = createHash('sha256');
          let size = 0;
          const got = await remote.download(file.path, target, {
            onData: (chunk) => {
              hash.update(chunk);
              size += chunk.length;
            },
          });
          const where = `${uri}${file.path}`;
          if (!got) throw new IntegrityError(where, `is missing, but model.json lists it: the version is incomplete or was tampered with; nothing is served`);
          if ('bytes' in got) {
            // A remote may answer small objects in memory; hash and write them here.
            hash.update(got.bytes);
            size += got.bytes.length;
            await writeFile(target, got.bytes, { flag: 'wx' });
          }
          const sha256 = hash.digest('hex');
          if (size !== file.size) throw new IntegrityError(where, `has ${size} bytes, model.json says ${file.size}: the stored file is corrupt or was changed after publishing; refusing to use it`);
          if (sha256 !== file.sha256) throw new IntegrityError(where, `has sha256 ${sha256}, model.json says ${file.sha256}: the stored file is corrupt or was changed after publishing; refusing to use it`);
          files[file.path] = target;
        }),
      ),
    );
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await writeFile(join(dir, 'model.json'), bytes, { flag: 'wx' });
    deps.logger.info(`downloaded ${card.name} ${card.version} (${card.files.length} files, sha256 checked) from ${uri}`);
    return { storageUri: uri, dir, card, files, remove };
  } catch (error) {
    await remove();
    throw error;
  } finally {
    await remote.close();
  }
}

/** The ONNX file a version serves: its only `.onnx` file, or `model.onnx` when it has several; undefined if none. */
export function onnxFile(version: Pick<DownloadedVersion, 'card' | 'files'>): string | undefined {
  const onnx = version.card.files.filter((f) => f.path.endsWith('.onnx'));
  const chosen = onnx.length === 1 ? onnx[0] : onnx.find((f) => f.path === 'model.onnx');
  return chosen && version.files[chosen.path];
}

import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pLimit from 'p-limit';
import type { Logger } from '../log.ts';
import type { Remote } from '../storage/remote.ts';
import { parseModelCard, type ModelCard } from './card.ts';
import { versionOf } from './files.ts';

/**
 * A published version (DESIGN §4.4) copied to a local folder, every byte checked against its model.json:
 * what the gate scores when it re-scores production, so it never runs bytes the card does not vouch for.
 */

export interface DownloadDeps {
  /** Opens a remote URL (`s3://bucket/prefix`, a directory): src/storage/open-remote with the caller's endpoint. */
  openRemote(url: string): Remote;
  logger: Logger;
}

export interface DownloadOptions {
  /** Folder in which the copy's own folder is made (default: the system temporary folder). */
  parent?: string;
  /** Files fetched at once (default 4). */
  concurrency?: number;
}

export interface DownloadedVersion {
  /** Where the version was read, ending in `/`. */
  storageUri: string;
  /** The local copy: model.json and every file it lists. */
  dir: string;
  card: ModelCard;
  /** The local path of each file, by its path in the card. */
  files: Record<string, string>;
  /** Deletes the copy. */
  remove(): Promise<void>;
}

/** A stored file (or model.json) that is not what the version says: exit 3, naming the file; nothing is kept. */
export class IntegrityError extends Error {
  override name = 'IntegrityError';
  /** The URI of the object at fault. */
  readonly file: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.file = file;
  }
}

/**
 * Downloads the version at `storageUri` (a version folder: `s3://…/models/<name>/<version>/`, `file:///…/` or a
 * directory path) into a new folder. model.json must parse, name the version it sits under and hash to it; each
 * file must have its size and SHA-256 (hashed while it streams). On any failure the folder is removed.
 */
export async function downloadModelVersion(storageUri: string, deps: DownloadDeps, options: DownloadOptions = {}): Promise<DownloadedVersion> {
  const uri = storageUri.replace(/\/*$/, '/');
  const remote = deps.openRemote(uri.slice(0, -1));
  const dir = await mkdtemp(join(options.parent ?? tmpdir(), 'mlops-model-'));
  const remove = () => rm(dir, { recursive: true, force: true, maxRetries: 3 });
  try {
    const cardUri = `${uri}model.json`;
    const bytes = await remote.read('model.json');
    if (!bytes) throw new IntegrityError(cardUri, 'does not exist: not a published version (publish writes model.json last)');
    const card = parseCard(bytes, cardUri);
    const folder = /(sha256-[0-9a-f]{16})\/$/.exec(uri)?.[1];
    if (folder && folder !== card.version) throw new IntegrityError(cardUri, `says version ${card.version} but sits under ${folder}: the store was tampered with`);
    const named = versionOf(card.files);
    if (named !== card.version) throw new IntegrityError(cardUri, `lists files that make version ${named}, not ${card.version}: the store was tampered with`);
    checkLayout(card, cardUri);

    const files: Record<string, string> = {};
    const limit = pLimit(options.concurrency ?? 4);
    const results = await Promise.allSettled(
      card.files.map((file) =>
        limit(async () => {
          const where = `${uri}${file.path}`;
          const target = join(dir, ...file.path.split('/'));
          await mkdir(dirname(target), { recursive: true });
          const hash = createHash('sha256');
          let size = 0;
          const got = await remote.download(file.path, target, {
            onData(chunk) {
              hash.update(chunk);
              size += chunk.length;
            },
          });
          if (!got) throw new IntegrityError(where, 'is missing, but model.json lists it: the version is incomplete or was tampered with');
          if ('bytes' in got) {
            hash.update(got.bytes);
            size += got.bytes.length;
            await writeFile(target, got.bytes, { flag: 'wx' });
          }
          const sha256 = hash.digest('hex');
          if (size !== file.size || sha256 !== file.sha256) {
            throw new IntegrityError(where, `has ${size} bytes with sha256 ${sha256}, but model.json says ${file.size} bytes with sha256 ${file.sha256}: the stored file is corrupt or was changed after publishing`);
          }
          files[file.path] = target;
        }),
      ),
    );
    // Every transfer has settled before the folder may be removed.
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await writeFile(join(dir, 'model.json'), bytes, { flag: 'wx' });
    deps.logger.info(`downloaded ${card.name} ${card.version} from ${uri} (${card.files.length} file(s), sha256 checked)`);
    return { storageUri: uri, dir, card, files, remove };
  } catch (error) {
    await remove();
    throw error;
  } finally {
    await remote.close();
  }
}

/** The version's ONNX model: its only `.onnx` file, else `model.onnx`; undefined when there is none. */
export function onnxFile(version: Pick<DownloadedVersion, 'card' | 'files'>): string | undefined {
  const onnx = version.card.files.filter((f) => f.path.endsWith('.onnx'));
  const chosen = onnx.length === 1 ? onnx[0] : onnx.find((f) => f.path === 'model.onnx');
  return chosen && version.files[chosen.path];
}

function parseCard(bytes: Uint8Array, cardUri: string): ModelCard {
  try {
    return parseModelCard(bytes, cardUri);
  } catch (error) {
    throw new IntegrityError(cardUri, (error as Error).message.replace(`${cardUri}: `, ''));
  }
}

/** The card's schema keeps each path relative and inside; here the paths must also fit together in one folder. */
function checkLayout(card: ModelCard, cardUri: string): void {
  const paths = new Set<string>();
  for (const { path } of card.files) {
    if (path === 'model.json' || paths.has(path)) throw new IntegrityError(cardUri, `lists ${JSON.stringify(path)} twice or as its own name: the store was tampered with`);
    paths.add(path);
  }
  for (const path of paths) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join('/');
      if (paths.has(folder)) throw new IntegrityError(cardUri, `lists ${JSON.stringify(folder)} both as a file and as a folder: the store was tampered with`);
    }
  }
}

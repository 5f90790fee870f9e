import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { badInput } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { parseS3Url, S3Remote, type S3RemoteOptions } from '../../storage/s3-remote.ts';

/** One object under the run's output prefix, from the listing. */
export interface OutputObject {
  /** Relative to the prefix, posix. */
  key: string;
  size: number;
  /** The listing's ETag without quotes: the MD5 of the bytes for a single-part upload without SSE-KMS. */
  etag?: string;
}

/** Lists and fetches the objects under one prefix (S3 in production; tests may pass their own). */
export interface OutputStore {
  readonly url: string;
  list(): Promise<OutputObject[]>;
  /** Streams one object into `file` (which must not exist), handing every chunk to `onData`. */
  download(key: string, file: string, onData: (chunk: Uint8Array) => void): Promise<void>;
  close(): Promise<void>;
}

/** The S3 prefix `url` (`s3://bucket/runs/<name>`) through the suite's S3 client, listed with ListObjectsV2. */
export function s3OutputStore(url: string, options: S3RemoteOptions = {}): OutputStore {
  const remote = new S3Remote(url, options);
  const { bucket, prefix } = parseS3Url(url);
  const base = prefix ? `${prefix}/` : '';
  return {
    url: remote.url,
    async list() {
      const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
      const client = await remote.client();
      const out: OutputObject[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: base, ContinuationToken: token }));
        for (const item of page.Contents ?? []) {
          if (!item.Key?.startsWith(base)) continue;
          out.push({ key: item.Key.slice(base.length), size: item.Size ?? 0, ...(item.ETag && { etag: item.ETag.replace(/"/g, '') }) });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
        if (out.length > MAX_OBJECTS) break;
      } while (token);
      return out;
    },
    async download(key, file, onData) {
      const got = await remote.download(key, file, { onData });
      if (!got) throw new Error(`${remote.url}/${key} disappeared while downloading`);
    },
    close: () => remote.close(),
  };
}

/** More objects than this under one run's prefix is not a model: refuse rather than download it all. */
export const MAX_OBJECTS = 10_000;

export interface CollectedOutputs {
  /** Absolute paths of every file placed in the working directory. */
  files: string[];
  /** profile.json, when the run wrote one. */
  profile?: string;
}

/**
 * Downloads what the pod wrote under its output prefix into the working directory, as a local leg would have
 * left it: `<model-dir>/…`, the metrics file, and `profile.json` when present. Every key must be a plain
 * relative path; each object is checked against the listing (size, and MD5 where the ETag is one). Everything
 * lands in a staging folder first and is moved into place only when all of it arrived intact.
 */
export async function collectOutputs(
  store: OutputStore,
  target: { cwd: string; modelDir: string; metrics: string },
  logger: Logger,
): Promise<CollectedOutputs> {
  const modelPrefix = `${posix.normalize(target.modelDir.split('\\').join('/')).replace(/\/+$/, '')}/`;
  const metricsKey = posix.normalize(target.metrics.split('\\').join('/'));
  const objects = await store.list();
  if (objects.length > MAX_OBJECTS) throw new Error(`${store.url}: holds more than ${MAX_OBJECTS} objects; a run's output prefix should hold one model`);
  const wanted = objects.filter((o) => o.key.startsWith(modelPrefix) || o.key === metricsKey || o.key === 'profile.json');
  for (const o of wanted) {
    if (!safeKey(o.key)) throw new Error(`${store.url}: the object key ${JSON.stringify(o.key)} is not a plain relative path; refusing to download it`);
  }
  const modelObjects = wanted.filter((o) => o.key.startsWith(modelPrefix) && !o.key.endsWith('/'));
  if (modelObjects.length === 0) {
    throw badInput('model-dir', target.modelDir, `was not uploaded: the pod must write the model under $MLOPS_OUTPUT_URI (${store.url}/${modelPrefix})`);
  }
  if (!wanted.some((o) => o.key === metricsKey)) throw badInput('metrics', target.metrics, `was not uploaded: the pod must write it to ${store.url}/${metricsKey}`);

  const staging = join(target.cwd, `.mlops-outputs-${process.pid}-${Date.now()}.tmp`);
  try {
    for (const object of wanted.filter((o) => !o.key.endsWith('/'))) {
      const file = join(staging, ...object.key.split('/'));
      mkdirSync(dirname(file), { recursive: true });
      const md5 = createHash('md5');
      let size = 0;
      await store.download(object.key, file, (chunk) => {
        md5.update(chunk);
        size += chunk.length;
      });
      if (size !== object.size) throw new Error(`${store.url}/${object.key}: downloaded ${size} bytes, the listing says ${object.size}`);
      if (object.etag && /^[0-9a-f]{32}$/.test(object.etag) && md5.digest('hex') !== object.etag) {
        throw new Error(`${store.url}/${object.key}: the downloaded bytes do not match the object's MD5 (ETag ${object.etag})`);
      }
    }
    // All of it arrived: replace what a previous attempt left in the working directory.
    const placed: string[] = [];
    const move = (rel: string) => {
      const from = join(staging, ...rel.split('/'));
      const to = join(target.cwd, ...rel.split('/'));
      rmSync(to, { recursive: true, force: true });
      mkdirSync(dirname(to), { recursive: true });
      renameSync(from, to);
    };
    move(modelPrefix.slice(0, -1));
    if (!metricsKey.startsWith(modelPrefix)) move(metricsKey);
    for (const o of modelObjects) placed.push(join(target.cwd, ...o.key.split('/')));
    if (!metricsKey.startsWith(modelPrefix)) placed.push(join(target.cwd, ...metricsKey.split('/')));
    let profile: string | undefined;
    if (existsSync(join(staging, 'profile.json'))) {
      move('profile.json');
      profile = join(target.cwd, 'profile.json');
      placed.push(profile);
    }
    logger.info(`Downloaded ${wanted.length} output file(s) from ${store.url}/ (sizes and MD5s checked)`);
    return { files: placed, ...(profile && { profile }) };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** `model/model.onnx`: no empty, `.` or `..` segment, no backslash, no control character, not absolute. */
function safeKey(key: string): boolean {
  if (key === '' || key.startsWith('/') || key.includes('\\') || /[\u0000-\u001f\u007f]/.test(key)) return false;
  const segments = key.replace(/\/$/, '').split('/');
  return segments.every((s) => s !== '' && s !== '.' && s !== '..');
}

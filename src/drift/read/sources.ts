/**
 * Where the current window comes from: a file, a directory (every regular file below it, in path order), or
 * an S3 prefix (every object under it). Each source is opened as a byte stream, never read whole.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { badInput } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { S3Remote, parseS3Url } from '../../storage/s3-remote.ts';

export interface Source {
  /** For messages: the path or s3:// URL. */
  name: string;
  size: number;
  /** Modification time (ms since the epoch): the time of records that carry none. */
  modified: number;
  open(): AsyncIterable<Uint8Array>;
}

export interface SourceList {
  sources: Source[];
  close(): Promise<void>;
}

export interface SourceOptions {
  cwd: string;
  /** S3-compatible endpoint for s3:// inputs. */
  endpoint?: string;
  /** Objects last written before this (minus SLACK_MS) cannot hold records of the window and are not read. */
  since?: number;
  logger: Logger;
  /** For tests: explicit S3 keys instead of the AWS chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Clock skew allowed between the writer of a record and the store's modification time. */
export const SLACK_MS = 15 * 60_000;
const READ_CHUNK = 1 << 20;

async function walk(root: string, logger: Logger): Promise<string[]> {
  const files: string[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile()) files.push(path);
      else logger.warning(`current: skipping ${JSON.stringify(relative(root, path))}: not a regular file (symlinks are not followed)`.replace(/[\u0000-\u001f]/g, ' '));
    }
  }
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function localSources(path: string, options: SourceOptions): Promise<SourceList> {
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw badInput('current', path, 'does not exist: give a CSV or JSON Lines file, a folder of them, or an s3:// prefix');
    throw error;
  }
  if (info.isSymbolicLink()) throw badInput('current', path, 'is a symlink: give the real file or folder (symlinks are not followed)');
  const files = info.isDirectory() ? await walk(path, options.logger) : info.isFile() ? [path] : [];
  if (!info.isDirectory() && !info.isFile()) throw badInput('current', path, 'is not a file or a folder');
  const sources: Source[] = [];
  for (const file of files) {
    const s = await lstat(file);
    sources.push({ name: file, size: s.size, modified: s.mtimeMs, open: () => createReadStream(file, { highWaterMark: READ_CHUNK }) });
  }
  return { sources, close: async () => {} };
}

async function s3Sources(url: string, options: SourceOptions): Promise<SourceList> {
  const { bucket, prefix } = parseS3Url(url);
  const remote = new S3Remote(url, { ...(options.endpoint && { endpoint: options.endpoint }), leanHttp: false, ...(options.credentials && { credentials: options.credentials }) });
  const client = await remote.client();
  const { ListObjectsV2Command, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const sources: Source[] = [];
  let token: string | undefined;
  let skipped = 0;
  const listPrefix = prefix === '' ? undefined : `${prefix}/`;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ...(listPrefix && { Prefix: listPrefix }), ...(token && { ContinuationToken: token }) }));
    for (const object of page.Contents ?? []) {
      const key = object.Key;
      if (!key || key.endsWith('/')) continue;
      const modified = object.LastModified?.getTime() ?? Date.now();
      if (options.since !== undefined && modified < options.since - SLACK_MS) {
        skipped++;
        continue;
      }
      sources.push({
        name: `s3://${bucket}/${key}`,
        size: object.Size ?? 0,
        modified,
        open: () => ({
          async *[Symbol.asyncIterator]() {
            const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
            for await (const chunk of out.Body as Readable) yield chunk as Uint8Array;
          },
        }),
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  if (skipped > 0) options.logger.debug(`current: ${skipped} object(s) under ${url} were last written before the window and were not read`);
  sources.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { sources, close: () => remote.close() };
}

/** Lists the sources of one `--current` input: a path, a file:// URL, or an s3:// prefix. */
export async function listSources(input: string, options: SourceOptions): Promise<SourceList> {
  const value = input.trim();
  if (value === '') throw badInput('current', input, 'is empty: give a CSV or JSON Lines file, a folder, or an s3:// prefix');
  if (value.startsWith('s3://')) return s3Sources(value, options);
  if (options.endpoint) throw badInput('endpoint', options.endpoint, `only applies to s3:// inputs, and current is ${JSON.stringify(value)}`);
  if (value.startsWith('file://')) return localSources(fileURLToPath(value), options);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw badInput('current', value, 'uses a scheme this tool does not read: give a path, file:// or s3://');
  return localSources(isAbsolute(value) ? value : resolve(options.cwd, value), options);
}

/** Reads a whole (small) source into memory, refusing anything larger than `limit` bytes. */
export async function readWhole(source: Source, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of source.open()) {
    size += chunk.length;
    if (size > limit) throw new Error(`current: ${JSON.stringify(source.name)} is a single JSON document larger than ${limit >> 20} MB; write payload records as JSON Lines instead`);
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  }
  return Buffer.concat(parts);
}

/**
 * One interface over every place we keep data and models: an S3 bucket (with a prefix) or a local directory.
 * Keys are relative POSIX paths below the remote's root (`files/md5/ab/cdef…`, `models/churn/sha256-…/model.json`).
 */
export interface ObjectInfo {
  size: number;
}

export type PutResult = 'created' | 'exists';

export type Body = { path: string } | { data: Uint8Array | string };

export interface PutOptions {
  contentType?: string;
  /**
   * The caller has just seen (by `head`) that the key is absent, so a store that ignores `If-None-Match`
   * need not be asked again. The write is still conditional where the store honours it.
   */
  knownAbsent?: boolean;
}

export interface DownloadOptions {
  /**
   * Sees every chunk written to the file, in order (to hash while downloading instead of reading it again).
   * A returned promise holds the download back until it settles.
   */
  onData?(chunk: Uint8Array): void | Promise<unknown>;
  /**
   * Objects of at most this many bytes come back in memory and no file is written: for many small objects,
   * the caller writes each where it belongs in one go instead of copying it from a temporary file.
   */
  inMemoryUpTo?: number;
}

/** Where a downloaded object is: in memory (small, see `inMemoryUpTo`), or in the file the caller named. */
export type Downloaded = { bytes: Uint8Array } | { file: string };

export interface Remote {
  /** The URL the user gave, normalised (`s3://bucket/prefix`, `/abs/dir`). */
  readonly url: string;
  /** Learns whether one object exists (never lists the remote). */
  head(key: string): Promise<ObjectInfo | undefined>;
  /**
   * Writes an object only if no object has that key: never overwrites.
   * `exists` means another writer got there first (or an earlier run did); the old bytes are kept.
   */
  putIfAbsent(key: string, body: Body, options?: PutOptions): Promise<PutResult>;
  /** Whole object in memory, or undefined when absent. For small objects (manifests, model cards). */
  read(key: string): Promise<Uint8Array | undefined>;
  /** Streams an object to `file` (which must not exist yet), or returns it in memory; undefined when absent. */
  download(key: string, file: string, options?: DownloadOptions): Promise<Downloaded | undefined>;
  /** Releases sockets and handles. */
  close(): Promise<void>;
}

/** Joins key parts with `/`, rejecting empty, absolute and `..` segments so no key escapes the remote's root. */
export function objectKey(...parts: string[]): string {
  const segments = parts.flatMap((p) => p.split('/')).filter((s) => s !== '');
  for (const s of segments) {
    if (s === '..' || s === '.') throw new Error(`object key segment ${JSON.stringify(s)} is not allowed`);
  }
  return segments.join('/');
}

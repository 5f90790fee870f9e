import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { badInput } from '../errors.ts';
import { bodyToFile } from './body-to-file.ts';
import { explainCredentialErrors, explainCredentialsError } from './credentials-help.ts';
import { objectKey, type Body, type Downloaded, type DownloadOptions, type ObjectInfo, type PutOptions, type PutResult, type Remote } from './remote.ts';
import { withRetry } from './retry.ts';
import { S3Http, type Credentials } from './s3-http.ts';

export interface S3RemoteOptions {
  /** An S3-compatible endpoint (`http://127.0.0.1:7480`); implies path-style addressing. */
  endpoint?: string;
  region?: string;
  /**
   * `when-required` (the default with a custom endpoint) sends no CRC checksums unless an operation needs one:
   * some S3-compatible stores reject the SDK's default checksums or store their aws-chunked framing.
   */
  checksums?: 'when-required' | 'when-supported';
  /** Concurrent sockets to the store. */
  maxSockets?: number;
  /** Attempts per request, with the SDK's exponential backoff (503 SlowDown, resets, 5xx). */
  maxAttempts?: number;
  /** Files larger than this go up as a multipart upload of `partSize` parts (also the ranged-download part size). */
  multipartThreshold?: number;
  partSize?: number;
  /**
   * With an endpoint, HEAD/GET/small PUT go through the lean client (s3-http.ts) unless this is false: then
   * every call takes the SDK, as it does against AWS (tests use it to run that path against a local store).
   */
  leanHttp?: boolean;
  /** Explicit keys (tests); otherwise the standard AWS chain: env, profile, web identity (OIDC), instance role. */
  credentials?: S3ClientConfig['credentials'];
}

/** Splits `s3://bucket/prefix` into bucket and key prefix. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  const bucket = match?.[1];
  if (!bucket || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw badInput('remote', url, 'is not an S3 URL with a valid bucket name: use s3://bucket/optional/prefix');
  }
  return { bucket, prefix: objectKey(match?.[2] ?? '') };
}

// The SDK takes ~150 ms to load: only commands that talk to S3 pay for it.
const loadSdk = () => import('@aws-sdk/client-s3');
const loadUpload = () => import('@aws-sdk/lib-storage');

/** A remote in an S3 bucket (AWS or any S3-compatible store). Objects are written once and never overwritten. */
export class S3Remote implements Remote {
  readonly url: string;
  private readonly config: S3ClientConfig;
  private clientPromise: Promise<S3Client> | undefined;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly attempts: number;
  /** The lean path for HEAD/GET/small PUT on S3-compatible endpoints (see s3-http.ts); the SDK otherwise. */
  private readonly http: S3Http | undefined;

  constructor(url: string, options: S3RemoteOptions = {}) {
    const { bucket, prefix } = parseS3Url(url);
    this.bucket = bucket;
    this.prefix = prefix;
    this.url = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
    this.partSize = options.partSize ?? 16 << 20;
    this.multipartThreshold = options.multipartThreshold ?? 64 << 20;
    const checksums = options.checksums ?? (options.endpoint ? 'when-required' : 'when-supported');
    const maxSockets = options.maxSockets ?? 64;
    this.attempts = options.maxAttempts ?? 8;
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    if (options.endpoint && options.leanHttp !== false) {
      const fixed = options.credentials && typeof options.credentials === 'object' ? (options.credentials as Credentials) : credentialsFromEnv();
      // The SDK's credential chain (env, profile, web identity, instance role), refreshed as it sees fit.
      const chain = async () => ((await (await this.client()).config.credentials().catch((e: unknown) => Promise.reject(explainCredentialsError(e)))) as Credentials);
      this.http = new S3Http(options.endpoint, region, fixed ? async () => fixed : chain, maxSockets, this.partSize);
    }
    this.config = {
      region,
      ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      requestChecksumCalculation: checksums === 'when-required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
      responseChecksumValidation: checksums === 'when-required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
      maxAttempts: this.attempts,
      retryMode: 'standard',
      requestHandler: {
        httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
        httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
      },
    };
  }

  /** The SDK client, created on first use. */
  client(): Promise<S3Client> {
    this.clientPromise ??= loadSdk().then(({ S3Client }) => explainCredentialErrors(new S3Client(this.config)));
    return this.clientPromise;
  }

  private key(key: string): string {
    return objectKey(this.prefix, key);
  }

  private retry<T>(fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { attempts: this.attempts });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const http = this.http;
    if (http) {
      const out = await this.retry(() => http.head(this.bucket, this.key(key)));
      return out.status === 200 ? { size: out.size } : undefined;
    }
    try {
      const { HeadObjectCommand } = await loadSdk();
      const out = await (await this.client()).send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return { size: out.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async putIfAbsent(key: string, body: Body, options: PutOptions = {}): Promise<PutResult> {
    // Stores that ignore If-None-Match (s3rver, older gateways) would overwrite: ask first.
    if (!options.knownAbsent && (await this.head(key))) return 'exists';
    const params = {
      Bucket: this.bucket,
      Key: this.key(key),
      IfNoneMatch: '*',
      ...(options.contentType ? { ContentType: options.contentType } : {}),
    };
    try {
      if ('path' in body && (await stat(body.path)).size > this.multipartThreshold) {
        // lib-storage aborts the multipart upload when a part fails for good (leavePartsOnError: false).
        const { Upload } = await loadUpload();
        const upload = new Upload({
          client: await this.client(),
          params: { ...params, Body: createReadStream(body.path) },
          partSize: this.partSize,
          queueSize: 4,
          leavePartsOnError: false,
        });
        await upload.done();
      } else {
        // A buffer, not a stream: it can be resent on a retry, and no store sees chunk framing.
        const data = 'path' in body ? await readFile(body.path) : body.data;
        const http = this.http;
        if (http) {
          const buffer = Buffer.from(typeof data === 'string' ? Buffer.from(data) : data);
          return await this.retry(() => http.putIfAbsent(this.bucket, this.key(key), buffer, options.contentType));
        }
        const { PutObjectCommand } = await loadSdk();
        await (await this.client()).send(new PutObjectCommand({ ...params, Body: data }));
      }
      return 'created';
    } catch (error) {
      if (isPreconditionFailed(error)) return 'exists';
      throw error;
    }
  }

  async read(key: string): Promise<Uint8Array | undefined> {
    const http = this.http;
    if (http) return this.retry(() => http.get(this.bucket, this.key(key)));
    try {
      const { GetObjectCommand } = await loadSdk();
      const out = await (await this.client()).send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async download(key: string, file: string, options: DownloadOptions = {}): Promise<Downloaded | undefined> {
    // No retry here: a retry needs a fresh file, which the caller owns.
    if (this.http) return this.http.download(this.bucket, this.key(key), file, options);
    let out;
    try {
      const { GetObjectCommand } = await loadSdk();
      out = await (await this.client()).send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    const expected = out.ContentLength;
    // A connection closed early can end the body without an error: treat a short body as a reset.
    const short = (size: number) => Object.assign(new Error(`${this.url}/${key}: got ${size} of ${expected} bytes`), { code: 'ECONNRESET' });
    if (expected !== undefined && options.inMemoryUpTo !== undefined && expected <= options.inMemoryUpTo) {
      const bytes = await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
      if (bytes.length !== expected) throw short(bytes.length);
      return { bytes };
    }
    const size = await bodyToFile(out.Body as Readable, file, options.onData);
    if (expected !== undefined && size !== expected) throw short(size);
    return { file };
  }

  async close(): Promise<void> {
    this.http?.close();
    if (this.clientPromise) (await this.clientPromise).destroy();
  }
}

/**
 * The first link of the standard AWS chain, read without loading the SDK (~150 ms): static keys in the
 * environment win over every other source there too.
 */
function credentialsFromEnv(): Credentials | undefined {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

function status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return name === 'NotFound' || name === 'NoSuchKey' || status(error) === 404;
}

function isPreconditionFailed(error: unknown): boolean {
  return (error as { name?: string }).name === 'PreconditionFailed' || status(error) === 412;
}

// The S3 server an S3 test suite runs against: radosgw when `scripts/ceph-s3.sh run` set MLOPS_S3_ENDPOINT
// (npm run test:s3-real), else an embedded s3rver. Suites are written once against this interface.
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { S3Remote, type S3RemoteOptions } from '../../src/storage/s3-remote.ts';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { S3RVER_CREDENTIALS, startS3rver } from './s3rver.ts';

export interface S3Target {
  kind: 's3rver' | 'radosgw';
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Whether the server honours `If-None-Match: *` (radosgw: 412; s3rver ignores it and overwrites). */
  honoursIfNoneMatch: boolean;
  /** A client for setting up and checking, straight to the server (no proxy). */
  admin: S3Client;
  /** Creates an empty bucket with a fresh name. */
  newBucket(): Promise<string>;
  /** A proxy in front of the server that counts requests and injects faults; stopped with the target. */
  proxy(): Promise<FaultProxy>;
  /** An S3Remote for `url` through `endpoint` (default: straight to the server). */
  remote(url: string, options?: S3RemoteOptions): S3Remote;
  keys(bucket: string, prefix?: string): Promise<string[]>;
  get(bucket: string, key: string): Promise<Buffer | undefined>;
  put(bucket: string, key: string, body: Uint8Array | string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts (or connects to) the server under test and points the AWS credential chain at its keys. */
export async function startS3Target(): Promise<S3Target> {
  const real = process.env.MLOPS_S3_ENDPOINT;
  let endpoint: string;
  let credentials: { accessKeyId: string; secretAccessKey: string };
  let stopServer = async () => {};
  if (real) {
    endpoint = real;
    credentials = { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '' };
  } else {
    const server = await startS3rver();
    endpoint = server.endpoint;
    credentials = S3RVER_CREDENTIALS;
    stopServer = server.stop;
  }
  // The CLI under test finds its keys the way users' runs do: through the standard AWS chain.
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  const admin = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const proxies: FaultProxy[] = [];
  return {
    kind: real ? 'radosgw' : 's3rver',
    endpoint,
    credentials,
    honoursIfNoneMatch: Boolean(real),
    admin,
    async newBucket() {
      const bucket = `mlops-${randomBytes(6).toString('hex')}`;
      await admin.send(new CreateBucketCommand({ Bucket: bucket }));
      return bucket;
    },
    async proxy() {
      const proxy = await startFaultProxy(endpoint);
      proxies.push(proxy);
      return proxy;
    },
    remote(url, options = {}) {
      return new S3Remote(url, { endpoint, credentials, ...options });
    },
    async keys(bucket, prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key as string));
        token = page.NextContinuationToken;
      } while (token);
      return keys.sort();
    },
    async get(bucket, key) {
      try {
        const out = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },
    async put(bucket, key, body) {
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async stop() {
      await Promise.all(proxies.map((p) => p.stop()));
      admin.destroy();
      await stopServer();
    },
  };
}

import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { badInput } from '../errors.ts';
import { LocalRemote } from './local-remote.ts';
import type { Remote } from './remote.ts';
import { S3Remote, type S3RemoteOptions } from './s3-remote.ts';

export interface OpenRemoteOptions extends S3RemoteOptions {
  /** Base for relative directory paths. */
  cwd?: string;
}

/** `s3://bucket/prefix` → S3; `file:///dir`, `/dir` or `dir` → a local directory. */
export function openRemote(url: string, options: OpenRemoteOptions = {}): Remote {
  const { cwd = process.cwd(), ...s3 } = options;
  if (url.trim() === '') throw badInput('remote', url, 'is empty: give s3://bucket/prefix or a directory');
  if (url.startsWith('s3://')) return new S3Remote(url, s3);
  if (url.startsWith('file://')) {
    // A URL names one place: `..` (or its percent-encoded spelling, which URL parsing also resolves) is refused.
    if (/(^|\/)(\.|%2e){1,2}(\/|$)/i.test(url.slice('file://'.length))) {
      throw badInput('remote', url, 'has a "." or ".." segment: give the directory itself, e.g. file:///srv/dvc');
    }
    return new LocalRemote(fileURLToPath(url));
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw badInput('remote', url, 'uses a scheme this tool does not support: give s3://bucket/prefix, file:///dir or a directory path');
  }
  if (s3.endpoint) throw badInput('endpoint', s3.endpoint, `only applies to an s3:// remote, and the remote is the directory ${url}: drop --endpoint or use s3://`);
  return new LocalRemote(isAbsolute(url) ? url : resolve(cwd, url));
}

import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { bodyToFile } from './body-to-file.ts';
import { objectKey, type Body, type Downloaded, type DownloadOptions, type ObjectInfo, type PutResult, type Remote } from './remote.ts';

/** A remote in a local directory: the embedded default, and what DVC calls a "local remote". */
export class LocalRemote implements Remote {
  readonly url: string;

  constructor(directory: string) {
    this.url = resolve(directory);
  }

  private path(key: string): string {
    return join(this.url, objectKey(key));
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const s = await stat(this.path(key));
      return s.isFile() ? { size: s.size } : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async putIfAbsent(key: string, body: Body): Promise<PutResult> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      if ('path' in body) await copyFile(body.path, temp);
      else await writeFile(temp, body.data);
      // link() fails with EEXIST when the target exists: an atomic "create only", never a partial file.
      await link(temp, target);
      return 'created';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
      throw error;
    } finally {
      await rm(temp, { force: true });
    }
  }

  async read(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async download(key: string, file: string, options: DownloadOptions = {}): Promise<Downloaded | undefined> {
    const info = await this.head(key);
    if (!info) return undefined;
    if (options.inMemoryUpTo !== undefined && info.size <= options.inMemoryUpTo) {
      const bytes = await this.read(key);
      return bytes && { bytes };
    }
    await bodyToFile(createReadStream(this.path(key)), file, options.onData);
    return { file };
  }

  async close(): Promise<void> {}
}

function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

// s3rver, the embedded S3-compatible server, in a child process: it needs Node's --openssl-legacy-provider
// (ListObjectsV2 pagination fails without it), which vitest's forked workers do not have.
// Run directly (`node --openssl-legacy-provider test/helpers/s3rver.ts <dir>`), this file is that child.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tempDir } from './tmp.ts';

export interface S3rverProcess {
  endpoint: string;
  directory: string;
  stop(): Promise<void>;
}

/** s3rver's fixed keys. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export async function startS3rver(directory = tempDir('s3rver')): Promise<S3rverProcess> {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', fileURLToPath(import.meta.url), directory], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', (line) => resolve(Number(JSON.parse(line).port)));
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} before listening`)));
  });
  return { endpoint: `http://127.0.0.1:${port}`, directory, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const moduleName = 's3rver'; // untyped package
  const { default: S3rver } = (await import(moduleName)) as {
    default: new (options: object) => { run(): Promise<unknown>; close(): Promise<void> };
  };
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory: process.argv[2], silent: true });
  const address = (await server.run()) as { port: number };
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
  process.on('SIGTERM', () => {
    server.close().finally(() => process.exit(0));
  });
}

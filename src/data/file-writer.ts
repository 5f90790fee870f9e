import { Worker } from 'node:worker_threads';

/** A file to create from the bytes: written under `temp`, then renamed to `target`. */
export interface NewFile {
  temp: string;
  target: string;
  mode: number;
}

/** What the state database needs of a file just written (rename keeps the inode and mtime). */
export interface Written {
  size: number;
  mtimeMs: number;
  ino: number;
}

export interface WriteOutcome {
  /** One entry per file written, in order; shorter than the list given when `error` is set. */
  written: Written[];
  /** The MD5 the bytes actually have, when it is not the one expected: nothing was written. */
  corrupt?: string;
  error?: Error;
}

// Plain JavaScript run with `eval: true`, so it works the same from TypeScript sources and from an esbuild bundle.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
function writeOne(bytes, f) {
  let fd = fs.openSync(f.temp, 'wx', f.mode);
  try {
    for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off);
    const s = fs.fstatSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(f.temp, f.target);
    return { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
  } catch (error) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(f.temp, { force: true });
    throw error;
  }
}
parentPort.on('message', ({ id, bytes, md5, files }) => {
  const actual = md5 === undefined ? undefined : crypto.createHash('md5').update(bytes).digest('hex');
  if (actual !== md5) return parentPort.postMessage({ id, written: [], corrupt: actual });
  const written = [];
  try {
    for (const f of files) written.push(writeOne(bytes, f));
    parentPort.postMessage({ id, written });
  } catch (error) {
    parentPort.postMessage({ id, written, error: { message: error.message, code: error.code, path: error.path } });
  }
});
`;

interface Reply {
  id: number;
  written: Written[];
  corrupt?: string;
  error?: { message: string; code?: string; path?: string };
}

/**
 * Verifies and writes small downloaded objects on a thread of its own, so that on two cores the main thread
 * keeps receiving while files are created: measured on 20,000 objects from radosgw, about 17 % less wall time
 * than the same syscalls on the main thread. One thread is enough: the kernel serialises much of it anyway.
 */
export class FileWriter {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, { resolve: (r: WriteOutcome) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  /** Checks that `bytes` hash to `md5`, then creates each file in order, stopping at the first failure. */
  write(bytes: Uint8Array, md5: string, files: NewFile[]): Promise<WriteOutcome> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, bytes, md5, files });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', (reply: Reply) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      const outcome: WriteOutcome = { written: reply.written };
      if (reply.corrupt !== undefined) outcome.corrupt = reply.corrupt;
      if (reply.error) outcome.error = Object.assign(new Error(reply.error.message), { code: reply.error.code, path: reply.error.path });
      waiter?.resolve(outcome);
    });
    const failAll = (error: Error) => {
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
      this.worker = undefined;
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => {
      if (this.waiting.size > 0) failAll(new Error(`the file writer thread exited (${code}) with writes pending`));
    });
    this.worker = worker;
    return worker;
  }
}

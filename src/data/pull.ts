import pLimit from 'p-limit';
import { mkdirSync, rmSync } from 'node:fs';
import { chmod, rename, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Remote } from '../storage/remote.ts';
import { withRetry } from '../storage/retry.ts';
import { makeParents, place, placementError, planCheckout, pruneEmptyDirs, removeFiles, StreamedCopies, type Placement } from './checkout.ts';
import { FileWriter, type BackgroundHash, type Written } from './file-writer.ts';
import type { DirEntry } from './hash.ts';
import { md5File } from './hash.ts';
import { parseManifest } from './manifest.ts';
import { shown, tempSuffix } from './paths.ts';
import type { TransferResult } from './push.ts';
import { isDirHash, remoteKey, type Tracked } from './tracked.ts';
import type { Workspace } from './workspace.ts';

/** Objects up to this size arrive in memory and go to the cache and the workspace from one buffer. */
const IN_MEMORY = 1 << 20;
/** Bytes of a large object handed to the writer thread and not yet hashed and written, before the download waits. */
const WRITE_AHEAD = 64 << 20;

/**
 * `dvc pull`: fetches the objects the cache lacks (MD5 verified before an object gets its name) and checks
 * the data out as each object arrives: a small file is written twice from memory (cache, workspace) and a
 * large one is hashed and copied into the workspace on the writer thread while it downloads, so nothing is
 * read back. Files the data does not have are deleted; edits that are not in the cache stop the pull
 * before any write unless `force`. An output with a corrupt or missing object is not checked out: the files
 * this run created for it are removed again (DVC would keep them; we keep the workspace as it was).
 */
export async function pullOutputs(ws: Workspace, remote: Remote, outputs: Tracked[], jobs: number, force = false): Promise<TransferResult> {
  const result: TransferResult = { transferred: 0, skipped: 0, missing: [], outputs: [] };
  const ctx: FetchContext = { ws, remote, limit: pLimit(jobs), result, writer: new FileWriter() };
  try {
    // Every manifest first: one whose paths are hostile stops the pull before any output is touched.
    const manifests: (DirEntry[] | undefined)[] = [];
    for (const tracked of outputs) {
      const { md5 } = tracked.out;
      manifests.push(isDirHash(md5) ? await manifestFor(ws, remote, tracked, result) : [{ md5, relpath: '' }]);
    }
    for (const [i, tracked] of outputs.entries()) {
      result.outputs.push({ path: tracked.rel, md5: tracked.out.md5 });
      const entries = manifests[i];
      if (entries) await pullOne(ctx, tracked, entries, force);
    }
  } finally {
    await ctx.writer.close();
  }
  return result;
}

interface FetchContext {
  ws: Workspace;
  remote: Remote;
  limit: ReturnType<typeof pLimit>;
  result: TransferResult;
  writer: FileWriter;
}

/** Where the files of one output go, and what becomes of them. */
interface Sink {
  /** The workspace files an object fills (each handed out once). */
  take(md5: string): Placement[];
  /** A file was written (under its final name) with these properties. */
  wrote(p: Placement, w: Written): void;
  /** Copies a file from the cache object. */
  copy(p: Placement): void;
}

async function pullOne(ctx: FetchContext, tracked: Tracked, entries: DirEntry[], force: boolean): Promise<void> {
  const { ws, remote, result } = ctx;
  const plan = await planCheckout(ws, tracked, entries, force);
  // What will be copied from the cache is checked first: an object whose bytes are not its name stops the
  // output here, before anything is deleted or written (free for objects the state database vouches for).
  await ws.verifyObjects([...plan.pending.keys()].filter((m) => plan.cached.has(m)));
  removeFiles(ws, tracked, plan.extras);
  const parents = makeParents(plan);
  // Files this run creates; removed again (with the folders that leaves empty) when the output cannot be checked out whole.
  const created: string[] = [];
  const sink: Sink = {
    take(object) {
      const group = plan.pending.get(object) ?? [];
      plan.pending.delete(object);
      return group;
    },
    wrote(p, w) {
      ws.state.set(p.key, w.size, w.mtimeMs, w.ino, p.md5);
      if (!p.replaces) created.push(p.absolute);
    },
    copy(p) {
      place(ws, p);
      if (!p.replaces) created.push(p.absolute);
    },
  };
  const rollBack = () => {
    removeFiles(ws, tracked, created);
    pruneEmptyDirs(join(ws.root, tracked.rel), parents);
  };
  const before = result.missing.length;
  try {
    const objects = [...new Set(entries.map((e) => e.md5))];
    const needed = objects.filter((m) => !plan.cached.has(m));
    result.skipped += objects.length - needed.length;
    await fetchObjects(ctx, needed, `pulling ${shown(tracked.rel)}`, sink);
    if (result.missing.length > before) {
      rollBack();
      ws.logger.error(`${shown(tracked.rel)}: ${result.missing.length - before} object(s) are not on ${remote.url}; it was not checked out`);
      return;
    }
    // What was already in the cache is copied from it.
    for (const object of [...plan.pending.keys()]) for (const p of sink.take(object)) sink.copy(p);
  } catch (error) {
    rollBack();
    throw error;
  }
}

async function manifestFor(ws: Workspace, remote: Remote, tracked: Tracked, result: TransferResult): Promise<DirEntry[] | undefined> {
  const { md5 } = tracked.out;
  const dvcFile = relative(ws.root, tracked.dvcFile).split(sep).join('/');
  const cached = await ws.readManifestFromCache(md5);
  if (cached) {
    result.skipped++;
    return parseManifest(cached, md5, `${dvcFile} (cache ${md5})`);
  }
  const key = remoteKey(md5);
  const bytes = await withRetry(() => remote.read(key));
  if (!bytes) {
    result.missing.push(md5);
    ws.logger.error(`${shown(tracked.rel)}: manifest ${key} is not on ${remote.url}: was it pushed?`);
    return undefined;
  }
  const entries = parseManifest(bytes, md5, `${dvcFile} (${remote.url}/${key})`);
  await ws.writeCacheObject(md5, bytes);
  result.transferred++;
  return entries;
}

/** Fetches objects the cache lacks, filling the workspace files of each as it arrives. */
async function fetchObjects(ctx: FetchContext, needed: string[], label: string, sink: Sink): Promise<void> {
  const { ws, limit, result } = ctx;
  if (needed.length === 0) return;
  for (const dir of new Set(needed.map((m) => dirname(ws.cachePath(m))))) mkdirSync(dir, { recursive: true });
  ws.progress.start(label, needed.length, 0);
  let failure: unknown;
  try {
    // allSettled, and no new downloads after a failure: when this returns, no temporary file is left behind.
    await Promise.allSettled(
      needed.map((md5) =>
        limit(async () => {
          if (failure) return;
          try {
            const group = sink.take(md5);
            const size = await withRetry(() => fetchOne(ctx, md5, group, sink));
            if (size === undefined) result.missing.push(md5);
            else result.transferred++;
            ws.progress.advance(1, size ?? 0);
          } catch (error) {
            failure ??= error;
          }
        }),
      ),
    );
    if (failure) throw failure;
  } finally {
    ws.progress.finish();
  }
}

function corrupt(remote: Remote, key: string, actual: string, expected: string): Error {
  return Object.assign(new Error(`${remote.url}/${key}: content has MD5 ${actual}, expected ${expected}: the remote object is corrupt; nothing was written`), { corrupt: true });
}

/**
 * Downloads one object into the cache and fills `group`, its workspace files; undefined when the remote lacks
 * it. No file gets its name before the MD5 is checked. A small object arrives in memory and the writer thread
 * checks it and writes the cache object, then each workspace file. A large one streams into a temporary cache
 * file and temporary workspace copies while the writer thread hashes it; once the MD5 is right the cache
 * object is named first, then the copies.
 */
async function fetchOne(ctx: FetchContext, md5: string, group: Placement[], sink: Sink): Promise<number | undefined> {
  const { ws, remote, writer } = ctx;
  const target = ws.cachePath(md5);
  const key = remoteKey(md5);
  const temp = `${target}${tempSuffix()}`;
  let hash: BackgroundHash | undefined;
  let copies: StreamedCopies | undefined;
  let ahead = 0;
  let done = false;
  try {
    const got = await remote.download(key, temp, {
      inMemoryUpTo: IN_MEMORY,
      onData: (chunk) => {
        hash ??= writer.hasher();
        copies ??= new StreamedCopies(group);
        ahead += chunk.length;
        const hashed = hash.update(chunk).then(() => {
          ahead -= chunk.length;
        });
        hashed.catch(() => {}); // a writer failure also fails digest(); this only keeps it from going unhandled
        const copied = copies.write(chunk);
        return ahead > WRITE_AHEAD ? Promise.all([hashed, copied]) : copied;
      },
    });
    if (!got) return undefined;
    if ('bytes' in got) {
      const files = [target, ...group.map((p) => p.absolute)].map((t, i) => ({ temp: `${t}${tempSuffix()}`, target: t, mode: i === 0 ? 0o444 : 0o666 }));
      const outcome = await writer.write(got.bytes, md5, files);
      if (outcome.corrupt !== undefined) throw corrupt(remote, key, outcome.corrupt, md5);
      if (outcome.written[0]) ws.vouch(md5, outcome.written[0]);
      outcome.written.slice(1).forEach((w, i) => sink.wrote(group[i] as Placement, w));
      // The writer thread removed its own temporary files; a workspace file it could not write stops the pull.
      if (outcome.error) throw placementError(group[outcome.written.length - 1], outcome.error);
      done = true;
      return got.bytes.length;
    }
    // A remote that reported no chunks is hashed from the file, and its workspace files copied from the cache.
    const actual = hash ? await hash.digest() : await md5File(temp);
    hash = undefined;
    if (actual !== md5) throw corrupt(remote, key, actual, md5);
    await chmod(temp, 0o444);
    const written = await stat(temp); // every byte is in: rename keeps this size, mtime and inode
    await rename(temp, target);
    ws.vouch(md5, written);
    const { size } = written;
    if (copies) await copies.name(sink.wrote);
    else for (const p of group) sink.copy(p);
    done = true;
    return size;
  } finally {
    if (!done) {
      await hash?.abort();
      await copies?.discard();
      rmSync(temp, { force: true });
    }
  }
}

import pLimit from 'p-limit';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { chmod, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Remote } from '../storage/remote.ts';
import { withRetry } from '../storage/retry.ts';
import { makeParents, place, placementError, planCheckout, pruneEmptyDirs, removeFiles, tempSuffix, type Placement } from './checkout.ts';
import { FileWriter, type Written } from './file-writer.ts';
import type { DirEntry } from './hash.ts';
import { md5File } from './hash.ts';
import { parseManifest } from './manifest.ts';
import type { TransferResult } from './push.ts';
import { isDirHash, remoteKey, type Tracked } from './tracked.ts';
import type { Workspace } from './workspace.ts';

/** Objects up to this size arrive in memory and go to the cache and the workspace from one buffer. */
const IN_MEMORY = 1 << 20;

/**
 * `dvc pull`: fetches the objects the cache lacks (MD5 verified before an object gets its name) and checks
 * the data out as each object arrives, so a small file is written twice from memory (cache, workspace) and
 * never read back. Files the data does not have are deleted; edits that are not in the cache stop the pull
 * before any write unless `force`. An output with a corrupt or missing object is not checked out: the files
 * this run created for it are removed again (DVC would keep them; we keep the workspace as it was).
 */
export async function pullOutputs(ws: Workspace, remote: Remote, outputs: Tracked[], jobs: number, force = false): Promise<TransferResult> {
  const result: TransferResult = { transferred: 0, skipped: 0, missing: [], outputs: [] };
  const ctx: FetchContext = { ws, remote, limit: pLimit(jobs), result, writer: new FileWriter() };
  try {
    for (const tracked of outputs) {
      result.outputs.push({ path: tracked.rel, md5: tracked.out.md5 });
      await pullOne(ctx, tracked, force);
    }
  } finally {
    await ctx.writer.close();
  }
  return result;
}

async function pullOne(ctx: FetchContext, tracked: Tracked, force: boolean): Promise<void> {
  const { ws, remote, result } = ctx;
  const { md5 } = tracked.out;
  const entries = isDirHash(md5) ? await manifestFor(ws, remote, tracked, result) : [{ md5, relpath: '' }];
  if (!entries) return;
  const plan = await planCheckout(ws, tracked, entries, force);
  removeFiles(ws, tracked, plan.extras);
  const parents = makeParents(plan);
  // Files this run creates; removed again (with the folders that leaves empty) when the output cannot be checked out whole.
  const created: string[] = [];
  const placed = (p: Placement, w: Written) => {
    ws.state.set(p.key, w.size, w.mtimeMs, w.ino, p.md5);
    if (!p.replaces) created.push(p.absolute);
  };
  const rollBack = () => {
    removeFiles(ws, tracked, created);
    pruneEmptyDirs(join(ws.root, tracked.rel), parents);
  };
  const before = result.missing.length;
  try {
    const placementsFor = (object: string) => {
      const group = plan.pending.get(object) ?? [];
      plan.pending.delete(object);
      return group;
    };
    await fetchObjects(ctx, [...new Set(entries.map((e) => e.md5))], `pulling ${tracked.rel}`, placementsFor, placed);
    if (result.missing.length > before) {
      rollBack();
      ws.logger.error(`${tracked.rel}: ${result.missing.length - before} object(s) are not on ${remote.url}; it was not checked out`);
      return;
    }
    // What was already in the cache, or arrived as a file too large to keep in memory, is copied from it.
    for (const group of plan.pending.values()) {
      for (const p of group) {
        place(ws, p);
        if (!p.replaces) created.push(p.absolute);
      }
    }
  } catch (error) {
    rollBack();
    throw error;
  }
}

async function manifestFor(ws: Workspace, remote: Remote, tracked: Tracked, result: TransferResult): Promise<DirEntry[] | undefined> {
  const { md5 } = tracked.out;
  const cached = await ws.readManifestFromCache(md5);
  if (cached) {
    result.skipped++;
    return parseManifest(cached, md5, `cache ${md5}`);
  }
  const key = remoteKey(md5);
  const bytes = await withRetry(() => remote.read(key));
  if (!bytes) {
    result.missing.push(md5);
    ws.logger.error(`${tracked.rel}: manifest ${key} is not on ${remote.url}: was it pushed?`);
    return undefined;
  }
  const entries = parseManifest(bytes, md5, `${remote.url}/${key}`);
  await ws.writeCacheObject(md5, bytes);
  result.transferred++;
  return entries;
}

interface FetchContext {
  ws: Workspace;
  remote: Remote;
  limit: ReturnType<typeof pLimit>;
  result: TransferResult;
  writer: FileWriter;
}

/**
 * Fetches the objects the cache lacks. A small object arrives in memory and goes, MD5 checked, to the cache
 * and to every place in the workspace that wants it in one message to the writer thread; `placed` hears
 * of each file written. A large one streams to a temporary file, is hashed as it arrives, and is renamed
 * into the cache (checkout copies it from there).
 */
async function fetchObjects(
  ctx: FetchContext,
  md5s: string[],
  label: string,
  placementsFor: (md5: string) => Placement[],
  placed: (p: Placement, w: Written) => void,
): Promise<void> {
  const { ws, remote, limit, result } = ctx;
  const cached = ws.cachedObjects();
  const needed = md5s.filter((m) => !cached.has(m));
  result.skipped += md5s.length - needed.length;
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
            const got = await withRetry(() => download(ws, remote, md5));
            if (got === undefined) {
              result.missing.push(md5);
              return;
            }
            if ('bytes' in got) await writeSmall(ctx, md5, got.bytes, placementsFor(md5), placed);
            result.transferred++;
            ws.progress.advance(1, 'bytes' in got ? got.bytes.length : got.size);
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

async function writeSmall(ctx: FetchContext, md5: string, bytes: Uint8Array, group: Placement[], placed: (p: Placement, w: Written) => void): Promise<void> {
  const target = ctx.ws.cachePath(md5);
  const files = [{ temp: `${target}${tempSuffix()}`, target, mode: 0o444 }, ...group.map((p) => ({ temp: `${p.absolute}${tempSuffix()}`, target: p.absolute, mode: 0o666 }))];
  const outcome = await ctx.writer.write(bytes, md5, files);
  if (outcome.corrupt !== undefined) throw corrupt(ctx.remote, remoteKey(md5), outcome.corrupt, md5);
  outcome.written.slice(1).forEach((w, i) => placed(group[i] as Placement, w));
  if (outcome.error) {
    const failed = group[outcome.written.length - 1];
    throw failed ? placementError(failed, outcome.error) : outcome.error;
  }
}

function corrupt(remote: Remote, key: string, actual: string, expected: string): Error {
  return Object.assign(new Error(`${remote.url}/${key}: content has MD5 ${actual}, expected ${expected}: the remote object is corrupt; nothing was written`), { corrupt: true });
}

/**
 * Downloads one object: a small one comes back in memory (checked and written by the caller), a large one
 * is hashed as it streams to a temporary file and renamed into the cache only when its MD5 is right.
 * Undefined when the remote lacks it.
 */
async function download(ws: Workspace, remote: Remote, md5: string): Promise<{ bytes: Uint8Array } | { size: number } | undefined> {
  const target = ws.cachePath(md5);
  const key = remoteKey(md5);
  const temp = `${target}${tempSuffix()}`;
  let renamed = false;
  try {
    const hash = createHash('md5');
    let hashed = 0;
    const got = await remote.download(key, temp, {
      inMemoryUpTo: IN_MEMORY,
      onData: (chunk) => {
        hash.update(chunk);
        hashed += chunk.length;
      },
    });
    if (!got || 'bytes' in got) return got;
    const { size } = await stat(temp);
    // A remote that does not report chunks (onData is optional for implementations) is hashed from the file.
    const actual = hashed === size ? hash.digest('hex') : await md5File(temp);
    if (actual !== md5) throw corrupt(remote, key, actual, md5);
    await chmod(temp, 0o444);
    await rename(temp, target);
    renamed = true;
    return { size };
  } finally {
    if (!renamed) rmSync(temp, { force: true });
  }
}

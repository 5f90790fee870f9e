import pLimit from 'p-limit';
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Remote } from '../storage/remote.ts';
import { withRetry } from '../storage/retry.ts';
import { makeParents, place, planCheckout, pruneEmptyDirs, removeFiles, tempSuffix, type Placement } from './checkout.ts';
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
  const limit = pLimit(jobs);
  const result: TransferResult = { transferred: 0, skipped: 0, missing: [], outputs: [] };
  for (const tracked of outputs) {
    const { md5 } = tracked.out;
    result.outputs.push({ path: tracked.rel, md5 });
    const entries = isDirHash(md5) ? await manifestFor(ws, remote, tracked, result) : [{ md5, relpath: '' }];
    if (!entries) continue;
    const plan = await planCheckout(ws, tracked, entries, force);
    removeFiles(ws, tracked, plan.extras);
    const base = join(ws.root, tracked.rel);
    const parents = makeParents(plan);
    // Files this run creates; removed again (with the folders that leaves empty) when the output cannot be checked out whole.
    const created: string[] = [];
    const rollBack = () => {
      removeFiles(ws, tracked, created);
      pruneEmptyDirs(base, parents);
    };
    const put = (p: Placement, bytes?: Uint8Array) => {
      place(ws, p, bytes);
      if (!p.replaces) created.push(p.absolute);
    };
    const before = result.missing.length;
    try {
      await fetchObjects(ws, remote, [...new Set(entries.map((e) => e.md5))], limit, result, `pulling ${tracked.rel}`, (md5, bytes) => {
        for (const p of plan.pending.get(md5) ?? []) put(p, bytes);
        plan.pending.delete(md5);
      });
      if (result.missing.length > before) {
        rollBack();
        ws.logger.error(`${tracked.rel}: ${result.missing.length - before} object(s) are not on ${remote.url}; it was not checked out`);
        continue;
      }
      // What was already in the cache, or arrived as a file too large to keep in memory, is copied from it.
      for (const group of plan.pending.values()) for (const p of group) put(p);
    } catch (error) {
      rollBack();
      throw error;
    }
  }
  return result;
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

async function fetchObjects(
  ws: Workspace,
  remote: Remote,
  md5s: string[],
  limit: ReturnType<typeof pLimit>,
  result: TransferResult,
  label: string,
  arrived: (md5: string, bytes: Uint8Array) => void,
): Promise<void> {
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
            const fetched = await fetchOne(ws, remote, md5);
            if (fetched === undefined) {
              result.missing.push(md5);
            } else {
              result.transferred++;
              if (fetched.bytes) arrived(md5, fetched.bytes);
            }
            ws.progress.advance(1, fetched?.size ?? 0);
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
 * Downloads one object into the cache, verifying its MD5 before it gets its name; undefined when the remote
 * lacks it. Small objects arrive in memory and are written with direct syscalls (cheaper than a promise
 * round trip per file at 20,000 files); large ones are hashed as they stream to disk.
 */
async function fetchOne(ws: Workspace, remote: Remote, md5: string): Promise<{ size: number; bytes?: Uint8Array } | undefined> {
  const target = ws.cachePath(md5);
  const key = remoteKey(md5);
  return withRetry(async () => {
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
      if (!got) return undefined;
      if ('bytes' in got) {
        const actual = createHash('md5').update(got.bytes).digest('hex');
        if (actual !== md5) throw corrupt(remote, key, actual, md5);
        writeFileSync(temp, got.bytes, { flag: 'wx', mode: 0o444 });
        renameSync(temp, target);
        renamed = true;
        return { size: got.bytes.length, bytes: got.bytes };
      }
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
  });
}

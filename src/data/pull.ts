import pLimit from 'p-limit';
import { createHash } from 'node:crypto';
import { chmodSync, constants, copyFileSync, lstatSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { badInput } from '../errors.ts';
import type { Remote } from '../storage/remote.ts';
import type { DirEntry } from './hash.ts';
import { md5File } from './hash.ts';
import { parseManifest } from './manifest.ts';
import { assertNoSymlinkEscape, findCollisions } from './paths.ts';
import type { TransferResult } from './push.ts';
import { withRetry } from '../storage/retry.ts';
import { isDirHash, remoteKey, type Tracked } from './tracked.ts';
import type { Workspace } from './workspace.ts';

/**
 * `dvc pull`: fetches the objects the cache lacks (each to a temporary file, MD5 verified, then renamed),
 * then checks the data out into the workspace. A corrupt object fails the pull and leaves no file behind.
 */
export async function pullOutputs(ws: Workspace, remote: Remote, outputs: Tracked[], jobs: number): Promise<TransferResult> {
  const limit = pLimit(jobs);
  const result: TransferResult = { transferred: 0, skipped: 0, missing: [], outputs: [] };
  for (const tracked of outputs) {
    const { md5 } = tracked.out;
    result.outputs.push({ path: tracked.rel, md5 });
    const entries = isDirHash(md5) ? await manifestFor(ws, remote, tracked, result) : [{ md5, relpath: '' }];
    if (!entries) continue;
    const plan = checkoutPlan(ws, tracked, entries);
    const before = result.missing.length;
    await fetchObjects(ws, remote, [...new Set(entries.map((e) => e.md5))], limit, result, `pulling ${tracked.rel}`);
    if (result.missing.length > before) {
      ws.logger.error(`${tracked.rel}: ${result.missing.length - before} object(s) are not on ${remote.url}; it was not checked out`);
      continue;
    }
    checkout(ws, plan);
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

interface Placement {
  md5: string;
  absolute: string;
  key: string;
}

/** Resolves every destination before anything is written: all must stay inside the workspace. */
function checkoutPlan(ws: Workspace, tracked: Tracked, entries: DirEntry[]): Placement[] {
  const base = join(ws.root, tracked.rel);
  for (const group of findCollisions(entries.map((e) => e.relpath))) {
    ws.logger.warning(`${tracked.rel}: ${group.map((g) => JSON.stringify(g)).join(' and ')} differ only by case or Unicode normalisation; they collide on macOS and Windows`);
  }
  const parents = new Set<string>();
  const plan = entries.map((e) => {
    const absolute = e.relpath === '' ? base : join(base, ...e.relpath.split('/'));
    parents.add(dirname(absolute));
    return { md5: e.md5, absolute, key: e.relpath === '' ? tracked.rel : `${tracked.rel}/${e.relpath}` };
  });
  for (const parent of parents) assertNoSymlinkEscape(ws.root, parent, 'targets', tracked.rel);
  return plan;
}

async function fetchObjects(
  ws: Workspace,
  remote: Remote,
  md5s: string[],
  limit: ReturnType<typeof pLimit>,
  result: TransferResult,
  label: string,
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
            const size = await fetchOne(ws, remote, md5);
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

let tempCounter = 0;
const tempSuffix = () => `.${process.pid}-${tempCounter++}.tmp`;

/** Downloads one object into the cache, hashing as it arrives; undefined when the remote lacks it. Throws on an MD5 mismatch. */
async function fetchOne(ws: Workspace, remote: Remote, md5: string): Promise<number | undefined> {
  const target = ws.cachePath(md5);
  const key = remoteKey(md5);
  return withRetry(async () => {
    const temp = `${target}${tempSuffix()}`;
    let renamed = false;
    try {
      const hash = createHash('md5');
      let hashed = 0;
      const found = await remote.download(key, temp, {
        onData: (chunk) => {
          hash.update(chunk);
          hashed += chunk.length;
        },
      });
      if (!found) return undefined;
      const { size } = await stat(temp);
      // A remote that does not report chunks (onData is optional for implementations) is hashed from the file.
      const actual = hashed === size ? hash.digest('hex') : await md5File(temp);
      if (actual !== md5) {
        throw Object.assign(new Error(`${remote.url}/${key}: content has MD5 ${actual}, expected ${md5}: the remote object is corrupt; nothing was written`), { corrupt: true });
      }
      await rename(temp, target);
      renamed = true;
      return size;
    } finally {
      if (!renamed) await rm(temp, { force: true });
    }
  });
}

/**
 * Copies each object from the cache into place (temporary name, then rename). Synchronous on purpose: it runs
 * after every download finished, and direct syscalls are much cheaper than 100,000 promise round trips.
 */
function checkout(ws: Workspace, plan: Placement[]): void {
  for (const dir of new Set(plan.map((p) => dirname(p.absolute)))) mkdirSync(dir, { recursive: true });
  for (const p of plan) {
    const existing = lstatSync(p.absolute, { throwIfNoEntry: false });
    if (existing?.isDirectory()) throw badInput('targets', p.key, 'is a directory in the workspace but a file in the data: move it away and pull again');
    if (existing?.isFile() && ws.state.get(p.key, existing.size, existing.mtimeMs, existing.ino) === p.md5) continue;
    const temp = `${p.absolute}${tempSuffix()}`;
    try {
      copyFileSync(ws.cachePath(p.md5), temp, constants.COPYFILE_FICLONE);
      chmodSync(temp, 0o644); // cache objects are read-only; the workspace copy is the user's to edit
      renameSync(temp, p.absolute);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
    const s = statSync(p.absolute);
    ws.state.set(p.key, s.size, s.mtimeMs, s.ino, p.md5);
  }
}

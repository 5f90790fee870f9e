import pLimit from 'p-limit';
import { statSync } from 'node:fs';
import type { Remote } from '../storage/remote.ts';
import { parseManifest } from './manifest.ts';
import { isDirHash, remoteKey, type Tracked } from './tracked.ts';
import type { Workspace } from './workspace.ts';

export interface TransferResult {
  /** Objects sent (push) or fetched (pull). */
  transferred: number;
  /** Objects already where they had to be. */
  skipped: number;
  /** Objects that could not be found (push: not in the local cache; pull: not on the remote). */
  missing: string[];
  outputs: { path: string; md5: string }[];
}

/**
 * `dvc push`: learns what the remote lacks by HEAD on exactly the objects needed (never a listing),
 * uploads those, and the `.dir` manifest last so its presence marks a complete push.
 */
export async function pushOutputs(ws: Workspace, remote: Remote, outputs: Tracked[], jobs: number): Promise<TransferResult> {
  const limit = pLimit(jobs);
  const result: TransferResult = { transferred: 0, skipped: 0, missing: [], outputs: [] };
  const done = new Set<string>();
  for (const tracked of outputs) {
    const { md5 } = tracked.out;
    result.outputs.push({ path: tracked.rel, md5 });
    if (done.has(md5)) continue;
    done.add(md5);
    if (!isDirHash(md5)) {
      await pushObjects(ws, remote, [md5], limit, result, `pushing ${tracked.rel}`);
      continue;
    }
    // A complete earlier push (ours or `dvc push`) left the `.dir` object last: nothing below it is missing.
    if (await remote.head(remoteKey(md5))) {
      result.skipped += (tracked.out.nfiles ?? 0) + 1;
      continue;
    }
    const bytes = await ws.readManifestFromCache(md5);
    if (!bytes) {
      result.missing.push(md5);
      ws.logger.error(`${tracked.rel}: manifest ${md5} is not in the local cache: run \`mlops data add ${tracked.rel}\` or pull it first`);
      continue;
    }
    const entries = parseManifest(bytes, md5, `cache ${md5}`);
    const unique = [...new Set(entries.map((e) => e.md5).filter((m) => !done.has(m)))];
    unique.forEach((m) => done.add(m));
    const before = result.missing.length;
    await pushObjects(ws, remote, unique, limit, result, `pushing ${tracked.rel}`);
    if (result.missing.length > before) continue; // never publish a `.dir` whose files are not all there
    const put = await remote.putIfAbsent(remoteKey(md5), { path: ws.cachePath(md5) }, { contentType: 'application/json' });
    if (put === 'created') result.transferred++;
    else result.skipped++;
  }
  return result;
}

async function pushObjects(
  ws: Workspace,
  remote: Remote,
  md5s: string[],
  limit: ReturnType<typeof pLimit>,
  result: TransferResult,
  label: string,
): Promise<void> {
  ws.progress.start(label, md5s.length, 0);
  try {
    await Promise.all(
      md5s.map((md5) =>
        limit(async () => {
          const key = remoteKey(md5);
          let size = 0;
          if (await remote.head(key)) {
            result.skipped++;
          } else if ((size = cachedSize(ws, md5)) < 0) {
            result.missing.push(md5);
            ws.logger.error(`object ${md5} is not in the local cache (${ws.cachePath(md5)}): re-run \`mlops data add\` on its data`);
          } else if ((await remote.putIfAbsent(key, { path: ws.cachePath(md5) }, { knownAbsent: true })) === 'created') {
            result.transferred++;
          } else {
            result.skipped++;
          }
          ws.progress.advance(1, Math.max(size, 0));
        }),
      ),
    );
  } finally {
    ws.progress.finish();
  }
}

function cachedSize(ws: Workspace, md5: string): number {
  try {
    return statSync(ws.cachePath(md5)).size;
  } catch {
    return -1;
  }
}

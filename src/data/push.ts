import pLimit from 'p-limit';
import { statSync } from 'node:fs';
import { relative, sep } from 'node:path';
import type { PutResult, Remote } from '../storage/remote.ts';
import { parseManifest } from './manifest.ts';
import { shown } from './paths.ts';
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
 * `dvc push`: learns what the remote lacks by HEAD or conditional PUT on exactly the objects needed (never
 * a listing), uploads those, and the `.dir` manifest last so its presence marks a complete push. Every object
 * sent is first checked to be what its name says (see `Workspace.verifyObjects`).
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
    const label = `pushing ${shown(tracked.rel)}`;
    if (!isDirHash(md5)) {
      await pushObjects(ws, remote, [md5], limit, result, label);
      continue;
    }
    // A complete earlier push (ours or `dvc push`) left the `.dir` object last: nothing below it is missing.
    if (await remote.head(remoteKey(md5))) {
      result.skipped += (tracked.out.nfiles ?? 0) + 1;
      continue;
    }
    // Read and hashed here, and sent from these bytes: what is published under the name is what was checked.
    const bytes = await ws.readManifestFromCache(md5);
    if (!bytes) {
      result.missing.push(md5);
      ws.logger.error(`${shown(tracked.rel)}: manifest ${md5} is not in the local cache (or not what its name says): run \`mlops data add ${shown(tracked.rel)}\` or pull it first`);
      continue;
    }
    const entries = parseManifest(bytes, md5, `${relative(ws.root, tracked.dvcFile).split(sep).join('/')} (cache ${md5})`);
    const unique = [...new Set(entries.map((e) => e.md5).filter((m) => !done.has(m)))];
    unique.forEach((m) => done.add(m));
    const before = result.missing.length;
    await pushObjects(ws, remote, unique, limit, result, label);
    if (result.missing.length > before) continue; // never publish a `.dir` whose files are not all there
    const put = await remote.putIfAbsent(remoteKey(md5), { data: bytes }, { contentType: 'application/json' });
    if (put === 'created') result.transferred++;
    else result.skipped++;
  }
  return result;
}

/** Pushes of fewer objects than this HEAD each one first (the probe below would not pay for itself). */
const PUT_FIRST_MIN = 256;
/** Objects HEADed first to learn how much of a push the remote already has. */
const SAMPLE = 32;

/**
 * Uploads the objects the remote lacks. An object is either HEADed first and sent when absent, or, when a
 * sample shows the remote has almost none of them and the store is seen to honour `If-None-Match: *`, sent
 * straight away as a conditional PUT (a 412 means it was there): a first push of a dataset then costs one
 * request per object instead of two, and the server's CPU, not ours, is what limits a push.
 */
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
    /** What is known of each object on the remote before the main pass. */
    const known = new Map<string, 'present' | 'absent' | 'sent'>();
    const head = async (md5: string) => {
      const there = (await remote.head(remoteKey(md5))) !== undefined;
      known.set(md5, there ? 'present' : 'absent');
      return there;
    };
    let putFirst = false;
    if (md5s.length >= PUT_FIRST_MIN) {
      const sample = md5s.slice(0, SAMPLE);
      await Promise.all(sample.map((md5) => limit(() => head(md5))));
      const absent = sample.filter((md5) => known.get(md5) === 'absent' && cachedSize(ws, md5) >= 0);
      const probe = absent[0];
      if (probe !== undefined && absent.length >= 0.75 * sample.length) {
        putFirst = honours.get(remote) ?? false;
        if (!honours.has(remote)) {
          const [size] = await ws.verifyObjects([probe]);
          const sent = await honoursConditionalWrites(ws, remote, probe);
          honours.set(remote, (putFirst = sent.honoured));
          known.set(probe, sent.put === 'created' ? 'sent' : 'present');
          if (sent.put === 'created') {
            result.transferred++;
            ws.progress.advance(1, size ?? 0);
          }
        }
      }
    }
    await Promise.all(
      md5s.map((md5) =>
        limit(async () => {
          const state = known.get(md5);
          if (state === 'sent') return;
          const key = remoteKey(md5);
          let size = 0;
          if (state === 'present' || (state === undefined && !putFirst && (await head(md5)))) {
            result.skipped++;
          } else if ((size = (await ws.verifyObjects([md5]))[0] ?? -1) < 0) {
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

/** What the probe below learned of each remote, so that a push of several outputs probes once. */
const honours = new WeakMap<Remote, boolean>();

/**
 * Whether the store refuses to overwrite (`If-None-Match: *` → 412), learned by sending one object twice:
 * the second PUT must come back `exists`. A store that ignores the header has then rewritten that object
 * with the same bytes (objects are named by their content), and the push HEADs every object first.
 */
async function honoursConditionalWrites(ws: Workspace, remote: Remote, md5: string): Promise<{ put: PutResult; honoured: boolean }> {
  const body = { path: ws.cachePath(md5) };
  const put = await remote.putIfAbsent(remoteKey(md5), body, { knownAbsent: true });
  const again = await remote.putIfAbsent(remoteKey(md5), body, { knownAbsent: true });
  return { put, honoured: again === 'exists' };
}

function cachedSize(ws: Workspace, md5: string): number {
  try {
    return statSync(ws.cachePath(md5)).size;
  } catch {
    return -1;
  }
}

import pLimit from 'p-limit';
import { relative, sep } from 'node:path';
import type { Remote } from '../storage/remote.ts';
import { parseManifest } from './manifest.ts';
import { shown } from './paths.ts';
import { isDirHash, remoteKey, type Tracked } from './tracked.ts';
import type { Workspace } from './workspace.ts';

export interface OutputStatus {
  path: string;
  dvcFile: string;
  md5: string;
  /** `ok`: the data matches its `.dvc` file; `modified`: it differs (run add); `missing`: not checked out (run pull). */
  workspace: 'ok' | 'modified' | 'missing';
  missingInCache: number;
  /** Undefined when no remote was given. */
  missingInRemote?: number;
}

export interface StatusResult {
  outputs: OutputStatus[];
  missing: { workspace: string[]; cache: string[]; remote: string[] };
}

/** What differs between the workspace, the local cache and the remote, without changing anything. */
export async function statusOfOutputs(ws: Workspace, remote: Remote | undefined, outputs: Tracked[], jobs: number): Promise<StatusResult> {
  const limit = pLimit(jobs);
  const result: StatusResult = { outputs: [], missing: { workspace: [], cache: [], remote: [] } };
  for (const tracked of outputs) {
    const { md5 } = tracked.out;
    const current = await ws.hashPath(tracked.rel, { toCache: false, allowEmpty: true, label: `checking ${shown(tracked.rel)}` });
    const workspace = !current ? 'missing' : current.md5 === md5 ? 'ok' : 'modified';
    if (workspace !== 'ok') result.missing.workspace.push(tracked.rel);

    let objects = [md5];
    if (isDirHash(md5)) {
      const bytes = await ws.readManifestFromCache(md5);
      if (bytes) objects = [...new Set(parseManifest(bytes, md5, `${relative(ws.root, tracked.dvcFile).split(sep).join('/')} (cache ${md5})`).map((e) => e.md5)), md5];
    }
    const cached = ws.cachedObjects();
    const notCached = objects.filter((m) => !cached.has(m));
    result.missing.cache.push(...notCached);

    const status: OutputStatus = { path: tracked.rel, dvcFile: relative(ws.root, tracked.dvcFile).split(sep).join('/'), md5, workspace, missingInCache: notCached.length };
    if (remote) {
      // The `.dir` object is written last, so when it is there every file below it is too: one HEAD.
      const notRemote = isDirHash(md5) && (await remote.head(remoteKey(md5)))
        ? []
        : (await Promise.all(objects.map((m) => limit(async () => ((await remote.head(remoteKey(m))) ? undefined : m))))).filter((m) => m !== undefined);
      status.missingInRemote = notRemote.length;
      result.missing.remote.push(...notRemote);
    }
    result.outputs.push(status);
  }
  return result;
}

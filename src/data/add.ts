import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { badInput } from '../errors.ts';
import { readDvcFile, writeDvcFile, type DvcOut } from './dvc-file.ts';
import { gitignoreLine, ignoreInGit } from './gitignore.ts';
import { reservedSegment, resolveTarget, shown } from './paths.ts';
import type { Workspace } from './workspace.ts';

export interface AddedOutput {
  path: string;
  dvcFile: string;
  md5: string;
  size: number;
  nfiles?: number;
}

/**
 * `dvc add`: hashes each target (copying new bytes into the cache in the same read), stores the `.dir`
 * manifest, writes or updates `<target>.dvc` and git-ignores the data.
 */
export async function addTargets(ws: Workspace, cwd: string, targets: string[], options: { allowEmpty: boolean }): Promise<AddedOutput[]> {
  if (targets.length === 0) throw badInput('targets', '', 'is empty: name the files or folders to track, e.g. `mlops data add data/`');
  const rels = targets.map((t) => resolveTarget(ws.root, cwd, t));
  // Every target is checked before anything is written.
  for (const rel of rels) {
    if (reservedSegment(rel) !== undefined) throw badInput('targets', rel, 'is inside .dvc or .git: name your data instead');
    gitignoreLine(basename(rel));
  }
  await ws.ensureDvcDir();
  const added: AddedOutput[] = [];
  for (const rel of rels) {
    const hashed = await ws.hashPath(rel, { toCache: true, allowEmpty: options.allowEmpty, label: `hashing ${rel}` });
    if (!hashed) throw badInput('targets', rel, 'does not exist: name an existing file or folder');
    if (hashed.manifest) await ws.writeCacheObject(hashed.md5, hashed.manifest);
    const absolute = join(ws.root, rel);
    const dvcFile = `${absolute}.dvc`;
    const out: DvcOut = { md5: hashed.md5, size: hashed.size, path: basename(absolute) };
    if (hashed.nfiles !== undefined) out.nfiles = hashed.nfiles;
    const existing = existsSync(dvcFile) ? (await readDvcFile(dvcFile)).doc : undefined;
    await writeDvcFile(dvcFile, out, existing);
    await ignoreInGit(dirname(absolute), basename(absolute));
    ws.logger.info(`${shown(rel)}: ${hashed.md5}${hashed.nfiles !== undefined ? ` (${hashed.nfiles} files)` : ''}, ${hashed.size} bytes`);
    added.push({ path: rel, dvcFile: `${rel}.dvc`, md5: hashed.md5, size: hashed.size, ...(hashed.nfiles !== undefined ? { nfiles: hashed.nfiles } : {}) });
  }
  return added;
}

import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { badInput } from '../errors.ts';
import { readDvcFile, type DvcOut } from './dvc-file.ts';
import { assertNoSymlinkEscape, isInside, isReservedName, reservedSegment, resolveTarget } from './paths.ts';
import { checkUtf8Name } from './walk.ts';

/** One tracked output: its `.dvc` file and the data path it describes (workspace-relative, POSIX). */
export interface Tracked {
  dvcFile: string;
  rel: string;
  out: DvcOut;
}

export const isDirHash = (md5: string) => md5.endsWith('.dir');

/** The remote key DVC 3 uses for an object: `files/md5/<2 hex>/<rest>`. */
export const remoteKey = (md5: string) => `files/md5/${md5.slice(0, 2)}/${md5.slice(2)}`;

/** The outputs named by `targets` (data paths or their `.dvc` files), or every `.dvc` file in the workspace. */
export async function trackedOutputs(root: string, cwd: string, targets: string[]): Promise<Tracked[]> {
  const files = targets.length > 0
    ? targets.map((t) => {
        const rel = resolveTarget(root, cwd, t);
        const file = join(root, `${rel}.dvc`);
        if (!existsSync(file)) throw badInput('targets', t, `is not tracked (no ${rel}.dvc): run \`mlops data add ${rel}\` first`);
        return file;
      })
    : await findDvcFiles(root);
  return Promise.all(files.map((file) => loadTracked(root, file)));
}

async function loadTracked(root: string, file: string): Promise<Tracked> {
  const shownFile = relative(root, file).split(sep).join('/');
  const { out } = await readDvcFile(file, shownFile);
  const absolute = join(dirname(file), out.path);
  if (out.path.includes('\0') || out.path.startsWith('/') || !isInside(root, absolute) || absolute === root) {
    throw badInput('dvc-file', shownFile, `has path ${JSON.stringify(out.path)} outside the workspace: fix its outs[0].path`);
  }
  const rel = relative(root, absolute).split(sep).join('/');
  const reserved = reservedSegment(rel);
  if (reserved !== undefined) {
    throw badInput('dvc-file', shownFile, `has path ${JSON.stringify(out.path)} (${JSON.stringify(rel)}), inside ${JSON.stringify(reserved)}, the repository's or DVC's own folder: data is never written there; fix or delete the .dvc file`);
  }
  if (/[\x00-\x1f\x7f]/.test(out.path)) {
    throw badInput('dvc-file', shownFile, `has path ${JSON.stringify(out.path)} with a control character: rename the data and its .dvc file`);
  }
  assertNoSymlinkEscape(root, absolute, 'dvc-file', shownFile);
  return { dvcFile: file, rel, out };
}

/**
 * Every `*.dvc` file of this project, skipping `.git`, `.dvc`, `node_modules`, folders that are themselves
 * tracked, and folders that are DVC projects of their own (they hold a `.dvc` folder: DVC's subrepos).
 */
export async function findDvcFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  async function visit(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    if (dir !== root && entries.some((e) => e.name === '.dvc' && e.isDirectory())) return;
    const names = new Set(entries.map((e) => e.name));
    await Promise.all(
      entries.map(async (e) => {
        if (isReservedName(e.name) || e.name === 'node_modules') return;
        if (e.name.includes('\uFFFD')) checkUtf8Name(dir, e, `${relative(root, dir).split(sep).join('/')}${dir === root ? '' : '/'}`);
        if (e.isFile() && e.name.endsWith('.dvc')) found.push(join(dir, e.name));
        else if (e.isDirectory() && !names.has(`${e.name}.dvc`)) await visit(join(dir, e.name));
      }),
    );
  }
  await visit(root);
  return found.sort();
}

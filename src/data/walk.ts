import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { badInput } from '../errors.ts';
import { isInside } from './paths.ts';

export interface FileInfo {
  /** POSIX path relative to the walked directory. */
  relpath: string;
  absolute: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

/**
 * Every file below `dir` (following symlinks that stay inside `root`; a symlink that leaves it is an error).
 * Directories are read concurrently, which matters for 20,000 files on a network file system.
 */
export async function walkFiles(root: string, dir: string, shown: string): Promise<FileInfo[]> {
  const realRoot = await realpath(root);
  const files: FileInfo[] = [];
  async function visit(absolute: string, rel: string): Promise<void> {
    const entries = await readdir(absolute, { withFileTypes: true });
    await Promise.all(
      entries.map(async (entry) => {
        const childAbs = join(absolute, entry.name);
        const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
        let isDir = entry.isDirectory();
        if (entry.isSymbolicLink()) {
          const target = await realpath(childAbs).catch(() => undefined);
          if (target === undefined) throw badInput('targets', `${shown}/${childRel}`, 'is a dangling symlink: remove it or point it at a file');
          if (!isInside(realRoot, target)) {
            throw badInput('targets', `${shown}/${childRel}`, `is a symlink to ${target}, outside the workspace: remove it or copy the data in`);
          }
          isDir = (await stat(childAbs)).isDirectory();
        }
        if (isDir) return visit(childAbs, childRel);
        const s = await stat(childAbs);
        if (!s.isFile()) return;
        files.push({ relpath: childRel, absolute: childAbs, size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
      }),
    );
  }
  await visit(dir, '');
  return files;
}

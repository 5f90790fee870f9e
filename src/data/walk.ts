import { readdirSync, realpathSync, statSync } from 'node:fs';
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
 * Synchronous on purpose: for 20,000 files, direct syscalls are several times faster than promise round trips.
 */
export async function walkFiles(root: string, dir: string, shown: string): Promise<FileInfo[]> {
  const realRoot = realpathSync(root);
  const files: FileInfo[] = [];
  const pending: [string, string][] = [[dir, '']];
  while (pending.length > 0) {
    const [absolute, rel] = pending.pop() as [string, string];
    for (const entry of readdirSync(absolute, { withFileTypes: true })) {
      const childAbs = join(absolute, entry.name);
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      let isDir = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync(childAbs);
        } catch {
          throw badInput('targets', `${shown}/${childRel}`, 'is a dangling symlink: remove it or point it at a file');
        }
        if (!isInside(realRoot, target)) {
          throw badInput('targets', `${shown}/${childRel}`, `is a symlink to ${target}, outside the workspace: remove it or copy the data in`);
        }
        isDir = statSync(childAbs).isDirectory();
      }
      if (isDir) {
        pending.push([childAbs, childRel]);
        continue;
      }
      const s = statSync(childAbs);
      if (s.isFile()) files.push({ relpath: childRel, absolute: childAbs, size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
    }
  }
  return files;
}

import { lstat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { badInput } from '../errors.ts';

/**
 * DESIGN §6, "symlinks are not followed": lstat every segment of `path` below `root` (the root itself is
 * trusted: the workspace, the clone) and refuse the first one that is a symbolic link, before anything opens
 * the path. A link inside a checkout or an artifact would make us read or write a file elsewhere on the machine.
 * Segments that do not exist end the walk: the caller reports a missing file in its own words.
 * `path` may be absolute or relative to `root`; of a path outside `root` only the last segment is checked.
 */
export async function refuseSymlinks(root: string, path: string, input: string, shown = path): Promise<void> {
  const absolute = isAbsolute(path) ? path : join(root, path);
  const rel = relative(root, absolute);
  const outside = rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  const [base, segments] = outside ? [dirname(absolute), [basename(absolute)]] : [root, rel.split(sep).filter((s) => s !== '' && s !== '.')];
  let current = base;
  for (const segment of segments) {
    current = join(current, segment);
    const info = await lstat(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
    if (!info) return;
    if (info.isSymbolicLink()) {
      const where = outside ? current : relative(root, current).split(sep).join('/');
      throw badInput(input, shown, `passes through the symbolic link ${JSON.stringify(where)}, which is not followed: replace the link with the real file or folder`);
    }
  }
}

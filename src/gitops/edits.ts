import { lstat, mkdir, readFile, rm, writeFile, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { badInput } from '../errors.ts';
import { refuseSymlinks } from '../fs/no-symlinks.ts';
import type { Edit } from './branch-push.ts';
import { createGit } from './git.ts';

/** A file of the source checkout to carry over: its new bytes, or undefined when it was deleted. */
export interface FileChange {
  path: string;
  content: Uint8Array | undefined;
}

/** Rejects absolute paths and `..`, so a path from an input cannot leave the repository. */
export function checkRelativePath(input: string, path: string): string {
  const posix = path.replaceAll('\\', '/');
  const normal = normalize(posix).split(sep).join('/');
  if (posix === '' || isAbsolute(posix) || normal === '..' || normal.startsWith('../') || normal === '.' || normal.startsWith('.git/') || normal === '.git') {
    throw badInput(input, path, 'must be a path inside the repository (relative, no "..", not .git)');
  }
  return normal;
}

/**
 * The files changed in a checkout (`git status`): modified, added, untracked and deleted. Used when an earlier
 * step (bump) edited the GitOps checkout and the pull-request step should commit exactly that.
 */
export async function changedFilesInCheckout(checkout: string, options: { env?: NodeJS.ProcessEnv; gitPath?: string } = {}): Promise<string[]> {
  const git = createGit({ cwd: checkout, env: options.env, gitPath: options.gitPath });
  const out = (await git.run(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames'])).stdout;
  return out
    .split('\0')
    .filter((entry) => entry.length > 3)
    .map((entry) => entry.slice(3))
    .sort();
}

/** Reads the listed files from `checkout` (a missing file is a deletion), staying inside the checkout. */
export async function readChanges(checkout: string, paths: string[]): Promise<FileChange[]> {
  const root = await realpath(checkout);
  const changes: FileChange[] = [];
  for (const raw of paths) {
    const path = checkRelativePath('paths', raw);
    const file = join(root, path);
    await refuseSymlinks(root, path, 'paths', raw);
    const stat = await lstat(file).catch(() => undefined);
    if (!stat) {
      changes.push({ path, content: undefined });
      continue;
    }
    if (!stat.isFile()) throw badInput('paths', raw, 'must name a regular file (not a directory or symlink)');
    const real = await realpath(file);
    if (relative(root, real).startsWith('..')) throw badInput('paths', raw, 'resolves outside the checkout');
    changes.push({ path, content: await readFile(file) });
  }
  return changes;
}

/**
 * An Edit that writes (or deletes) the given files in the fresh checkout of the base. The base is someone
 * else's tree: a symlink on the way to a file would make us write or delete outside the clone, so it is refused.
 */
export function applyChanges(changes: FileChange[]): Edit {
  return async (worktree) => {
    for (const change of changes) await refuseSymlinks(worktree, change.path, 'paths');
    for (const change of changes) {
      const target = join(worktree, change.path);
      if (change.content === undefined) {
        await rm(target, { force: true });
      } else {
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, change.content);
      }
    }
  };
}

import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Real git repositories for the gitops tests: a bare "origin", clones acting as people, and an argv-logging git. */

const FIXTURE = join(import.meta.dirname, '../../fixtures/gitops/repo');

export function git(cwd: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync('git', args, {
    cwd,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Jane Human', GIT_AUTHOR_EMAIL: 'jane@example.com', GIT_COMMITTER_NAME: 'Jane Human', GIT_COMMITTER_EMAIL: 'jane@example.com', ...env },
    encoding: 'utf8',
  });
}

/** A bare repository `<root>/<name>.git` whose main branch holds the fixture GitOps tree. */
export function seedBareRepo(root: string, name = 'gitops'): string {
  const bare = join(root, `${name}.git`);
  git(root, ['init', '--quiet', '--bare', '-b', 'main', bare]);
  const work = join(root, `${name}-seed`);
  cpSync(FIXTURE, work, { recursive: true });
  git(work, ['init', '--quiet', '-b', 'main']);
  git(work, ['add', '--all']);
  git(work, ['commit', '--quiet', '-m', 'Initial GitOps tree']);
  git(work, ['push', '--quiet', bare, 'main']);
  return bare;
}

/** A human (Jane) commits `file` = `content` on `branch` (created from main if absent) and pushes it. */
export function humanCommit(root: string, bare: string, branch: string, file: string, content: string): string {
  const work = join(root, `human-${Math.random().toString(36).slice(2)}`);
  git(root, ['clone', '--quiet', `file://${bare}`, work]);
  const exists = git(work, ['ls-remote', 'origin', `refs/heads/${branch}`]).trim() !== '';
  git(work, ['checkout', '--quiet', '-B', branch, exists ? `origin/${branch}` : 'origin/main']);
  mkdirSync(join(work, file, '..'), { recursive: true });
  writeFileSync(join(work, file), content);
  git(work, ['add', '--all']);
  git(work, ['commit', '--quiet', '-m', `Human edit of ${file}`]);
  git(work, ['push', '--quiet', 'origin', `${branch}:${branch}`]);
  return git(work, ['rev-parse', 'HEAD']).trim();
}

export function showFile(bare: string, ref: string, file: string): string {
  return git(bare, ['show', `${ref}:${file}`]);
}

/** A `git` wrapper that appends each argv (one JSON line) to `log` and runs the real git. */
export function argvLoggingGit(dir: string, log: string): string {
  const path = join(dir, 'git-logging');
  writeFileSync(
    path,
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec /usr/bin/git "$@"\n`,
  );
  chmodSync(path, 0o755);
  writeFileSync(log, '');
  return path;
}

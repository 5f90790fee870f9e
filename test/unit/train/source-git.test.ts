import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceFromGit } from '../../../src/train/record.ts';
import { tempDir } from '../../helpers/tmp.ts';

const IDENTITY = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: { ...process.env, ...IDENTITY }, encoding: 'utf8' }).trim();

describe('run.json source outside GitHub Actions', () => {
  it('is the commit checked out where the program ran, and its branch, from any folder of the repository', async () => {
    const repo = tempDir('source-git');
    git(repo, 'init', '-q', '--initial-branch=main');
    git(repo, '-c', 'commit.gpgsign=false', 'commit', '-q', '--allow-empty', '-m', 'one');
    mkdirSync(join(repo, 'legs', 'node'), { recursive: true });
    const head = git(repo, 'rev-parse', 'HEAD');
    expect(await sourceFromGit(join(repo, 'legs', 'node'), process.env)).toEqual({ commit: head, ref: 'refs/heads/main' });
    git(repo, 'checkout', '-q', '--detach');
    expect(await sourceFromGit(repo, process.env)).toEqual({ commit: head });
  });

  it('is empty outside a repository and in a repository without a commit', async () => {
    expect(await sourceFromGit(tempDir('source-none'), process.env)).toEqual({});
    const empty = tempDir('source-empty');
    git(empty, 'init', '-q');
    expect(await sourceFromGit(empty, process.env)).toEqual({});
  });
});

import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGit } from '../gitops/git.ts';

/** The demo's GitOps remote: a local bare repository whose main branch starts as a copy of manifests/. */

const SEED_IDENTITY = {
  GIT_AUTHOR_NAME: 'mlops demo',
  GIT_AUTHOR_EMAIL: 'demo@mlops-actions.invalid',
  GIT_COMMITTER_NAME: 'mlops demo',
  GIT_COMMITTER_EMAIL: 'demo@mlops-actions.invalid',
};

export async function seedGitopsRepo(bare: string, manifests: string, env: NodeJS.ProcessEnv): Promise<void> {
  await mkdir(bare, { recursive: true });
  await createGit({ cwd: bare, env }).run(['init', '--quiet', '--bare', '--initial-branch=main']);
  const work = await mkdtemp(join(tmpdir(), 'mlops-demo-seed-'));
  try {
    await cp(manifests, join(work, 'manifests'), { recursive: true });
    const git = createGit({ cwd: work, env });
    await git.run(['init', '--quiet', '--initial-branch=main']);
    await git.run(['add', '--all']);
    await git.run(['-c', 'commit.gpgsign=false', 'commit', '--quiet', '--no-verify', '-m', 'GitOps skeleton from mlops-actions manifests/'], { env: SEED_IDENTITY });
    await git.run(['push', '--quiet', bare, 'HEAD:refs/heads/main']);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The text of `file` on the main branch. */
export async function manifestOnMain(bare: string, file: string, env: NodeJS.ProcessEnv): Promise<string> {
  return (await createGit({ cwd: bare, env }).run(['show', `refs/heads/main:${file}`])).stdout;
}

/**
 * Merges the pull request as GitHub's "rebase and merge" would for a branch that is one commit on top of
 * main: main moves to the branch's commit, only if main is still where the branch started. The branch is
 * then deleted, as GitHub does with "automatically delete head branches", so the next run opens a new PR.
 */
export async function mergeBranch(bare: string, branch: string, commit: string, base: string, env: NodeJS.ProcessEnv): Promise<void> {
  const git = createGit({ cwd: bare, env });
  await git.run(['update-ref', 'refs/heads/main', commit, base]);
  await git.run(['update-ref', '-d', `refs/heads/${branch}`, commit]);
}

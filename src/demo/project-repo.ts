import { existsSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGit } from '../gitops/git.ts';

/** The demo's project is a git repository too: each run commits what CI would check out, and trains on that commit. */

const IDENTITY = {
  GIT_AUTHOR_NAME: 'mlops demo',
  GIT_AUTHOR_EMAIL: 'demo@mlops-actions.invalid',
  GIT_COMMITTER_NAME: 'mlops demo',
  GIT_COMMITTER_EMAIL: 'demo@mlops-actions.invalid',
};

/** Commits the project's tracked files (.dvc pointers, gate rules, .gitignore); outputs and the DVC cache stay out. */
export async function commitProject(project: string, message: string, env: NodeJS.ProcessEnv): Promise<string> {
  const git = createGit({ cwd: project, env });
  if (!existsSync(join(project, '.git'))) {
    await git.run(['init', '--quiet', '--initial-branch=main']);
    // Local to this clone (not a tracked .gitignore, which `data add` edits): what training and the demo write.
    await appendFile(join(project, '.git', 'info', 'exclude'), '/legs/\n/.dvc/cache/\n/.dvc/tmp/\n/.mlops/\n');
  }
  await git.run(['add', '--all']);
  await git.run(['-c', 'commit.gpgsign=false', 'commit', '--quiet', '--no-verify', '--allow-empty', '-m', message], { env: IDENTITY });
  return (await git.run(['rev-parse', 'HEAD'])).stdout.trim();
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { badInput, UsageError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { checkBranchInput } from './branch.ts';
import { createGit, GitError, type Git } from './git.ts';

export type Operation = 'created' | 'updated' | 'unchanged';

export interface Identity {
  name: string;
  email: string;
}

export interface CommitMessage {
  title: string;
  body?: string;
  /** `Key: value` lines at the end of the message (`Model-Version`, `Source-Commit`, `Run-URL`). */
  trailers: Record<string, string | undefined>;
}

/** Applies the change to a clean checkout of the base. Called again on every retry, so it must be repeatable. */
export type Edit = (worktree: string) => Promise<void>;

export interface BranchPushSettings {
  /** `https://…`, `http://…` or `file://…` URL of the GitOps repository, with no credentials in it. */
  remoteUrl: string;
  token?: string;
  /** Branch the PR targets; the remote's default branch when omitted. */
  base?: string;
  /** Our branch, `mlops/<model>/<environment>` (see pullRequestBranch). */
  branch: string;
  edit: Edit;
  message: CommitMessage;
  author: Identity;
  /** Overwrite commits on our branch that someone else authored. */
  force?: boolean;
  /** Fetch-edit-push rounds before giving up when the base or our branch keeps moving. */
  maxAttempts?: number;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  gitPath?: string;
  /** Parent folder of the temporary clone (removed afterwards). */
  tempDir?: string;
}

export interface BranchPushResult {
  operation: Operation;
  branch: string;
  base: string;
  baseCommit: string;
  /** Tip of our branch after the run (undefined when the base already had the change and no branch exists). */
  commit: string | undefined;
  /** Files the edit changed relative to the base. */
  changedFiles: string[];
  /** True when the base already contains the change, so there is nothing to propose. */
  baseHasChange: boolean;
  attempts: number;
}

/** Thrown when our branch has commits by someone else and `force` is off. */
export class ForeignCommitsError extends UsageError {
  override name = 'ForeignCommitsError';
}

const SHA = /^[0-9a-f]{40}$/;

export function formatCommitMessage(message: CommitMessage): string {
  const title = message.title.replace(/\s+/g, ' ').trim();
  if (title === '') throw badInput('title', message.title, 'must not be empty');
  const trailers = Object.entries(message.trailers)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
    .map(([key, value]) => {
      if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(key)) throw new Error(`trailer key ${JSON.stringify(key)} is not a valid git trailer token`);
      return `${key}: ${value.replace(/\s+/g, ' ').trim()}`;
    });
  return [title, message.body?.trim(), trailers.join('\n')].filter((p) => p).join('\n\n') + '\n';
}

/**
 * The GitOps repository URL, checked before any git runs: no credentials in it and no query string or
 * fragment (where `?access_token=…` would hide). Refusals never echo the secret part: it would land in logs.
 */
export function checkRemoteUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badInput('repository', redactUrl(url), 'is not a URL: give owner/name, an https:// URL or a file:// URL');
  }
  if (!['https:', 'http:', 'file:'].includes(parsed.protocol)) {
    throw badInput('repository', redactUrl(url), 'must be an https://, http:// or file:// URL');
  }
  if (parsed.username || parsed.password) {
    throw badInput('repository', redactUrl(url), 'must not carry credentials: pass the token in the token input');
  }
  if (parsed.search || parsed.hash || url.includes('?') || url.includes('#')) {
    throw badInput('repository', redactUrl(url), 'must not have a query string or fragment (a token there would reach logs and git config): give the plain clone URL and pass the token in the token input');
  }
  return parsed;
}

/** A URL for a message: user info, query string and fragment replaced by `***`. */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@')
    .replace(/^[^/:?#]*@/, '***@')
    .replace(/\?[^#]*/, '?***')
    .replace(/#.*$/, '#***');
}

/**
 * Makes `branch` on the remote equal to base + one commit carrying the edit, pushing only that branch with
 * --force-with-lease. When the base or our branch moves underneath (a concurrent run), it fetches again,
 * re-applies the edit and retries, up to maxAttempts.
 */
export async function pushBranch(settings: BranchPushSettings): Promise<BranchPushResult> {
  checkRemoteUrl(settings.remoteUrl);
  checkBranchInput('branch', settings.branch);
  if (settings.base !== undefined) checkBranchInput('base', settings.base);
  const logger = settings.logger ?? silentLogger;
  const maxAttempts = settings.maxAttempts ?? 4;
  const message = formatCommitMessage(settings.message);
  const dir = await mkdtemp(join(settings.tempDir ?? tmpdir(), 'mlops-gitops-'));
  const git = createGit({ cwd: dir, env: settings.env, remoteUrl: settings.remoteUrl, token: settings.token, logger, gitPath: settings.gitPath });
  try {
    await git.run(['init', '--quiet']);
    await git.run(['remote', 'add', 'origin', settings.remoteUrl]);
    const base = settings.base ?? (await defaultBranch(git));
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const outcome = await attemptOnce(git, settings, base, message, logger);
      if (outcome.kind === 'done') return { ...outcome.result, attempts: attempt };
      logger.info(`${outcome.reason}; fetching again and re-applying the change (attempt ${attempt + 1} of ${maxAttempts})`);
    }
    throw new Error(`gave up after ${maxAttempts} attempts: ${base} or ${settings.branch} kept moving on ${settings.remoteUrl}`);
  } catch (error) {
    if (error instanceof GitError && AUTH_REFUSED.test(error.stderr)) throw tokenRefused(settings, error);
    if (error instanceof Error) error.message = git.redact(error.message);
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * What git prints when the server refuses the credentials: with prompts off, a 401 comes out as "could not read
 * Username", which sends people looking for a terminal problem.
 */
const AUTH_REFUSED = /could not read (Username|Password)|Authentication failed|requested URL returned error: 40[13]\b|HTTP 40[13]\b|Permission to .* denied/i;

function tokenRefused(settings: BranchPushSettings, error: GitError): UsageError {
  const origin = redactUrl(new URL(settings.remoteUrl).origin);
  const pushing = error.args.includes('push');
  if (!settings.token) {
    return new UsageError(`token: none was given, and ${origin} asks for credentials to ${pushing ? 'push to' : 'read'} ${redactUrl(settings.remoteUrl)}: pass a token that can read and push it (a GitHub App installation token with contents: write)`);
  }
  return new UsageError(
    `token: was refused by ${origin} when ${pushing ? 'pushing to' : 'reading'} ${redactUrl(settings.remoteUrl)} (${pushing ? 'it may read but not write' : 'it is wrong, expired or has no access to the repository'}): give a token with contents: write on that repository`,
  );
}

type Attempt = { kind: 'done'; result: Omit<BranchPushResult, 'attempts'> } | { kind: 'retry'; reason: string };

async function attemptOnce(git: Git, settings: BranchPushSettings, base: string, message: string, logger: Logger): Promise<Attempt> {
  const { branch } = settings;
  const remote = await lsRemote(git, [`refs/heads/${base}`, `refs/heads/${branch}`]);
  if (!remote.has(`refs/heads/${base}`)) throw badInput('base', base, `is not a branch of ${settings.remoteUrl}`);
  const refspecs = [`+refs/heads/${base}:refs/remotes/origin/${base}`];
  if (remote.has(`refs/heads/${branch}`)) refspecs.push(`+refs/heads/${branch}:refs/remotes/origin/${branch}`);
  const fetched = await git.run(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', 'origin', '--end-of-options', ...refspecs], { allowFailure: true });
  if (fetched.code !== 0) return { kind: 'retry', reason: `fetch failed (${lastLine(fetched.stderr)})` };
  const baseCommit = await revParse(git, `refs/remotes/origin/${base}`);
  const existing = remote.has(`refs/heads/${branch}`) ? await revParse(git, `refs/remotes/origin/${branch}`) : undefined;

  if (existing) await refuseForeignCommits(git, settings, baseCommit, existing);

  // A clean tree at the base, then the edit.
  await git.run(['checkout', '--quiet', '--force', '--detach', baseCommit]);
  await git.run(['clean', '--quiet', '-f', '-d', '-x']);
  await settings.edit(git.cwd);
  await git.run(['add', '--all']);
  const changedFiles = (await git.run(['diff', '--cached', '--name-only', '-z', '--end-of-options', baseCommit])).stdout.split('\0').filter(Boolean);

  if (changedFiles.length === 0) {
    logger.info(`${base} already has this change: nothing to propose`);
    return { kind: 'done', result: { operation: 'unchanged', branch, base, baseCommit, commit: existing, changedFiles, baseHasChange: true } };
  }
  const tree = (await git.run(['write-tree'])).stdout.trim();
  if (existing && (await treeOf(git, existing)) === tree && (await isAncestor(git, baseCommit, existing))) {
    logger.info(`${branch} already proposes this change on top of ${base}`);
    return { kind: 'done', result: { operation: 'unchanged', branch, base, baseCommit, commit: existing, changedFiles, baseHasChange: false } };
  }

  const identity = {
    GIT_AUTHOR_NAME: settings.author.name,
    GIT_AUTHOR_EMAIL: settings.author.email,
    GIT_COMMITTER_NAME: settings.author.name,
    GIT_COMMITTER_EMAIL: settings.author.email,
  };
  await git.run(['-c', 'commit.gpgsign=false', 'commit', '--quiet', '--no-verify', '--file=-'], { input: message, env: identity });
  const commit = await revParse(git, 'HEAD');

  // The base moved since we fetched: our commit would sit on a stale base, so start over.
  const now = await lsRemote(git, [`refs/heads/${base}`]);
  if (now.get(`refs/heads/${base}`) !== baseCommit) return { kind: 'retry', reason: `${base} moved while preparing the commit` };

  const pushed = await git.run(
    ['push', '--porcelain', '--quiet', '--no-verify', `--force-with-lease=refs/heads/${branch}:${existing ?? ''}`, 'origin', '--end-of-options', `${commit}:refs/heads/${branch}`],
    { allowFailure: true },
  );
  if (pushed.code !== 0) {
    const text = `${pushed.stdout}\n${pushed.stderr}`;
    if (/stale info|rejected|fetch first|non-fast-forward|cannot lock ref/.test(text)) {
      return { kind: 'retry', reason: `${branch} changed on the remote while pushing` };
    }
    throw new GitError(['push', 'origin', branch], pushed.code, pushed.stderr || pushed.stdout);
  }
  logger.info(`pushed ${commit.slice(0, 12)} to ${branch} (${changedFiles.length} file(s) changed from ${base})`);
  return { kind: 'done', result: { operation: existing ? 'updated' : 'created', branch, base, baseCommit, commit, changedFiles, baseHasChange: false } };
}

async function refuseForeignCommits(git: Git, settings: BranchPushSettings, baseCommit: string, tip: string): Promise<void> {
  const log = await git.run(['log', '--format=%H%x09%ae%x09%an', '--end-of-options', tip, `^${baseCommit}`]);
  const foreign = log.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'))
    .filter(([, email]) => email?.toLowerCase() !== settings.author.email.toLowerCase());
  if (foreign.length === 0) return;
  const [sha, email, name] = foreign[0] ?? [];
  const what = `${foreign.length} commit(s) by someone else (${sha?.slice(0, 12)} by ${name} <${email}>)`;
  if (settings.force) {
    settings.logger?.warning(`${settings.branch} has ${what}; overwriting because force is set`);
    return;
  }
  throw new ForeignCommitsError(
    `force: false but ${settings.branch} has ${what}: merge or close that pull request first, or set force: true to overwrite them`,
  );
}

async function defaultBranch(git: Git): Promise<string> {
  const out = (await git.run(['ls-remote', '--symref', 'origin', 'HEAD'])).stdout;
  const match = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(out);
  if (!match?.[1]) throw badInput('base', '', 'could not be found from the remote HEAD: set the base input');
  return checkBranchInput('base', match[1]);
}

async function lsRemote(git: Git, refs: string[]): Promise<Map<string, string>> {
  const out = (await git.run(['ls-remote', 'origin', '--end-of-options', ...refs])).stdout;
  const map = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [sha, ref] = line.split('\t');
    if (sha && ref && SHA.test(sha)) map.set(ref, sha);
  }
  return map;
}

async function revParse(git: Git, rev: string): Promise<string> {
  const sha = (await git.run(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`])).stdout.trim();
  if (!SHA.test(sha)) throw new Error(`cannot resolve ${rev}`);
  return sha;
}

async function treeOf(git: Git, commit: string): Promise<string> {
  return (await git.run(['rev-parse', '--verify', '--end-of-options', `${commit}^{tree}`])).stdout.trim();
}

async function isAncestor(git: Git, ancestor: string, descendant: string): Promise<boolean> {
  return (await git.run(['merge-base', '--is-ancestor', ancestor, descendant], { allowFailure: true })).code === 0;
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}

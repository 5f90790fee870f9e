import { spawn } from 'node:child_process';
import type { Logger } from '../log.ts';

/** A git failure: the command (never its environment), exit code and the last lines git printed. */
export class GitError extends Error {
  override name = 'GitError';
  readonly args: readonly string[];
  readonly code: number | null;
  readonly stderr: string;
  constructor(args: readonly string[], code: number | null, stderr: string) {
    const tail = stderr.trim().split('\n').slice(-5).join('\n');
    super(`git ${args.join(' ')} exited with ${code ?? 'a signal'}${tail ? `: ${tail}` : ''}`);
    this.args = args;
    this.code = code;
    this.stderr = stderr;
  }
}

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface GitOptions {
  /** Working tree the commands run in. */
  cwd: string;
  /** Base environment (process.env by default); auth and safety variables are added on top. */
  env?: NodeJS.ProcessEnv;
  /** Remote URL the token is for: the extraheader is scoped to its origin. */
  remoteUrl?: string;
  /** Sent as `AUTHORIZATION: basic base64(x-access-token:TOKEN)`, through the environment only. */
  token?: string;
  logger?: Logger;
  /** The git executable (`git` on PATH by default). */
  gitPath?: string;
}

export interface Git {
  readonly cwd: string;
  /** Runs git with `args`; throws GitError on a non-zero exit unless `allowFailure`. */
  run(args: string[], options?: { input?: string; allowFailure?: boolean; env?: NodeJS.ProcessEnv }): Promise<GitResult>;
  /** Replaces every occurrence of the token (plain or encoded) with `***`. */
  redact(text: string): string;
}

/** Variables that would make git print request headers (and so the token) or read stray config. */
const DROPPED_ENV = ['GIT_TRACE', 'GIT_TRACE_CURL', 'GIT_TRACE_PACKET', 'GIT_CURL_VERBOSE', 'GIT_TRACE2', 'GIT_TRACE2_EVENT', 'GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE'];

export function basicCredential(token: string): string {
  return Buffer.from(`x-access-token:${token}`).toString('base64');
}

/**
 * The `http.<origin>/.extraheader` entry as GIT_CONFIG_* variables: git reads them as command-line config,
 * so the token is never in argv, a URL or a config file. Existing GIT_CONFIG_COUNT entries are kept.
 */
export function authEnv(base: NodeJS.ProcessEnv, remoteUrl: string, token: string): NodeJS.ProcessEnv {
  const url = new URL(remoteUrl);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return {};
  const count = Number.parseInt(base.GIT_CONFIG_COUNT ?? '0', 10) || 0;
  return {
    GIT_CONFIG_COUNT: String(count + 1),
    [`GIT_CONFIG_KEY_${count}`]: `http.${url.origin}/.extraheader`,
    [`GIT_CONFIG_VALUE_${count}`]: `AUTHORIZATION: basic ${basicCredential(token)}`,
  };
}

export function createGit(options: GitOptions): Git {
  const { cwd, token, remoteUrl, logger } = options;
  const gitPath = options.gitPath ?? 'git';
  const base: NodeJS.ProcessEnv = { ...(options.env ?? process.env) };
  for (const name of DROPPED_ENV) delete base[name];
  const env: NodeJS.ProcessEnv = {
    ...base,
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GCM_INTERACTIVE: 'never',
    LC_ALL: 'C',
    ...(token && remoteUrl ? authEnv(base, remoteUrl, token) : {}),
  };
  const secrets = token ? [token, basicCredential(token)] : [];
  const redact = (text: string) => secrets.reduce((t, s) => t.split(s).join('***'), text);

  return {
    cwd,
    redact,
    run(args, runOptions = {}) {
      logger?.debug(`git ${args.join(' ')}`);
      return new Promise((resolve, reject) => {
        const child = spawn(gitPath, args, { cwd, env: { ...env, ...runOptions.env }, stdio: ['pipe', 'pipe', 'pipe'] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (b: Buffer) => out.push(b));
        child.stderr.on('data', (b: Buffer) => err.push(b));
        child.on('error', (error) => reject(new Error(`cannot run ${gitPath}: ${error.message}`)));
        child.on('close', (code) => {
          const result = { code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: redact(Buffer.concat(err).toString('utf8')) };
          if (code !== 0 && !runOptions.allowFailure) reject(new GitError(args, code, result.stderr));
          else resolve(result);
        });
        child.stdin.on('error', () => {});
        child.stdin.end(runOptions.input ?? '');
      });
    },
  };
}

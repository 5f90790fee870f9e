/** The pieces of run.json: what ran, where, on which data and code, and what it produced. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, posix, relative, sep } from 'node:path';
import { parse } from 'yaml';
import type { BackendName, ClusterPlacement } from './backends/types.ts';

export const RUN_SCHEMA = 'mlops-actions/run/v1';

export interface FileDigest {
  path: string;
  sha256: string;
  size: number;
}

export interface DataVersion {
  path: string;
  md5: string;
  /** The .dvc file it came from. */
  'dvc-file': string;
}

export interface Source {
  repository?: string;
  commit?: string;
  ref?: string;
  'run-url'?: string;
  leg: string;
}

export interface RunRecord {
  schema: typeof RUN_SCHEMA;
  model: string;
  leg: string;
  matrix: Record<string, unknown> | null;
  command: string[];
  shell: boolean;
  'working-directory': string;
  seed: number;
  'exit-code': number;
  started: string;
  ended: string;
  'duration-seconds': number;
  runtime: Record<string, string>;
  params: Record<string, unknown>;
  data: DataVersion[];
  source: Source;
  /** The metrics file, relative to the working directory (the gate follows this field). */
  metrics: string;
  outputs: { 'model-dir': string; files: FileDigest[] };
  /** Where the leg trained when not on the runner (absent: `local`), and on what. */
  backend?: Exclude<BackendName, 'local'>;
  cluster?: ClusterPlacement;
}

export function toPosix(path: string): string {
  return path.split(sep).join(posix.sep);
}

function versionOf(program: string, env: NodeJS.ProcessEnv, cwd: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(program, ['--version'], { env, cwd, timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) return resolve(undefined);
      // "Python 3.12.1" (stderr on old Pythons), "v24.1.0".
      const match = /(\d+\.\d+(?:\.\d+)?\S*)/.exec(`${stdout} ${stderr}`);
      resolve(match?.[1]);
    });
  });
}

/**
 * Runtime versions: `python3` and `node` from PATH, and the command's own interpreter when it is a
 * Python or Node binary (e.g. /usr/bin/python3), which is the one that actually ran.
 */
export async function detectRuntimes(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Record<string, string>> {
  const probes: [string, string][] = [
    ['python', 'python3'],
    ['node', 'node'],
  ];
  const program = argv[0] ?? '';
  const name = basename(program);
  if (/^python[\d.]*$/.test(name)) probes.push(['command', program]);
  else if (/^node(js)?$/.test(name)) probes.push(['command', program]);
  const found = await Promise.all(probes.map(async ([key, p]) => [key, await versionOf(p, env, cwd)] as const));
  const out: Record<string, string> = {};
  for (const [key, version] of found) if (version) out[key] = key === 'command' ? `${name} ${version}` : version;
  return out;
}

/** Hyperparameters the program used: params.yaml, else params.json, in the working directory (as DVC reads them). */
export function readParams(dir: string): { file?: string; params: Record<string, unknown> } {
  for (const file of ['params.yaml', 'params.yml', 'params.json']) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const value = parse(readFileSync(path, 'utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return { file, params: value as Record<string, unknown> };
    return { file, params: {} };
  }
  return { params: {} };
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.dvc', '.venv', 'venv', '__pycache__']);

/** Every `outs[]` entry of the `.dvc` files under `workspace` (paths relative to it, posix). */
export function readDataVersions(workspace: string, maxDepth = 6): DataVersion[] {
  const found: DataVersion[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (depth < maxDepth && !SKIP_DIRS.has(entry.name)) walk(path, depth + 1);
      } else if (entry.isFile() && entry.name.endsWith('.dvc')) {
        let doc: { outs?: { path?: unknown; md5?: unknown }[] } | undefined;
        try {
          doc = parse(readFileSync(path, 'utf8')) as typeof doc;
        } catch {
          continue; // Not ours to judge; the data action reports broken pointer files.
        }
        for (const out of doc?.outs ?? []) {
          if (typeof out?.path !== 'string' || typeof out.md5 !== 'string') continue;
          found.push({
            path: toPosix(relative(workspace, join(dirname(path), out.path))),
            md5: out.md5,
            'dvc-file': toPosix(relative(workspace, path)),
          });
        }
      }
    }
  };
  walk(workspace, 0);
  return found;
}

/** Commit, ref and run URL from the GitHub Actions environment (absent outside Actions). */
export function sourceFromEnv(env: NodeJS.ProcessEnv, leg: string): Source {
  const source: Source = { leg };
  if (env.GITHUB_REPOSITORY) source.repository = env.GITHUB_REPOSITORY;
  if (env.GITHUB_SHA) source.commit = env.GITHUB_SHA;
  if (env.GITHUB_REF) source.ref = env.GITHUB_REF;
  if (env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID) {
    const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
    const attempt = env.GITHUB_RUN_ATTEMPT ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : '';
    source['run-url'] = `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}${attempt}`;
  }
  return source;
}

/**
 * Outside GitHub Actions: the commit checked out where the program ran, and its branch, as git reports them
 * (nothing when the folder is not in a git repository with a commit, or git is not installed).
 */
export async function sourceFromGit(cwd: string, env: NodeJS.ProcessEnv): Promise<Pick<Source, 'commit' | 'ref'>> {
  const git = (args: string[]) =>
    new Promise<string | undefined>((resolve) => {
      execFile('git', args, { cwd, env, timeout: 10_000 }, (error, stdout) => resolve(error ? undefined : stdout.trim() || undefined));
    });
  const [commit, ref] = await Promise.all([git(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']), git(['symbolic-ref', '--quiet', 'HEAD'])]);
  if (!commit || !/^[0-9a-f]{40,64}$/.test(commit)) return {};
  return ref ? { commit, ref } : { commit };
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => hash.update(d))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Files under `dir`, recursively, sorted, as absolute paths (symlinks are not followed). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out.push(path);
    }
  };
  walk(dir);
  return out.sort();
}

export async function digests(files: string[], root: string): Promise<FileDigest[]> {
  return Promise.all(files.map(async (f) => ({ path: toPosix(relative(root, f)), sha256: await sha256File(f), size: statSync(f).size })));
}

/** `{runtime: python, version: "3.12"}` → `python-3.12`: the values in order, nested ones flattened. */
export function legFromMatrix(matrix: Record<string, unknown> | null): string | undefined {
  if (!matrix) return undefined;
  const parts: string[] = [];
  const add = (v: unknown) => {
    if (v === null || v === undefined || v === '') return;
    if (typeof v === 'object') Object.values(v as object).forEach(add);
    else parts.push(String(v));
  };
  add(matrix);
  return parts.length > 0 ? parts.join('-') : undefined;
}

/** Artifact names allow neither `"` `:` `<` `>` `|` `*` `?` `\` `/` nor control characters; keep a safe, readable subset. */
export function artifactName(model: string, leg: string): string {
  const clean = (s: string) =>
    s
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/-{2,}/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '');
  return `mlops-${clean(model) || 'model'}-${clean(leg) || 'default'}`;
}

/**
 * How the evaluate action gets onnxruntime-node, whose native binding cannot be inlined into a bundle.
 *
 * The bundle keeps `onnxruntime-node` external (scripts/build.ts). At run time:
 *  1. If `onnxruntime-node` resolves from this file's location (a repository checkout with `node_modules`,
 *     the CLI, the tests), that copy is used.
 *  2. Otherwise the version pinned in package.json (read at build time) is installed once per runner into
 *     `$RUNNER_TOOL_CACHE/mlops-actions-onnxruntime/<version>/<platform>-<arch>` with
 *     `npm install --prefix … onnxruntime-node@<version>` (argv, no shell; ONNXRUNTIME_NODE_INSTALL=skip so
 *     its postinstall does not fetch CUDA files — the CPU binaries ship in the package). The install goes to
 *     a temporary folder that is renamed into place, so a killed or concurrent install never leaves a half
 *     copy. Self-hosted runners keep the tool cache between jobs; hosted runners reinstall (~10 s).
 *  3. The copy is loaded with `createRequire`, like any CommonJS package.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import type { Logger } from '../log.ts';

export type OnnxRuntime = typeof Ort;

/**
 * The exact onnxruntime-node version this build was made and tested with: package.json pins the same one
 * (a unit test checks). A constant rather than an import of package.json, which would put the whole file
 * into every bundle that scores a model.
 */
export const ONNXRUNTIME_VERSION = '1.30.0';
const PACKAGE = 'onnxruntime-node';

export interface LoadOptions {
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** Where resolution starts; defaults to this module (the bundle on a runner). */
  from?: string;
  /** Root of the cache; defaults to $RUNNER_TOOL_CACHE, else <tmp>/mlops-actions-tool-cache. */
  toolCache?: string;
  version?: string;
  /** Extra `npm install` arguments (tests pass a local tarball registry or `--offline`). */
  npmArgs?: string[];
  /** Package spec to install instead of `onnxruntime-node@<version>` (e.g. a tarball made with `npm pack`). */
  installSpec?: string;
}

export function cacheDir(options: Pick<LoadOptions, 'env' | 'toolCache' | 'version'>): string {
  const root = options.toolCache ?? (options.env ?? process.env).RUNNER_TOOL_CACHE ?? join(tmpdir(), 'mlops-actions-tool-cache');
  return join(root, 'mlops-actions-onnxruntime', options.version ?? ONNXRUNTIME_VERSION, `${process.platform}-${process.arch}`);
}

function resolveFrom(from: string): string | undefined {
  try {
    return createRequire(from).resolve(PACKAGE);
  } catch {
    return undefined;
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Installs onnxruntime-node into the tool cache if it is not there yet; returns the cache folder. */
export async function ensureInstalled(options: LoadOptions): Promise<string> {
  const version = options.version ?? ONNXRUNTIME_VERSION;
  const dir = cacheDir(options);
  const marker = join(dir, 'node_modules', PACKAGE, 'package.json');
  if (existsSync(marker)) return dir;
  const staging = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(staging, { recursive: true });
  options.logger.info(`Installing ${PACKAGE}@${version} into ${dir} (first use on this runner)`);
  const env = { ...(options.env ?? process.env), ONNXRUNTIME_NODE_INSTALL: 'skip' };
  const args = [
    'install',
    '--prefix',
    staging,
    '--no-save',
    '--no-package-lock',
    '--no-audit',
    '--no-fund',
    '--omit=dev',
    ...(options.npmArgs ?? []),
    options.installSpec ?? `${PACKAGE}@${version}`,
  ];
  try {
    const result = await run('npm', args, env);
    if (result.code !== 0) throw new Error(`npm ${args.join(' ')} exited with ${result.code}:\n${result.output.trim().split('\n').slice(-10).join('\n')}`);
    const installed = JSON.parse(readFileSync(join(staging, 'node_modules', PACKAGE, 'package.json'), 'utf8')) as { version: string };
    if (installed.version !== version) throw new Error(`npm installed ${PACKAGE}@${installed.version}, expected ${version}`);
    try {
      renameSync(staging, dir);
    } catch (error) {
      // Another job finished the same install first: theirs is complete, use it.
      if (!existsSync(marker)) throw error;
    }
  } catch (error) {
    throw new Error(`could not install ${PACKAGE}@${version} into the tool cache: ${(error as Error).message}`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return dir;
}

/** Where onnxruntime-node will come from, without installing: the entry file or undefined. */
export function locate(options: Pick<LoadOptions, 'from' | 'env' | 'toolCache' | 'version'> = {}): string | undefined {
  return resolveFrom(options.from ?? import.meta.url) ?? resolveFrom(join(cacheDir(options), 'package.json'));
}

export async function loadOnnxRuntime(options: LoadOptions): Promise<{ ort: OnnxRuntime; path: string }> {
  let path = resolveFrom(options.from ?? import.meta.url);
  if (!path) {
    const dir = await ensureInstalled(options);
    path = resolveFrom(join(dir, 'package.json'));
    if (!path) throw new Error(`${PACKAGE} was installed into ${dir} but cannot be resolved there`);
  }
  options.logger.debug(`onnxruntime-node from ${path}`);
  // onnxruntime 1.30 sends usage telemetry and leaves session files in the temporary folder unless told not
  // to (it only turns itself off under CI): a tool that scores a team's models must not phone home.
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  const ort = createRequire(path)(path) as OnnxRuntime;
  return { ort, path };
}

// The npm package as a user gets it: `npm pack` of this repository (prepack builds dist/cli/), then
// `npm install -g --prefix <folder>` of the tarball, and `mlops` run from that prefix's bin/ in folders under
// the system's temporary folder, where nothing of this repository (its node_modules, src/) can be resolved.
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../../helpers/tmp.ts';

export const ROOT = join(import.meta.dirname, '../../..');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeout?: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { ...options, maxBuffer: 64 << 20, timeout: options.timeout ?? 300_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** This process's environment without what npm, vitest or Node options would pass on to a user's shell. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|VITEST|NODE_OPTIONS$|NODE_PATH$|INIT_CWD$)/i.test(k)));
}

export interface PackedCli {
  tarball: string;
  /** Paths inside the package (`package/` stripped), as `npm pack --json` lists them. */
  files: string[];
  /** Compressed size in bytes. */
  size: number;
}

/**
 * `npm pack` of the repository into `dest`. prepack rebuilds dist/cli/ in the checkout, so test files that
 * pack at the same time take turns (a lock folder in the suite's temporary folder).
 */
export async function packCli(dest: string): Promise<PackedCli> {
  const lock = join(tmpdir(), 'mlops-cli-pack.lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (Date.now() > deadline) throw new Error(`${lock} is still held after 3 minutes: another test's npm pack hung`);
      await sleep(250);
    }
  }
  try {
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dest], { cwd: ROOT, env: cleanEnv() });
    if (packed.code !== 0) throw new Error(`npm pack exited with ${packed.code}:\n${packed.stderr}`);
    const [info] = JSON.parse(packed.stdout) as { filename: string; size: number; files: { path: string }[] }[];
    if (!info) throw new Error(`npm pack printed no package: ${packed.stdout}`);
    const tarball = join(dest, info.filename);
    return { tarball, files: info.files.map((f) => f.path).sort(), size: statSync(tarball).size };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface InstalledCli {
  /** The global prefix: bin/mlops and lib/node_modules/mlops-actions. */
  prefix: string;
  packageDir: string;
  /** Runs `mlops …` (or any program, with `mlops` first on PATH) in `cwd`, with a fresh HOME. */
  mlops(args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Run>;
  exec(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Run>;
}

/** `npm install -g --prefix` of the tarball, as the README says (ONNXRUNTIME_NODE_INSTALL=skip: no nuget.org here). */
export async function installCli(tarball: string): Promise<InstalledCli> {
  const prefix = tempDir('cli-prefix');
  const installed = await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--no-update-notifier', tarball], {
    cwd: dirname(tarball),
    env: { ...cleanEnv(), ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  if (installed.code !== 0) throw new Error(`npm install -g exited with ${installed.code}:\n${installed.stderr}`);
  const home = tempDir('cli-home');
  const userEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    PATH: [join(prefix, 'bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
    HOME: home,
    LANG: 'C.UTF-8',
    ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
    ...(process.env.ORT_DISABLE_TELEMETRY ? { ORT_DISABLE_TELEMETRY: process.env.ORT_DISABLE_TELEMETRY } : {}),
    ...extra,
  });
  const exec = (command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv) => run(command, args, { cwd, env: userEnv(env) });
  return {
    prefix,
    packageDir: join(prefix, 'lib', 'node_modules', 'mlops-actions'),
    exec,
    mlops: (args, cwd, env) => exec(join(prefix, 'bin', 'mlops'), args, cwd, env),
  };
}

import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { z } from 'zod';
import { badInput } from '../errors.ts';
import type { Logger } from '../log.ts';
import { LocalRemote } from '../storage/local-remote.ts';
import { openRemote } from '../storage/open-remote.ts';
import type { Remote } from '../storage/remote.ts';
import { addTargets } from './add.ts';
import { remoteFromConfig, type RemoteConfig } from './config.ts';
import type { Progress } from './progress.ts';
import { pullOutputs } from './pull.ts';
import { pushOutputs } from './push.ts';
import { statusOfOutputs, type StatusResult } from './status.ts';
import { isInside, isReservedName } from './paths.ts';
import { trackedOutputs, type Tracked } from './tracked.ts';
import { findRoot, Workspace } from './workspace.ts';

export const DATA_COMMANDS = ['add', 'push', 'pull', 'status'] as const;
export type DataCommand = (typeof DATA_COMMANDS)[number];

/** The same settings for the CLI (`mlops data …`) and the action (`actions/data`). */
export interface DataSettings {
  command: DataCommand;
  targets: string[];
  /** A remote URL (`s3://bucket/prefix`, a directory) or the name of a remote in `.dvc/config`. */
  remote?: string;
  endpoint?: string;
  jobs: number;
  allowEmpty: boolean;
  /** pull: overwrite or delete workspace files whose changes are not in the cache (as `dvc pull --force`). */
  force?: boolean;
  cwd: string;
}

export interface DataResult {
  command: DataCommand;
  root: string;
  remote?: string;
  outputs: { path: string; md5: string }[];
  /** Objects uploaded (push) or downloaded (pull). */
  transferred: number;
  skipped: number;
  /** Objects that could not be found where they had to be (see the command). */
  missing: string[];
  status?: StatusResult;
}

export const JobsSchema = z.coerce.number().int().min(1).max(256);

export function parseJobs(value: unknown, input = 'jobs'): number {
  const parsed = JobsSchema.safeParse(value);
  if (!parsed.success) throw badInput(input, value, 'is not a whole number from 1 to 256 (parallel transfers)');
  return parsed.data;
}

export function parseCommand(value: unknown, input = 'command'): DataCommand {
  if (!DATA_COMMANDS.includes(value as DataCommand)) throw badInput(input, value ?? '', `must be one of ${DATA_COMMANDS.join(', ')}`);
  return value as DataCommand;
}

/** Picks the remote: `--remote` (a URL, a path, or a name in `.dvc/config`), else `[core] remote`. */
export async function resolveRemote(root: string, settings: DataSettings): Promise<Remote | undefined> {
  const given = settings.remote;
  let configured: RemoteConfig | undefined;
  if (given === undefined) configured = await remoteFromConfig(root);
  // A bare word may name a configured remote; if none has that name, it is a directory like any other path.
  else if (/^[A-Za-z0-9_-]+$/.test(given)) configured = await remoteFromConfig(root, given).catch(() => undefined);
  const url = configured?.url ?? given;
  if (url === undefined) return undefined;
  const endpoint = settings.endpoint ?? configured?.endpoint;
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
    throw badInput('endpoint', endpoint, 'is not an http(s) URL: give e.g. https://s3.example.com or http://127.0.0.1:7480');
  }
  return openRemote(url, { cwd: settings.cwd, maxSockets: Math.max(settings.jobs, 16), ...(endpoint ? { endpoint } : {}) });
}

/**
 * A directory remote must not be inside the data it stores (a push would change the data, the next add would
 * track the remote, a pull would delete it) nor inside `.git` (a push would write into the repository).
 * Compared through symlinks.
 */
function assertRemoteOutsideData(root: string, url: string, tracked: Tracked[]): void {
  const realRoot = realpathSync(root);
  const remote = realOrDeepestParent(url);
  if (!isInside(realRoot, remote)) return;
  // Inside `.git` (or `.hg`) a push would write into the repository; `.dvc` holds only DVC's own files.
  const reserved = relative(realRoot, remote).split(sep).find((s) => isReservedName(s) && s !== '.dvc');
  if (reserved !== undefined) {
    throw badInput('remote', url, `is inside ${JSON.stringify(reserved)}, the repository's or DVC's own folder: put the remote outside the repository`);
  }
  for (const t of tracked) {
    if (isInside(realOrDeepestParent(join(root, t.rel)), remote)) {
      throw badInput('remote', url, `is inside the tracked data ${JSON.stringify(t.rel)}: put the remote outside the data (e.g. beside the repository)`);
    }
  }
}

/** The real path of `path`, or of its deepest existing ancestor joined with the rest. */
function realOrDeepestParent(path: string): string {
  let probe = path;
  const rest: string[] = [];
  while (!existsSync(probe) && dirname(probe) !== probe) {
    rest.unshift(basename(probe));
    probe = dirname(probe);
  }
  return join(realpathSync(probe), ...rest);
}

export async function runData(settings: DataSettings, deps: { logger: Logger; progress?: Progress }): Promise<DataResult> {
  const root = findRoot(settings.cwd);
  const ws = await Workspace.open(root, { logger: deps.logger, ...(deps.progress ? { progress: deps.progress } : {}) });
  let remote: Remote | undefined;
  try {
    const result: DataResult = { command: settings.command, root, outputs: [], transferred: 0, skipped: 0, missing: [] };
    if (settings.command === 'add') {
      const added = await addTargets(ws, settings.cwd, settings.targets, { allowEmpty: settings.allowEmpty });
      result.outputs = added.map((a) => ({ path: a.path, md5: a.md5 }));
      return result;
    }
    const tracked = await trackedOutputs(root, settings.cwd, settings.targets);
    remote = await resolveRemote(root, settings);
    if (remote) result.remote = remote.url;
    if (remote instanceof LocalRemote) assertRemoteOutsideData(root, remote.url, tracked);
    if (settings.command === 'status') {
      result.status = await statusOfOutputs(ws, remote, tracked, settings.jobs);
      result.outputs = result.status.outputs.map((o) => ({ path: o.path, md5: o.md5 }));
      result.missing = [...result.status.missing.remote];
      return result;
    }
    if (!remote) {
      throw badInput('remote', '', 'is not set: pass --remote s3://bucket/prefix (or a directory), or set `[core] remote` in .dvc/config');
    }
    if (tracked.length === 0) deps.logger.warning('no .dvc files found: nothing to do');
    const transfer = settings.command === 'push'
      ? await pushOutputs(ws, remote, tracked, settings.jobs)
      : await pullOutputs(ws, remote, tracked, settings.jobs, settings.force === true);
    return { ...result, ...transfer };
  } finally {
    await ws.close();
    await remote?.close();
  }
}

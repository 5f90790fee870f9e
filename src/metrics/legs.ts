import { glob, lstat, readdir, readFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.ts';
import { refuseSymlinks } from '../fs/no-symlinks.ts';
import { hasControlCharacters, logValue } from '../github/escape.ts';
import type { Metrics } from './parse.ts';
import { readMetricsFile } from './read.ts';
import { describeJsonError } from './yaml-error.ts';

/** One matrix leg's metrics: `name` is what the report and the `best-leg` output show. */
export interface Leg {
  name: string;
  /** The metrics file, relative to cwd when inside it. */
  file: string;
  metrics: Metrics;
}

/** Files a leg folder may hold, in order of preference. */
export const METRICS_FILE_NAMES = ['metrics.json', 'metrics.yaml', 'metrics.yml'] as const;

/** The part of the train action's run.json the gate reads. */
const RunJson = z.looseObject({
  leg: z.string().min(1).optional(),
  metrics: z.string().min(1).optional(),
});

const LABELLED = /^([A-Za-z0-9][\w.+-]*)=(.+)$/;
const GLOB_CHARS = /[*?[\]{}]/;

interface Found {
  name: string;
  file: string;
}

/**
 * Turns the `metrics` input into legs. Each entry is one of:
 * - a metrics file (leg = its folder's name when the file is `metrics.*` or `run.json`, else the file's stem);
 * - a leg folder holding `metrics.json|yaml|yml`, or a `run.json` whose `metrics` field names the file;
 * - a folder of leg folders (downloaded artifacts), one leg per sub-folder, leg = its run.json `leg`, else the sub-folder name;
 * - a glob of any of those;
 * - `name=path` to name the leg yourself.
 */
export async function discoverLegs(entries: readonly string[], cwd: string): Promise<Leg[]> {
  if (entries.length === 0) throw new UsageError('metrics: nothing given; pass a metrics file, a folder of leg folders, or a glob');
  const found: Found[] = [];
  for (const entry of entries) {
    const labelled = LABELLED.exec(entry);
    if (labelled && !(await exists(resolve(cwd, entry)))) {
      const [, name, path] = labelled as unknown as [string, string, string];
      const legs = await fromPath(resolve(cwd, path), entry, cwd);
      if (legs.length !== 1) throw new UsageError(`metrics: ${JSON.stringify(entry)} names one leg but holds ${legs.length}; name a single file or leg folder`);
      found.push({ name, file: legs[0]!.file });
    } else if (GLOB_CHARS.test(entry) && !(await exists(resolve(cwd, entry)))) {
      const matches: string[] = [];
      for await (const match of glob(entry, { cwd })) matches.push(match);
      if (matches.length === 0) throw new UsageError(`metrics: the glob ${JSON.stringify(entry)} matches nothing under ${cwd}; check the pattern`);
      for (const match of matches.sort()) found.push(...(await fromPath(resolve(cwd, match), match, cwd)));
    } else {
      found.push(...(await fromPath(resolve(cwd, entry), entry, cwd)));
    }
  }
  for (const leg of found) checkLegName(leg);
  const byName = new Map<string, string>();
  for (const leg of found) {
    const other = byName.get(leg.name);
    if (other !== undefined && other !== leg.file) {
      throw new UsageError(`metrics: two legs are named "${leg.name}" (${display(other, cwd)} and ${display(leg.file, cwd)}); give each leg its own folder or use name=path`);
    }
    byName.set(leg.name, leg.file);
  }
  const unique = [...byName].map(([name, file]) => ({ name, file }));
  return Promise.all(
    unique.map(async ({ name, file }) => {
      const shown = display(file, cwd);
      return { name, file: shown, metrics: await readMetricsFile(file, shown) };
    }),
  );
}

/**
 * Legs are read without following symlinks: a leg folder is often written by code under review (a pull
 * request's training program), and a link there would make the gate read, and quote, a file elsewhere.
 */
async function fromPath(path: string, entry: string, cwd: string): Promise<Found[]> {
  await refuseSymlinks(cwd, path, 'metrics', entry);
  const info = await lstat(path).catch(() => undefined);
  if (!info) throw new UsageError(`metrics: ${JSON.stringify(entry)} does not exist; give a metrics file, a leg folder or a folder of leg folders`);
  if (info.isFile()) {
    const base = basename(path);
    if (base === 'run.json') return [await fromRunJson(path)];
    const stem = (METRICS_FILE_NAMES as readonly string[]).includes(base) ? basename(dirname(path)) : basename(base, extname(base));
    return [{ name: stem, file: path }];
  }
  if (!info.isDirectory()) throw new UsageError(`metrics: ${JSON.stringify(entry)} is neither a file nor a folder`);
  const own = await legInFolder(path);
  if (own) return [own];
  const entries = await readdir(path, { withFileTypes: true });
  const link = entries.find((d) => d.isSymbolicLink());
  if (link) throw symlinkRefused(join(entry, link.name));
  const children = entries.filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const legs: Found[] = [];
  for (const child of children) {
    const leg = await legInFolder(join(path, child));
    if (!leg) {
      throw new UsageError(
        `metrics: the leg folder ${JSON.stringify(join(entry, child))} has no ${METRICS_FILE_NAMES.join('|')} or run.json; every sub-folder is one leg, so download only the legs' artifacts there`,
      );
    }
    legs.push(leg);
  }
  if (legs.length === 0) throw new UsageError(`metrics: the folder ${JSON.stringify(entry)} holds no metrics file and no leg folders`);
  return legs;
}

function symlinkRefused(shown: string): UsageError {
  return new UsageError(`metrics: ${JSON.stringify(shown)} is a symbolic link, which the gate does not follow; copy the real files into the leg folder`);
}

/** Leg names reach log lines, the best-leg output and Markdown: no control characters (a newline could forge a workflow command). */
function checkLegName(leg: Found): void {
  if (leg.name === '' || hasControlCharacters(leg.name)) {
    throw new UsageError(`metrics: the leg of ${JSON.stringify(leg.file)} is named ${JSON.stringify(logValue(leg.name))}, which has control characters or is empty; name legs with printable characters (run.json "leg", the folder name, or name=path)`);
  }
}

/**
 * A leg folder is named by its run.json's `leg` when it has one: downloaded artifact folders are named
 * after the artifact (`mlops-churn-node-24`), and `best-leg` must be the leg itself (`node-24`).
 * Its metrics are `metrics.*` (evaluate's independent numbers) before the file run.json names.
 */
async function legInFolder(dir: string): Promise<Found | undefined> {
  const runPath = join(dir, 'run.json');
  const run = (await isFile(runPath)) ? await readRunJson(runPath) : undefined;
  const name = run?.leg ?? basename(dir);
  for (const file of METRICS_FILE_NAMES) {
    if (await isFile(join(dir, file))) return { name, file: join(dir, file) };
  }
  return run && { name, file: await runMetricsFile(runPath, run) };
}

async function fromRunJson(path: string): Promise<Found> {
  const run = await readRunJson(path);
  return { name: run.leg ?? basename(dirname(path)), file: await runMetricsFile(path, run) };
}

async function readRunJson(path: string): Promise<z.infer<typeof RunJson>> {
  const text = await readFile(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path}: ${describeJsonError(error, text)}; fix or remove run.json`);
  }
  const run = RunJson.safeParse(parsed);
  if (!run.success) throw new UsageError(`${path}: "leg" and "metrics" must be non-empty strings; write it with the train action`);
  return run.data;
}

async function runMetricsFile(path: string, run: z.infer<typeof RunJson>): Promise<string> {
  if (!run.metrics) throw new UsageError(`${path}: has no "metrics" field naming the metrics file; write it with the train action or put metrics.json beside it`);
  const dir = dirname(path);
  const file = resolve(dir, run.metrics);
  const rel = relative(dir, file);
  if (isAbsolute(run.metrics) || rel.startsWith('..')) {
    throw new UsageError(`${path}: "metrics": ${JSON.stringify(run.metrics)} points outside the leg folder; use a path inside it`);
  }
  await refuseSymlinks(dir, file, 'metrics', `${path}: "metrics": ${run.metrics}`);
  return file;
}

function display(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}

/** A regular file; a symlink in its place is refused, never followed. */
async function isFile(path: string): Promise<boolean> {
  const info = await lstat(path).catch(() => undefined);
  if (info?.isSymbolicLink()) throw symlinkRefused(path);
  return info?.isFile() ?? false;
}

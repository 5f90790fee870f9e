import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { UsageError, badInput } from '../errors.ts';
import { describeYamlError } from '../metrics/yaml-error.ts';

/** A hyperparameter value a leg receives. */
export type Scalar = string | number | boolean;

export type Distribution =
  | { kind: 'uniform' | 'log-uniform'; low: number; high: number }
  | { kind: 'choice'; values: Scalar[] };

/** Where a parameter sits in the params object: `['train', 'C']` is `{train: {C: …}}`. */
export type ParamPath = readonly string[];

export interface GridDimension {
  path: ParamPath;
  /** In the order written; a scalar in the file is a list of one (a fixed value). */
  values: Scalar[];
}

export interface RandomDimension {
  path: ParamPath;
  distribution: Distribution;
}

/**
 * A search space, as written in `.mlops/sweep.yml` (or inline):
 *
 * ```yaml
 * seed: 7            # random search: reproducible from this seed
 * count: 8           # random points (per grid point when there is also a grid)
 * grid:              # every combination, last key varying fastest
 *   optimizer: [adam, sgd]
 *   train: { epochs: 10 }                   # a scalar is a fixed value; nested keys as in params.yaml
 * random:
 *   lr: { log-uniform: [1.0e-4, 1.0e-1] }
 *   dropout: { uniform: [0.0, 0.5] }
 *   layers: { choice: [2, 3, 4] }
 * ```
 */
export interface SearchSpace {
  grid: GridDimension[];
  random: RandomDimension[];
  seed?: number;
  count?: number;
}

export const MAX_LEGS = 256;
const TOP_KEYS = ['seed', 'count', 'grid', 'random'] as const;
const DISTRIBUTIONS = ['uniform', 'log-uniform', 'choice'] as const;
const KEY = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
const MAX_STRING = 200;

/** Reads a search space from a file, or from the text itself when it looks like YAML. */
export async function loadSpace(input: string, cwd: string): Promise<SearchSpace> {
  if (input.trim() === '') throw new UsageError('space: "" is empty: give a search-space file such as .mlops/sweep.yml, or inline YAML');
  if (input.includes('\n') || /:(\s|$)/.test(input) || input.trimStart().startsWith('{')) return parseSpace(input, 'space (inline YAML)');
  let text: string;
  try {
    text = await readFile(resolve(cwd, input), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`space: ${JSON.stringify(input)} does not exist; create it (grid: and/or random:) or pass inline YAML`);
    throw error;
  }
  return parseSpace(text, input);
}

export function parseSpace(text: string, file: string): SearchSpace {
  const doc = parseDocument(text, { uniqueKeys: true });
  const first = doc.errors[0];
  if (first) throw new UsageError(`${describeYamlError(first, text, file)}; fix the file`);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch {
    throw new UsageError(`${file}: expands too many YAML aliases; write the values out`);
  }
  const fail = (key: string, message: string) => new UsageError(`${file}: key "${key}" ${message}`);
  if (!isObject(raw)) throw new UsageError(`${file}: a search space is a mapping with grid: and/or random: (and seed:, count: for random search)`);
  for (const key of Object.keys(raw)) {
    if (!(TOP_KEYS as readonly string[]).includes(key)) throw fail(key, `is not a known key (known: ${TOP_KEYS.join(', ')})`);
  }
  const space: SearchSpace = { grid: [], random: [] };
  if (raw.grid !== undefined) {
    if (!isObject(raw.grid) || Object.keys(raw.grid).length === 0) throw fail('grid', 'must map parameter names to lists of values, e.g. grid: { C: [0.1, 1, 10] }');
    walkGrid(raw.grid, [], space, fail);
  }
  if (raw.random !== undefined) {
    if (!isObject(raw.random) || Object.keys(raw.random).length === 0) throw fail('random', 'must map parameter names to distributions, e.g. random: { lr: { log-uniform: [0.0001, 0.1] } }');
    walkRandom(raw.random, [], space, fail);
  }
  if (space.grid.length === 0 && space.random.length === 0) throw new UsageError(`${file}: has neither grid: nor random:; give at least one parameter to sweep`);
  if (raw.seed !== undefined) space.seed = checkSeed(raw.seed, (m) => fail('seed', m));
  if (raw.count !== undefined) space.count = checkCount(raw.count, (m) => fail('count', m));
  checkPaths(space, fail);
  return space;
}

type Fail = (key: string, message: string) => UsageError;

function walkGrid(node: Record<string, unknown>, at: string[], space: SearchSpace, fail: Fail): void {
  for (const [key, value] of Object.entries(node)) {
    const path = [...at, checkKey(key, at, fail)];
    const name = `grid.${path.join('.')}`;
    if (Array.isArray(value)) {
      if (value.length === 0) throw fail(name, 'is an empty list: give at least one value');
      const values = value.map((v, i) => scalar(v, `${name}[${i}]`, fail));
      const seen = new Set<string>();
      for (const v of values) {
        const id = JSON.stringify(v);
        if (seen.has(id)) throw fail(name, `lists ${id} twice: every grid value must be different`);
        seen.add(id);
      }
      space.grid.push({ path, values });
    } else if (isObject(value)) {
      if (Object.keys(value).length === 0) throw fail(name, 'is an empty mapping: give values or remove it');
      if (Object.keys(value).some((k) => (DISTRIBUTIONS as readonly string[]).includes(k))) {
        throw fail(name, 'is a distribution, which belongs under random: (grid: takes lists of values)');
      }
      walkGrid(value, path, space, fail);
    } else {
      space.grid.push({ path, values: [scalar(value, name, fail)] });
    }
  }
}

function walkRandom(node: Record<string, unknown>, at: string[], space: SearchSpace, fail: Fail): void {
  for (const [key, value] of Object.entries(node)) {
    const path = [...at, checkKey(key, at, fail)];
    const name = `random.${path.join('.')}`;
    if (Array.isArray(value)) throw fail(name, 'is a list: write { choice: [...] } to draw from it, or move it under grid: to try every value');
    if (!isObject(value)) {
      space.grid.push({ path, values: [scalar(value, name, fail)] }); // a fixed value
      continue;
    }
    const keys = Object.keys(value);
    const kinds = keys.filter((k) => (DISTRIBUTIONS as readonly string[]).includes(k));
    if (kinds.length === 0) {
      if (keys.length === 0) throw fail(name, 'is an empty mapping: give a distribution or remove it');
      walkRandom(value, path, space, fail);
      continue;
    }
    if (keys.length !== 1) throw fail(name, `must hold exactly one of ${DISTRIBUTIONS.join(', ')} (found ${keys.join(', ')})`);
    space.random.push({ path, distribution: distribution(kinds[0] as (typeof DISTRIBUTIONS)[number], value[kinds[0] as string], `${name}.${kinds[0]}`, fail) });
  }
}

function distribution(kind: (typeof DISTRIBUTIONS)[number], value: unknown, name: string, fail: Fail): Distribution {
  if (kind === 'choice') {
    if (!Array.isArray(value) || value.length === 0) throw fail(name, 'must be a non-empty list of values, e.g. choice: [adam, sgd]');
    return { kind, values: value.map((v, i) => scalar(v, `${name}[${i}]`, fail)) };
  }
  const [low, high] = Array.isArray(value) ? value : [];
  if (!Array.isArray(value) || value.length !== 2 || typeof low !== 'number' || typeof high !== 'number' || !Number.isFinite(low) || !Number.isFinite(high)) {
    throw fail(name, `has value ${JSON.stringify(value)}: give [low, high] as two finite numbers, e.g. ${kind}: [0.001, 0.1]`);
  }
  if (!(low < high)) throw fail(name, `has low ${low} not below high ${high}: give [low, high] with low < high`);
  if (kind === 'log-uniform' && !(low > 0)) throw fail(name, `has low ${low}: a log-uniform range must be above 0`);
  return { kind, low, high };
}

function scalar(value: unknown, name: string, fail: Fail): Scalar {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw fail(name, `has value ${value}: numbers must be finite`);
    return value;
  }
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    if (value.length > MAX_STRING) throw fail(name, `is a string of ${value.length} characters: at most ${MAX_STRING}`);
    return value;
  }
  throw fail(name, `has value ${JSON.stringify(value) ?? String(value)}: a parameter value is a number, a string or a boolean`);
}

function checkKey(key: string, at: string[], fail: Fail): string {
  if (!KEY.test(key)) throw fail([...at, key].join('.'), 'is not a valid parameter name: use letters, digits, _ and - (nest with a mapping, not a dot)');
  return key;
}

/** No parameter may be given twice, or be both a value and a group (`a` and `a.b`). */
function checkPaths(space: SearchSpace, fail: Fail): void {
  const paths = [...space.grid.map((d) => d.path), ...space.random.map((d) => d.path)].map((p) => p.join('.'));
  const sorted = [...paths].sort();
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1] as string, sorted[i] as string];
    if (a === b) throw fail(a, 'is given under both grid: and random: (or twice); keep one');
    if (b.startsWith(`${a}.`)) throw fail(a, `is both a value and the group holding ${b}; keep one`);
  }
}

export function checkSeed(value: unknown, fail: (message: string) => UsageError): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw fail(`has value ${JSON.stringify(value)}: the seed must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
  return value;
}

export function checkCount(value: unknown, fail: (message: string) => UsageError): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_LEGS) throw fail(`has value ${JSON.stringify(value)}: the count of random points must be a whole number from 1 to ${MAX_LEGS}`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `seed` or `count` option/input (text), checked like the space's own key; undefined when empty. */
export function wholeNumber(name: 'seed' | 'count', text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  return (name === 'seed' ? checkSeed : checkCount)(value, (message) => badInput(name, text, message.replace(/^has value \S+: /, '')));
}

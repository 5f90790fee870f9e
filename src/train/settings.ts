import { basename, resolve } from 'node:path';
import { badInput } from '../errors.ts';
import { parseCommand } from './command-line.ts';
import { parseParams } from './params.ts';
import { legFromMatrix } from './record.ts';
import type { TrainSettings } from './train.ts';

/** Raw option/input strings, the same names in the CLI and the action. */
export interface RawTrainOptions {
  /** One line or a YAML list (action); the CLI passes `argv` instead. */
  command?: string;
  argv?: string[];
  shell?: boolean;
  'working-directory'?: string;
  'model-dir'?: string;
  metrics?: string;
  'run-json'?: string;
  model?: string;
  leg?: string;
  matrix?: string;
  seed?: string;
  timeout?: string;
  /** JSON object of hyperparameters (a sweep point). */
  params?: string;
}

export const TRAIN_DEFAULTS = { modelDir: 'model', metrics: 'metrics.json', runJson: 'run.json', seed: 42, timeout: '60m' } as const;

/** `90s`, `30m`, `2h`, or a bare number of minutes (like a step's timeout-minutes). */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim());
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  const ms = match ? Number(match[1]) * unit[(match[2] ?? 'm') as keyof typeof unit] : Number.NaN;
  if (!(ms > 0) || ms > 72 * 3_600_000) throw badInput('timeout', text, 'must be a duration like 90s, 30m or 2h (a bare number is minutes), at most 72h');
  return ms;
}

function parseMatrix(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined || text.trim() === '' || text.trim() === 'null') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badInput('matrix', text, 'is not JSON: set it to ${{ toJSON(matrix) }}');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badInput('matrix', text, 'must be a JSON object: set it to ${{ toJSON(matrix) }}');
  return value as Record<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates the options into settings; `cwd` resolves relative folders, `env` supplies GitHub defaults. */
export function trainSettings(raw: RawTrainOptions, cwd: string, env: NodeJS.ProcessEnv, protectOutput: boolean): TrainSettings {
  const shell = raw.shell ?? false;
  let command: string[];
  if (raw.argv && raw.argv.length > 0) command = shell ? ['bash', '-eo', 'pipefail', '-c', raw.argv.join(' ')] : raw.argv;
  else command = parseCommand(raw.command ?? '', shell);
  const seedText = raw.seed?.trim() || String(TRAIN_DEFAULTS.seed);
  if (!/^\d+$/.test(seedText) || Number(seedText) > 2 ** 32 - 1) throw badInput('seed', seedText, 'must be a whole number from 0 to 4294967295');
  const matrix = parseMatrix(raw.matrix);
  // A sweep's matrix entries carry their own name ({leg, params}).
  const matrixLeg = typeof matrix?.leg === 'string' && matrix.leg.trim() !== '' ? matrix.leg.trim() : undefined;
  const leg = raw.leg?.trim() || matrixLeg || legFromMatrix(matrix) || 'default';
  const given = parseParams(raw.params);
  const params = given ?? (isObject(matrix?.params) ? matrix.params : undefined);
  const workspace = resolve(cwd, env.GITHUB_WORKSPACE ?? '.');
  const model = raw.model?.trim() || (env.GITHUB_REPOSITORY ? basename(env.GITHUB_REPOSITORY) : 'model');
  return {
    command,
    shell,
    workingDirectory: resolve(cwd, raw['working-directory']?.trim() || '.'),
    workspace,
    modelDir: raw['model-dir']?.trim() || TRAIN_DEFAULTS.modelDir,
    metrics: raw.metrics?.trim() || TRAIN_DEFAULTS.metrics,
    runJson: raw['run-json']?.trim() || TRAIN_DEFAULTS.runJson,
    model,
    leg,
    matrix,
    seed: Number(seedText),
    timeoutMs: parseDuration(raw.timeout?.trim() || TRAIN_DEFAULTS.timeout),
    protectOutput,
    ...(params && { params }),
  };
}

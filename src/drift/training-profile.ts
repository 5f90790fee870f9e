/**
 * The train step's profile: with `profile-data` it writes the reference profile of the training data (and of
 * the trained model's outputs, when the model directory holds one .onnx file) beside the model directory, as
 * `profile.json` by default, for `publish --profile` to upload with the version. `src/train` makes one call here.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { badInput } from '../errors.ts';
import type { Logger } from '../log.ts';
import { nameList, writeProfile } from './profile-file.ts';

export interface TrainingProfile {
  /** Training table, relative to the working directory (inside the workspace). */
  data: string;
  label?: string;
  categorical: string[];
  /** Output path, relative to the working directory; default profile.json. */
  out: string;
}

/** The option/input names, the same in the CLI and the action. */
export interface RawTrainingProfile {
  'profile-data'?: string;
  'profile-label'?: string;
  'profile-categorical'?: string;
  profile?: string;
}

/** Checked before training runs, so a bad option costs no training time; `modelDir` is relative to the working directory. */
export function trainingProfileOptions(raw: RawTrainingProfile, modelDir = 'model'): TrainingProfile | undefined {
  const data = raw['profile-data']?.trim();
  if (!data) {
    // `profile` alone is fine: it has a default in the action.
    for (const key of ['profile-label', 'profile-categorical'] as const) {
      if (raw[key]?.trim()) throw badInput(key, raw[key], 'needs profile-data: the training data to profile');
    }
    return undefined;
  }
  const label = raw['profile-label']?.trim();
  const out = raw.profile?.trim() || 'profile.json';
  if (isAbsolute(out) || !within('/w', resolve('/w', out))) throw badInput('profile', out, 'must be a relative path inside the working directory');
  if (within(resolve('/w', modelDir), resolve('/w', out))) throw badInput('profile', out, MODEL_DIR_FIX);
  return { data, ...(label && { label }), categorical: nameList(raw['profile-categorical']), out };
}

const MODEL_DIR_FIX = 'must be beside the model directory, not in it (publish takes it with --profile and refuses a profile.json among the model files)';

function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return !rel.startsWith('..') && !isAbsolute(rel);
}

export interface TrainingProfileContext {
  /** The working directory the program ran in. */
  cwd: string;
  workspace: string;
  modelDir: string;
  modelFiles: string[];
  logger: Logger;
}

/** Writes the profile when asked; returns its path (one more output of the leg), or undefined. */
export async function writeTrainingProfile(options: TrainingProfile | undefined, ctx: TrainingProfileContext): Promise<string | undefined> {
  if (!options) return undefined;
  const data = resolve(ctx.cwd, options.data);
  if (!within(ctx.workspace, data)) throw badInput('profile-data', options.data, 'must be a path inside the workspace');
  const out = resolve(ctx.cwd, options.out);
  if (isAbsolute(options.out) || !within(ctx.cwd, out)) throw badInput('profile', options.out, 'must be a relative path inside the working directory');
  if (within(ctx.modelDir, out)) throw badInput('profile', options.out, MODEL_DIR_FIX);
  const onnx = ctx.modelFiles.filter((f) => f.endsWith('.onnx'));
  if (onnx.length !== 1) ctx.logger.warning(`profile: the model directory holds ${onnx.length} .onnx files; profiling the data without the model's outputs`);
  const result = await writeProfile({ data, ...(options.label && { label: options.label }), categorical: options.categorical, ...(onnx.length === 1 && { model: onnx[0] }), out }, { logger: ctx.logger });
  ctx.logger.info(`Wrote the reference profile ${relative(ctx.cwd, out)} (${result.bytes} bytes: ${result.profile.features.length} features, ${result.profile.outputs.length} outputs)`);
  return out;
}

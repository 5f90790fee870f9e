/** `mlops profile`: a reference profile from a training table (CSV or JSON Lines), optionally with the model's outputs. */
import { UsageError, badInput } from '../errors.ts';
import { readTable } from '../evaluate/table.ts';
import type { OnnxRuntime } from '../evaluate/onnxruntime-loader.ts';
import type { Logger } from '../log.ts';
import { modelOutputs } from './model-outputs.ts';
import { buildProfile, serializeProfile, type ColumnInput, type Profile } from './profile.ts';
import { writeFileAtomic } from './write-file.ts';

export interface ProfileSettings {
  /** Training table: CSV with a header, or JSON Lines (.jsonl/.ndjson). */
  data: string;
  /** The label column (not a feature); default `label` when the table has one. */
  label?: string;
  /** Columns to treat as categorical even when every value is a number (category codes). */
  categorical: string[];
  /** ONNX model whose outputs over the data are profiled too. */
  model?: string;
  out: string;
}

export interface ProfileResult {
  profile: Profile;
  out: string;
  bytes: number;
}

export const DEFAULT_PROFILE_OUT = 'profile.json';

/** Splits `a,b c` lists (repeatable options) into names. */
export function nameList(values: readonly string[] | string | undefined): string[] {
  const list = typeof values === 'string' ? [values] : (values ?? []);
  return list.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);
}

export async function profileFromFile(settings: ProfileSettings, deps: { logger: Logger; ort?: OnnxRuntime }): Promise<Profile> {
  const table = readTable(settings.data);
  if (table.rows === 0) throw new UsageError(`data: ${settings.data} has no rows: a profile needs the training data`);
  let label = settings.label;
  if (label !== undefined && !table.columns.includes(label)) {
    throw badInput('label', label, `is not a column of ${settings.data}; its columns are ${table.columns.join(', ')}`);
  }
  if (label === undefined && table.columns.includes('label')) label = 'label';
  for (const c of settings.categorical) {
    if (!table.columns.includes(c)) throw badInput('categorical', c, `is not a column of ${settings.data}; its columns are ${table.columns.join(', ')}`);
  }
  const features: ColumnInput[] = table.columns
    .filter((c) => c !== label)
    .map((name) => ({ name, values: table.values.get(name)!, ...(settings.categorical.includes(name) && { kind: 'categorical' as const }) }));
  if (features.length === 0) throw new UsageError(`data: ${settings.data} has no feature columns besides the label`);
  let outputs: ColumnInput[] = [];
  let inputs;
  if (settings.model) {
    const scored = await modelOutputs(settings.model, table, label, deps);
    const clash = scored.columns.find((o) => features.some((f) => f.name === o.name));
    if (clash) throw new UsageError(`model: output ${JSON.stringify(clash.name)} has the name of a feature column: rename the column or the output`);
    outputs = scored.columns;
    inputs = scored.inputs;
  }
  return buildProfile(table.rows, features, outputs, inputs);
}

/** Builds the profile and writes it atomically (nothing is written when anything fails). */
export async function writeProfile(settings: ProfileSettings, deps: { logger: Logger; ort?: OnnxRuntime }): Promise<ProfileResult> {
  const profile = await profileFromFile(settings, deps);
  const text = serializeProfile(profile);
  writeFileAtomic(settings.out, text);
  return { profile, out: settings.out, bytes: Buffer.byteLength(text) };
}

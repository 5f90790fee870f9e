import onnxProto from 'onnx-proto';
import { UsageError } from '../errors.ts';

const { onnx } = onnxProto;

export interface TensorInfo {
  name: string;
  /** onnxruntime type name: float32, float64, int64, int32, … */
  type: string;
  /** Dimensions; a symbolic or unknown dimension is a string or -1. */
  shape: (number | string)[];
}

export type Task = 'binary' | 'multiclass' | 'regression';

/** How holdout columns become the model's input tensors. */
export type InputPlan =
  | { kind: 'matrix'; input: TensorInfo; features: string[] }
  | { kind: 'columns'; inputs: TensorInfo[]; features: string[] };

const NUMERIC_TYPES = new Set(['float32', 'float64', 'int32', 'int64']);

/** `metadata_props` of the model file (e.g. `mlops.features`), read with onnx-proto. */
export function modelMetadata(bytes: Uint8Array): Record<string, string> {
  const model = onnx.ModelProto.decode(bytes);
  return Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
}

function list(names: string[]): string {
  return names.length === 0 ? '(none)' : names.join(', ');
}

/**
 * Decides which holdout columns feed which model input.
 * - One 2-D input [N, F]: the features are `features` if given, else the model's `mlops.features` metadata,
 *   else every column but the label in file order. With declared names, columns the model does not take are
 *   an error (pass `features` to choose).
 * - Several inputs of shape [N] or [N, 1]: one column per input, by input name.
 */
export function planInputs(
  inputs: TensorInfo[],
  metadata: Record<string, string>,
  columns: string[],
  label: string,
  chosen: string[] | undefined,
): InputPlan {
  if (inputs.length === 0) throw new UsageError('model: it declares no inputs');
  for (const input of inputs) {
    if (!NUMERIC_TYPES.has(input.type)) {
      throw new UsageError(`model: input ${JSON.stringify(input.name)} is ${input.type}; evaluate feeds numeric tensors (float32, float64, int32, int64)`);
    }
  }
  const available = columns.filter((c) => c !== label);
  const checkColumns = (expected: string[], strict: boolean) => {
    const missing = expected.filter((c) => !columns.includes(c));
    const extra = strict ? available.filter((c) => !expected.includes(c)) : [];
    if (missing.length > 0 || extra.length > 0) {
      const what = [missing.length > 0 ? `missing ${list(missing)}` : '', extra.length > 0 ? `unexpected ${list(extra)}` : ''].filter(Boolean).join('; ');
      throw new UsageError(
        `data: columns do not fit the model (${what}): expected ${list(expected)} and ${JSON.stringify(label)}, found ${list(columns)}` +
          (extra.length > 0 ? '; drop the extra columns or list the model\'s columns in `features`' : ''),
      );
    }
  };
  const only = inputs.length === 1 ? inputs[0]! : undefined;
  if (only && only.shape.length === 2) {
    const width = only.shape[1];
    let features: string[];
    let strict = false;
    if (chosen) features = chosen;
    else if (metadata['mlops.features']) {
      features = JSON.parse(metadata['mlops.features']) as string[];
      strict = true;
    } else features = available;
    checkColumns(features, strict);
    if (typeof width === 'number' && width > 0 && features.length !== width) {
      throw new UsageError(
        `data: the model's input ${JSON.stringify(only.name)} takes ${width} features, ${chosen ? '`features` names' : 'the data has'} ${features.length} (${list(features)}): ` +
          'list the model\'s columns in `features`',
      );
    }
    return { kind: 'matrix', input: only, features };
  }
  for (const input of inputs) {
    const ok = input.shape.length === 1 || (input.shape.length === 2 && input.shape[1] === 1);
    if (!ok) throw new UsageError(`model: input ${JSON.stringify(input.name)} has shape [${input.shape.join(', ')}]; with several inputs each must be one column ([N] or [N, 1])`);
  }
  const features = inputs.map((i) => i.name);
  checkColumns(features, chosen === undefined);
  return { kind: 'columns', inputs, features };
}

/** The output evaluate reads: class probabilities [N, K] (or [N] / [N, 1] for P(class 1)), or the regression value. */
export function pickOutput(outputs: TensorInfo[], task: Task): TensorInfo {
  const floats = outputs.filter((o) => o.type === 'float32' || o.type === 'float64');
  if (task === 'regression') {
    const out = floats.find((o) => o.shape.length === 1 || (o.shape.length === 2 && o.shape[1] === 1));
    if (!out) throw new UsageError(`model: no float output of shape [N] or [N, 1] for regression; outputs: ${describe(outputs)}`);
    return out;
  }
  const probability = (o: TensorInfo) => /prob/i.test(o.name);
  const candidates = floats.filter((o) => o.shape.length === 2 || o.shape.length === 1);
  const out = candidates.find(probability) ?? candidates.find((o) => o.shape.length === 2) ?? candidates[0];
  if (!out) {
    throw new UsageError(
      `model: no float probability output for ${task} classification; outputs: ${describe(outputs)} (a ZipMap or label-only output cannot be scored: export probabilities as a tensor)`,
    );
  }
  return out;
}

export function describe(tensors: TensorInfo[]): string {
  return tensors.map((t) => `${t.name} ${t.type}[${t.shape.join(', ')}]`).join(', ') || '(none)';
}

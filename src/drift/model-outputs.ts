/**
 * The model's outputs over the reference data (the prediction distribution a profile records with --model),
 * scored with onnxruntime-node the way `evaluate` feeds the model.
 */
import { readFileSync } from 'node:fs';
import type { Tensor } from 'onnxruntime-node';
import { UsageError } from '../errors.ts';
import { feeder, openSession, tensorInfo } from '../evaluate/evaluate.ts';
import { loadOnnxRuntime, type OnnxRuntime } from '../evaluate/onnxruntime-loader.ts';
import { describe, modelMetadata, planInputs } from '../evaluate/signature.ts';
import { numericColumn, type Table } from '../evaluate/table.ts';
import type { Logger } from '../log.ts';
import type { ColumnInput, InputMapping } from './profile.ts';

export interface ModelOutputs {
  /** One column per output value: `name` for [N] or [N, 1], `name[k]` for [N, K]. */
  columns: ColumnInput[];
  inputs: InputMapping[];
}

const NUMERIC = new Set(['float32', 'float64', 'float16']);
const LABELS = new Set(['int64', 'int32', 'int8', 'uint8', 'int16', 'uint16', 'uint32', 'uint64', 'string', 'bool']);
const BATCH = 65_536;

/** Output column names for a tensor of `width` values per row. */
export function outputColumnNames(name: string, width: number): string[] {
  return width === 1 ? [name] : Array.from({ length: width }, (_, k) => `${name}[${k}]`);
}

/** Scores every row of the table and returns the outputs as profile columns (labels categorical, scores numeric). */
export async function modelOutputs(model: string, table: Table, label: string | undefined, deps: { logger: Logger; ort?: OnnxRuntime }): Promise<ModelOutputs> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(model);
  } catch (error) {
    throw new UsageError(`model: ${JSON.stringify(model)} cannot be read (${(error as NodeJS.ErrnoException).code}): give the path of an .onnx file`);
  }
  const ort = deps.ort ?? (await loadOnnxRuntime({ logger: deps.logger })).ort;
  const session = await openSession(ort, model, bytes);
  try {
    let metadata: Record<string, string> = {};
    try {
      metadata = modelMetadata(bytes);
    } catch {
      // onnxruntime loaded it; metadata is only a hint
    }
    const chosen = metadata['mlops.features'] ? (JSON.parse(metadata['mlops.features']) as string[]) : undefined;
    const plan = planInputs(tensorInfo(session.inputMetadata), metadata, table.columns, label ?? '', chosen);
    const feeds = feeder(ort, plan, plan.features.map((f) => numericColumn(table, f)));
    const outputs = tensorInfo(session.outputMetadata);
    const used = outputs.filter((o) => o.shape.length <= 2 && (NUMERIC.has(o.type) || LABELS.has(o.type)));
    for (const skipped of outputs.filter((o) => !used.includes(o))) {
      deps.logger.warning(`model output ${JSON.stringify(skipped.name)} (${describe([skipped])}) is not a tensor of one or a few values per row: not profiled`);
    }
    const values = new Map<string, unknown[]>();
    const widths = new Map<string, number>();
    for (let start = 0; start < table.rows; start += BATCH) {
      const end = Math.min(table.rows, start + BATCH);
      const result = await session.run(feeds(start, end), used.map((o) => o.name));
      for (const o of used) {
        const tensor = result[o.name] as Tensor;
        const rows = end - start;
        const width = tensor.data.length / rows;
        if (!Number.isInteger(width) || width < 1) throw new UsageError(`model: output ${o.name} returned ${tensor.data.length} values for ${rows} rows`);
        const known = widths.get(o.name);
        if (known !== undefined && known !== width) throw new UsageError(`model: output ${o.name} changed width between batches (${known} then ${width})`);
        widths.set(o.name, width);
        const data = tensor.data as ArrayLike<unknown>;
        for (let k = 0; k < width; k++) {
          const key = `${o.name}\u0000${k}`;
          const column = values.get(key) ?? [];
          for (let i = 0; i < rows; i++) {
            const v = data[i * width + k];
            column.push(typeof v === 'bigint' ? String(v) : v);
          }
          values.set(key, column);
        }
      }
    }
    const columns: ColumnInput[] = [];
    for (const o of used) {
      const width = widths.get(o.name) ?? 1;
      outputColumnNames(o.name, width).forEach((name, k) => {
        columns.push({ name, values: values.get(`${o.name}\u0000${k}`) ?? [], kind: NUMERIC.has(o.type) ? 'numeric' : 'categorical' });
      });
    }
    const inputs: InputMapping[] = plan.kind === 'matrix' ? [{ name: plan.input.name, features: plan.features }] : plan.inputs.map((input) => ({ name: input.name, features: [input.name] }));
    return { columns, inputs };
  } finally {
    await session.release();
  }
}

import { z } from 'zod';
import type { TensorSignature } from '../model/signature.ts';

/** One tensor of an Open Inference Protocol v2 infer request. */
export interface InferInput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

/** The smoke inference, in both protocols, and what must come back. */
export interface SmokeRequest {
  v2: { inputs: InferInput[] };
  /** KServe v1 `instances`: the rows of the first input. */
  v1: { instances: unknown[] };
  rows: number;
  /** Output names the answer must hold (v2); empty when nothing declares them. */
  outputs: string[];
  /** Where it came from, for the report. */
  source: string;
}

/** onnxruntime / numpy type names → OIP datatypes; OIP names pass through. */
const DATATYPES: Record<string, string> = {
  float32: 'FP32',
  float: 'FP32',
  float64: 'FP64',
  double: 'FP64',
  float16: 'FP16',
  bfloat16: 'BF16',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  bool: 'BOOL',
  string: 'BYTES',
};
const OIP = new Set(['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES', 'BF16']);

export function oipDatatype(dtype: string): string | undefined {
  return OIP.has(dtype) ? dtype : DATATYPES[dtype.toLowerCase()];
}

/**
 * A one-row request built from a signature (the model card's, or the server's v2 metadata): every variable
 * dimension becomes 1, every value zero (false, ""). Any valid tensor proves the model loads and answers.
 */
export function requestFromSignature(signature: { inputs: TensorSignature[]; outputs: TensorSignature[] }, source: string): SmokeRequest {
  if (signature.inputs.length === 0) throw new Error(`${source} declares no inputs: give a sample request`);
  const inputs = signature.inputs.map((input): InferInput => {
    const datatype = oipDatatype(input.dtype);
    if (!datatype) throw new Error(`${source}: input ${input.name} has type ${input.dtype}, which has no Open Inference Protocol datatype: give a sample request`);
    const shape = input.shape.length === 0 ? [1] : input.shape.map((d) => (d > 0 ? d : 1));
    const size = shape.reduce((a, b) => a * b, 1);
    if (size > 1_000_000) throw new Error(`${source}: input ${input.name} of shape [${input.shape.join(', ')}] is too large for a smoke inference: give a sample request`);
    const zero = datatype === 'BOOL' ? false : datatype === 'BYTES' ? '' : 0;
    return { name: input.name, shape, datatype, data: new Array(size).fill(zero) };
  });
  const first = inputs[0] as InferInput;
  return { v2: { inputs }, v1: { instances: rowsOf(first) }, rows: first.shape[0] ?? 1, outputs: signature.outputs.map((o) => o.name).filter(Boolean), source };
}

function rowsOf(input: InferInput): unknown[] {
  const [rows = 1, ...rest] = input.shape;
  const width = rest.reduce((a, b) => a * b, 1);
  if (rest.length === 0) return input.data.slice(0, rows);
  return Array.from({ length: rows }, (_, r) => input.data.slice(r * width, (r + 1) * width));
}

const tensor = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()).min(1),
  datatype: z.string().refine((d) => OIP.has(d), 'is not an Open Inference Protocol datatype'),
  data: z.array(z.unknown()),
  parameters: z.record(z.string(), z.unknown()).optional(),
});
const sampleFile = z.union([
  z.object({ inputs: z.array(tensor).min(1), outputs: z.array(z.object({ name: z.string() })).optional(), id: z.string().optional(), parameters: z.record(z.string(), z.unknown()).optional() }),
  z.object({ instances: z.array(z.unknown()).min(1) }),
]);

/**
 * A sample given by the user: an OIP v2 infer request (`inputs`), or a v1 body (`instances`, whose v2 form takes
 * the input name and datatype from the signature when there is one).
 */
export function requestFromSample(text: string, where: string, signature?: { inputs: TensorSignature[]; outputs: TensorSignature[] }): SmokeRequest {
  const declaredOutputs = signature?.outputs.map((o) => o.name) ?? [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: is not JSON (${(error as Error).message})`);
  }
  const parsed = sampleFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${where}: is neither an Open Inference Protocol infer request ({"inputs": [...]}) nor a v1 body ({"instances": [...]}) (${issue?.path.join('.') || 'root'}: ${issue?.message})`);
  }
  if ('instances' in parsed.data) {
    const instances = parsed.data.instances;
    const width = Array.isArray(instances[0]) ? (instances[0] as unknown[]).length : 1;
    const data = instances.flatMap((r) => (Array.isArray(r) ? r : [r]));
    const input = signature?.inputs[0];
    const datatype = (input && oipDatatype(input.dtype)) ?? 'FP32';
    return { v2: { inputs: [{ name: input?.name ?? 'input', shape: [instances.length, width], datatype, data }] }, v1: { instances }, rows: instances.length, outputs: declaredOutputs, source: where };
  }
  const inputs = parsed.data.inputs.map((i) => ({ name: i.name, shape: i.shape, datatype: i.datatype, data: i.data.flat(Infinity) }));
  const first = inputs[0] as InferInput;
  const asked = parsed.data.outputs?.map((o) => o.name) ?? [];
  return { v2: { inputs }, v1: { instances: rowsOf(first) }, rows: first.shape[0] ?? 1, outputs: asked.length > 0 ? asked : declaredOutputs, source: where };
}

/**
 * Open Inference Protocol tensors ⇄ onnxruntime tensors.
 *
 * Spec: kserve/open-inference-protocol specification/protocol/inference_rest.md and kserve/kserve
 * docs/predict-api/v2/required_api.md ("Tensor Data", "Tensor Data Types"): `data` is row-major, given flat or
 * in its natural nested form; the server "can decide to coerce each element to the required type or return an
 * error". We return an error: every element must already be of the declared datatype (an FP32 input takes JSON
 * numbers, INT* safe integers in range, BOOL booleans, BYTES strings), the datatype must be the model's, the
 * rank and fixed dimensions must match the model's, and the element count must be the shape's product.
 * Every refusal is a {@link TensorError} naming the input, which the server answers with 400.
 */
import type { Tensor } from 'onnxruntime-node';
import type { OnnxRuntime } from '../evaluate/onnxruntime-loader.ts';

/** onnxruntime tensor type → OIP datatype. */
export const OIP_DATATYPE: Readonly<Record<string, string>> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

/** A model input or output as the server describes and checks it. */
export interface TensorSpec {
  name: string;
  /** onnxruntime's type name (float32, int64, …), or `non-tensor` for sequences and maps. */
  type: string;
  /** OIP datatype, or undefined when the type has no OIP form. */
  datatype: string | undefined;
  /** Declared dimensions: a number, or a string for a symbolic dimension (`N`), or -1 when unknown. */
  dims: readonly (number | string)[];
  /** OIP metadata shape: variable dimensions as -1. */
  shape: number[];
}

/** A bad tensor in a request: answered with 400 and `{"error": message}`; the message names the input. */
export class TensorError extends Error {
  override name = 'TensorError';
  readonly input: string;
  constructor(input: string, message: string) {
    super(`input ${JSON.stringify(input)}: ${message}`);
    this.input = input;
  }
}

export function tensorSpec(name: string, type: string, dims: readonly (number | string)[]): TensorSpec {
  return {
    name,
    type,
    datatype: OIP_DATATYPE[type],
    dims,
    shape: dims.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
  };
}

export function describeShape(shape: readonly (number | string)[]): string {
  return `[${shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)).join(', ')}]`;
}

interface Writer {
  make(count: number): unknown;
  /** Stores `value` at `i`, or returns what it expected. */
  set(target: unknown, i: number, value: unknown): string | undefined;
}

const INTEGER_RANGES: Record<string, [number, number, new (n: number) => ArrayLike<number> & { [i: number]: number }]> = {
  int8: [-128, 127, Int8Array],
  int16: [-32768, 32767, Int16Array],
  int32: [-2147483648, 2147483647, Int32Array],
  uint8: [0, 255, Uint8Array],
  uint16: [0, 65535, Uint16Array],
  uint32: [0, 4294967295, Uint32Array],
};

function writer(type: string): Writer | undefined {
  if (type === 'float32' || type === 'float64') {
    const Array_ = type === 'float32' ? Float32Array : Float64Array;
    return {
      make: (n) => new Array_(n),
      set: (t, i, v) => {
        if (typeof v !== 'number') return 'a number';
        (t as Float32Array)[i] = v;
        return undefined;
      },
    };
  }
  const range = INTEGER_RANGES[type];
  if (range) {
    const [min, max, Array_] = range;
    return {
      make: (n) => new Array_(n),
      set: (t, i, v) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return `an integer from ${min} to ${max}`;
        (t as Int32Array)[i] = v;
        return undefined;
      },
    };
  }
  if (type === 'int64' || type === 'uint64') {
    const signed = type === 'int64';
    return {
      make: (n) => (signed ? new BigInt64Array(n) : new BigUint64Array(n)),
      set: (t, i, v) => {
        // JSON numbers beyond 2^53 have already lost digits when parsed: refuse rather than guess.
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || (!signed && v < 0)) return signed ? 'an integer within ±(2^53 - 1)' : 'an integer from 0 to 2^53 - 1';
        (t as BigInt64Array)[i] = BigInt(v);
        return undefined;
      },
    };
  }
  if (type === 'bool') {
    return {
      make: (n) => new Uint8Array(n),
      set: (t, i, v) => {
        if (typeof v !== 'boolean') return 'true or false';
        (t as Uint8Array)[i] = v ? 1 : 0;
        return undefined;
      },
    };
  }
  if (type === 'string') {
    return {
      make: (n) => new Array<string>(n),
      set: (t, i, v) => {
        if (typeof v !== 'string') return 'a string';
        (t as string[])[i] = v;
        return undefined;
      },
    };
  }
  return undefined;
}

const WRITERS = new Map<string, Writer | undefined>();
function writerFor(type: string): Writer | undefined {
  if (!WRITERS.has(type)) WRITERS.set(type, writer(type));
  return WRITERS.get(type);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** The batch size a request's shape gives each symbolic dimension name, shared across inputs. */
export type SymbolicSizes = Map<string, { size: number; input: string }>;

/**
 * Checks one `$request_input` against the model's input and builds its onnxruntime tensor.
 * `raw` is the parsed JSON object; `symbols` collects symbolic dimension sizes across the request's inputs.
 */
export function decodeInput(ort: OnnxRuntime, spec: TensorSpec, raw: Record<string, unknown>, symbols: SymbolicSizes, field = 'data'): Tensor {
  const name = spec.name;
  if (spec.datatype === undefined || spec.datatype === 'FP16') {
    throw new TensorError(name, `the model takes ${spec.type}, which this server cannot carry in JSON`);
  }
  if (raw.datatype !== spec.datatype) {
    throw new TensorError(name, `datatype ${show(raw.datatype)} does not match the model's ${spec.datatype}`);
  }
  const shape = raw.shape;
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new TensorError(name, `shape ${show(shape)} is not a list of non-negative integers: give e.g. [rows, columns]`);
  }
  const dims = shape as number[];
  if (dims.length !== spec.dims.length || dims.some((d, i) => typeof spec.dims[i] === 'number' && (spec.dims[i] as number) >= 0 && d !== spec.dims[i])) {
    throw new TensorError(name, `shape [${dims.join(', ')}] does not fit the model's ${describeShape(spec.dims)}`);
  }
  spec.dims.forEach((d, i) => {
    if (typeof d !== 'string') return;
    const seen = symbols.get(d);
    if (!seen) symbols.set(d, { size: dims[i]!, input: name });
    else if (seen.size !== dims[i]) {
      throw new TensorError(name, `dimension ${i} is ${dims[i]}, but input ${JSON.stringify(seen.input)} gives the model's dimension ${JSON.stringify(d)} ${seen.size}`);
    }
  });
  let count = 1;
  for (const d of dims) count *= d;
  if (!Number.isSafeInteger(count) || count > 0x7fffffff) throw new TensorError(name, `shape [${dims.join(', ')}] has too many elements`);
  const data = raw.data;
  if (!Array.isArray(data)) throw new TensorError(name, `${field} is ${show(data)}, not a list of values`);
  const write = writerFor(spec.type) as Writer;
  const target = write.make(count);
  const nested = dims.length > 0 && data.length > 0 && Array.isArray(data[0]);
  if (!nested) {
    if (data.length !== count) throw new TensorError(name, `${field} has ${data.length} values, shape [${dims.join(', ')}] needs ${count}`);
    for (let i = 0; i < count; i++) {
      const expected = write.set(target, i, data[i]);
      if (expected !== undefined) throw new TensorError(name, `${field}[${i}] is ${show(data[i])}; ${spec.datatype} takes ${expected}`);
    }
  } else {
    // Nested exactly as the shape. The indices are kept in `at` so a message can name the path; no strings
    // are built unless something is wrong.
    const at: number[] = [];
    const path = (depth: number) => at.slice(0, depth).map((i) => `[${i}]`).join('');
    const last = dims.length - 1;
    let offset = 0;
    const walk = (values: unknown, depth: number): void => {
      const size = dims[depth]!;
      if (!Array.isArray(values) || values.length !== size) {
        throw new TensorError(name, `${field}${path(depth)} ${Array.isArray(values) ? `has ${values.length} entries` : `is ${show(values)}`}, shape [${dims.join(', ')}] needs ${size} there (give the data nested exactly as the shape, or flat)`);
      }
      if (depth === last) {
        for (let i = 0; i < size; i++) {
          const expected = write.set(target, offset + i, values[i]);
          if (expected !== undefined) {
            at[depth] = i;
            throw new TensorError(name, `${field}${path(depth + 1)} is ${show(values[i])}; ${spec.datatype} takes ${expected}`);
          }
        }
        offset += size;
        return;
      }
      for (let i = 0; i < size; i++) {
        at[depth] = i;
        walk(values[i], depth + 1);
      }
    };
    walk(data, 0);
  }
  return new ort.Tensor(spec.type as 'float32', target as Float32Array, dims);
}

/** The JSON text of a tensor's elements, flat, row-major (typed arrays cannot go through JSON.stringify as lists). */
export function dataJson(tensor: Tensor): string {
  const data = tensor.data as ArrayLike<unknown>;
  switch (tensor.type) {
    case 'float32':
    case 'float64': {
      const values = data as Float32Array;
      for (let i = 0; i < values.length; i++) {
        // JSON has no NaN or ±Infinity: such elements become null, as JSON.stringify writes them.
        if (!Number.isFinite(values[i])) return JSON.stringify(Array.from(values, (v) => (Number.isFinite(v) ? v : null)));
      }
      return `[${values.join(',')}]`;
    }
    case 'bool':
      return JSON.stringify(Array.from(data as Uint8Array, (v) => v !== 0));
    case 'string':
      return JSON.stringify(data);
    default:
      // Integers, including BigInt64Array, whose join() writes plain decimal digits.
      return `[${Array.prototype.join.call(data, ',')}]`;
  }
}

/** A `$response_output` as JSON text: name, shape, datatype, flat data. */
export function outputJson(name: string, tensor: Tensor): string {
  return `{"name":${JSON.stringify(name)},"datatype":${JSON.stringify(OIP_DATATYPE[tensor.type] ?? tensor.type)},"shape":[${tensor.dims.join(',')}],"data":${dataJson(tensor)}}`;
}

/** One row of an output as a JSON value, for v1 `predictions`: a scalar for [N], nested lists for [N, …]. */
export function rowValue(tensor: Tensor, row: number): unknown {
  const dims = tensor.dims;
  const width = dims.slice(1).reduce((a, b) => a * b, 1);
  const convert = (v: unknown): unknown => {
    if (typeof v === 'bigint') return Number(v);
    if (tensor.type === 'bool') return v !== 0;
    if (typeof v === 'number' && !Number.isFinite(v)) return null;
    return v;
  };
  const data = tensor.data as ArrayLike<unknown>;
  const start = row * width;
  const build = (depth: number, offset: number): unknown => {
    if (depth === dims.length) return convert(data[offset]);
    const size = dims[depth]!;
    const stride = dims.slice(depth + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: size }, (_, i) => build(depth + 1, offset + i * stride));
  };
  return dims.length <= 1 ? convert(data[row]) : build(1, start);
}

import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export interface TensorSignature {
  name: string;
  /** onnxruntime's type names: float32, int64, string, … */
  dtype: string;
  /** Dimensions; -1 for a symbolic or unknown dimension (the batch). */
  shape: number[];
}

export interface ModelSignature {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
}

// TensorProto.DataType numbers → onnxruntime tensor type names.
const DTYPES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

/**
 * The graph's inputs (minus initializers, which older exporters list as inputs) and outputs,
 * decoded from the ModelProto with onnx-proto: no native runtime needed to publish.
 */
export function onnxSignature(bytes: Uint8Array): ModelSignature {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Error('the ONNX file has no graph');
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const describe = (value: onnxProto.onnx.IValueInfoProto): TensorSignature => {
    const tensor = value.type?.tensorType;
    if (!tensor) return { name: value.name ?? '', dtype: value.type?.sequenceType ? 'sequence' : value.type?.mapType ? 'map' : 'unknown', shape: [] };
    return {
      name: value.name ?? '',
      dtype: DTYPES[tensor.elemType ?? 0] ?? `type-${tensor.elemType}`,
      shape: (tensor.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : -1)),
    };
  };
  return {
    inputs: (graph.input ?? []).filter((i) => !initializers.has(i.name ?? '')).map(describe),
    outputs: (graph.output ?? []).map(describe),
  };
}

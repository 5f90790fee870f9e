import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/**
 * A binary linear classifier with its preprocessing, as exported by scripts/train.ts
 * (and, node for node, by scripts/train.py).
 *
 * Serving contract (see scripts/README.md): one input `input`, float32 [N, F], raw feature values in
 * the order of `features` (categorical columns as their integer codes); outputs `probabilities`
 * float32 [N, 2] (class 0, class 1) and `label` int64 [N]. Standardisation and one-hot encoding
 * happen inside the graph, so a server feeds the same raw columns the training data had.
 */
export interface LinearClassifierSpec {
  /** Input column names, in tensor order. */
  features: string[];
  /** Standardised columns: z = (x - mean) / scale. */
  numeric: { index: number; mean: number; scale: number }[];
  /** One-hot encoded columns; a code outside `categories` encodes as all zeros. */
  categorical: { index: number; categories: number[] }[];
  /** One weight per standardised column, then one per category, in the order above. */
  weights: number[];
  intercept: number;
  producer: { name: string; version: string };
  /** Extra `metadata_props`; `mlops.features` is always written. */
  metadata?: Record<string, string>;
}

export const OPSET = 13;
export const IR_VERSION = 8;
export const INPUT_NAME = 'input';

function floatTensor(name: string, dims: number[], values: number[]) {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: values });
}

function int64Tensor(name: string, dims: number[], values: number[]) {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.INT64, int64Data: values });
}

function intAttribute(name: string, value: number) {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: value });
}

function node(opType: string, inputs: string[], outputs: string[], attribute: ReturnType<typeof intAttribute>[] = []) {
  return onnx.NodeProto.create({ opType, input: inputs, output: outputs, name: outputs[0], attribute });
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  });
}

/** Width of the encoded feature vector the weights apply to. */
export function encodedWidth(spec: Pick<LinearClassifierSpec, 'numeric' | 'categorical'>): number {
  return spec.numeric.length + spec.categorical.reduce((n, c) => n + c.categories.length, 0);
}

/** Serialises the classifier as an ONNX model (IR 8, opset 13). Same spec → same bytes. */
export function buildLinearClassifier(spec: LinearClassifierSpec): Uint8Array {
  const width = encodedWidth(spec);
  if (spec.weights.length !== width) throw new Error(`expected ${width} weights, got ${spec.weights.length}`);
  const F = spec.features.length;
  const nodes = [];
  const initializers = [];
  const parts: string[] = [];

  if (spec.numeric.length > 0) {
    // Skip the Gather when the numeric columns are exactly the input, in order (the common all-numeric case).
    const identity = spec.numeric.length === F && spec.numeric.every((c, i) => c.index === i);
    let raw = INPUT_NAME;
    if (!identity) {
      initializers.push(int64Tensor('numeric_index', [spec.numeric.length], spec.numeric.map((c) => c.index)));
      nodes.push(node('Gather', [INPUT_NAME, 'numeric_index'], ['numeric_raw'], [intAttribute('axis', 1)]));
      raw = 'numeric_raw';
    }
    initializers.push(floatTensor('numeric_mean', [spec.numeric.length], spec.numeric.map((c) => c.mean)));
    initializers.push(floatTensor('numeric_scale', [spec.numeric.length], spec.numeric.map((c) => c.scale)));
    nodes.push(node('Sub', [raw, 'numeric_mean'], ['numeric_centered']));
    nodes.push(node('Div', ['numeric_centered', 'numeric_scale'], ['numeric_standardized']));
    parts.push('numeric_standardized');
  }
  if (spec.categorical.length > 0) {
    // One Gather repeats each categorical column once per category; Equal against the codes gives the one-hot.
    const index = spec.categorical.flatMap((c) => c.categories.map(() => c.index));
    const codes = spec.categorical.flatMap((c) => c.categories);
    initializers.push(int64Tensor('categorical_index', [index.length], index));
    initializers.push(floatTensor('categorical_codes', [codes.length], codes));
    nodes.push(node('Gather', [INPUT_NAME, 'categorical_index'], ['categorical_raw'], [intAttribute('axis', 1)]));
    nodes.push(node('Equal', ['categorical_raw', 'categorical_codes'], ['categorical_match']));
    nodes.push(node('Cast', ['categorical_match'], ['categorical_onehot'], [intAttribute('to', onnx.TensorProto.DataType.FLOAT)]));
    parts.push('categorical_onehot');
  }
  let encoded = parts[0] ?? INPUT_NAME;
  if (parts.length > 1) {
    nodes.push(node('Concat', parts, ['encoded'], [intAttribute('axis', 1)]));
    encoded = 'encoded';
  }
  initializers.push(floatTensor('coefficients', [width, 1], spec.weights));
  initializers.push(floatTensor('intercept', [1], [spec.intercept]));
  initializers.push(floatTensor('one', [1], [1]));
  nodes.push(node('MatMul', [encoded, 'coefficients'], ['margin_raw']));
  nodes.push(node('Add', ['margin_raw', 'intercept'], ['margin']));
  nodes.push(node('Sigmoid', ['margin'], ['probability_1']));
  nodes.push(node('Sub', ['one', 'probability_1'], ['probability_0']));
  nodes.push(node('Concat', ['probability_0', 'probability_1'], ['probabilities'], [intAttribute('axis', 1)]));
  nodes.push(node('ArgMax', ['probabilities'], ['label'], [intAttribute('axis', 1), intAttribute('keepdims', 0)]));

  const metadata = { 'mlops.features': JSON.stringify(spec.features), ...spec.metadata };
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: spec.producer.name,
    producerVersion: spec.producer.version,
    opsetImport: [{ domain: '', version: OPSET }],
    metadataProps: Object.entries(metadata)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => ({ key, value })),
    graph: {
      name: 'linear_classifier',
      node: nodes,
      initializer: initializers,
      input: [valueInfo(INPUT_NAME, onnx.TensorProto.DataType.FLOAT, ['N', F])],
      output: [
        valueInfo('probabilities', onnx.TensorProto.DataType.FLOAT, ['N', 2]),
        valueInfo('label', onnx.TensorProto.DataType.INT64, ['N']),
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** The encoded feature vector of one raw row, as the graph computes it (in float64). */
export function encodeRow(spec: LinearClassifierSpec, row: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (const c of spec.numeric) out.push(((row[c.index] as number) - c.mean) / c.scale);
  for (const c of spec.categorical) for (const code of c.categories) out.push(row[c.index] === code ? 1 : 0);
  return out;
}

/** P(class 1) for one raw row: plain TypeScript scoring of the same model. */
export function scoreRow(spec: LinearClassifierSpec, row: ArrayLike<number>): number {
  const x = encodeRow(spec, row);
  let margin = spec.intercept;
  for (let j = 0; j < x.length; j++) margin += (spec.weights[j] as number) * (x[j] as number);
  return 1 / (1 + Math.exp(-margin));
}

/**
 * The two inference bodies the server answers, decoded, run and encoded:
 * - OIP v2 `$inference_request` → `$inference_response` (required_api.md, "Inference"): every model input by
 *   name, optional requested `outputs`, `id` echoed (or the payload-log event id when the request gave none),
 *   `model_version` the served version.
 * - KServe v1 `{"instances": [row, …]}` (or `"inputs"`) → `{"predictions": [...]}` for a model with one input:
 *   each instance is one row of that input (a list of `columns` values for an [N, columns] input, one value for
 *   [N]). A prediction is the row of the single output, or, when the model has several outputs, an object of
 *   each output's row by name (TensorFlow Serving's row format, which KServe's v1 protocol follows).
 * Bad bodies throw {@link BadRequest} (a structural problem, naming the field) or TensorError (naming the input).
 */
import type { Tensor } from 'onnxruntime-node';
import type { OnnxRuntime } from '../evaluate/onnxruntime-loader.ts';
import type { LoadedModel } from './model.ts';
import { decodeInput, describeShape, outputJson, rowValue, TensorError, type SymbolicSizes, type TensorSpec } from './tensors.ts';

/** A request the server answers with 400 and `{"error": message}`. */
export class BadRequest extends Error {
  override name = 'BadRequest';
}

export interface ServedModel {
  name: string;
  version: string;
  model: LoadedModel;
  ort: OnnxRuntime;
  inputsByName: Map<string, TensorSpec>;
  outputsByName: Map<string, TensorSpec>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function signature(specs: readonly TensorSpec[]): string {
  return specs.map((s) => `${s.name} ${s.datatype ?? s.type} ${describeShape(s.dims)}`).join(', ');
}

/** Decodes, runs and encodes one v2 inference request; returns the response body (compact JSON). */
export async function inferV2(served: ServedModel, body: unknown, eventId: string): Promise<string> {
  const { model, name } = served;
  if (!isObject(body)) throw new BadRequest('body: is not a JSON object: send {"inputs": [{"name", "shape", "datatype", "data"}]}');
  if (body.id !== undefined && typeof body.id !== 'string') throw new BadRequest(`id: ${JSON.stringify(body.id)} is not a string`);
  if (body.parameters !== undefined && !isObject(body.parameters)) throw new BadRequest('parameters: is not an object of name: value');
  const inputs = body.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) throw new BadRequest(`inputs: is not a non-empty list of tensors; model ${name} takes ${signature(model.inputs)}`);
  const feeds = new Map<string, Tensor>();
  const symbols: SymbolicSizes = new Map();
  inputs.forEach((raw, i) => {
    if (!isObject(raw) || typeof raw.name !== 'string') throw new BadRequest(`inputs[${i}]: is not a tensor object with a "name"`);
    const spec = served.inputsByName.get(raw.name);
    if (!spec) throw new TensorError(raw.name, `is not an input of model ${name}, which takes ${signature(model.inputs)}`);
    if (feeds.has(raw.name)) throw new TensorError(raw.name, 'is given twice');
    if (raw.parameters !== undefined && !isObject(raw.parameters)) throw new TensorError(raw.name, 'parameters is not an object of name: value');
    feeds.set(raw.name, decodeInput(served.ort, spec, raw, symbols));
  });
  const missing = model.inputs.find((s) => !feeds.has(s.name));
  if (missing) throw new TensorError(missing.name, `is missing: model ${name} takes ${signature(model.inputs)}`);

  let wanted: string[] = model.outputs.map((o) => o.name);
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) throw new BadRequest('outputs: is not a list of {"name": …}');
  }
  // An empty list asks for no particular output: every output, as KServe's server answers it.
  if (Array.isArray(body.outputs) && body.outputs.length > 0) {
    wanted = body.outputs.map((o, i) => {
      if (!isObject(o) || typeof o.name !== 'string') throw new BadRequest(`outputs[${i}]: is not an object with a "name"`);
      if (!served.outputsByName.has(o.name)) throw new BadRequest(`outputs[${i}]: ${JSON.stringify(o.name)} is not an output of model ${name}, which has ${signature(model.outputs)}`);
      return o.name;
    });
    wanted = [...new Set(wanted)];
  }
  const results = await model.run(Object.fromEntries(feeds), wanted);
  const outputs = wanted.map((n) => outputJson(n, results[n] as Tensor)).join(',');
  const id = typeof body.id === 'string' ? body.id : eventId;
  return `{"model_name":${JSON.stringify(name)},"model_version":${JSON.stringify(served.version)},"id":${JSON.stringify(id)},"outputs":[${outputs}]}`;
}

/** Decodes, runs and encodes one KServe v1 `:predict` request; returns the response body. */
export async function predictV1(served: ServedModel, body: unknown): Promise<string> {
  const { model, name } = served;
  if (!isObject(body)) throw new BadRequest('body: is not a JSON object: send {"instances": [[…], …]}');
  const field = body.instances !== undefined ? 'instances' : 'inputs';
  const rows = body[field];
  if (!Array.isArray(rows) || rows.length === 0) throw new BadRequest('instances: is not a non-empty list of rows: send {"instances": [[…], …]}');
  if (model.inputs.length !== 1) {
    throw new BadRequest(`instances: model ${name} takes ${model.inputs.length} inputs (${signature(model.inputs)}); v1 :predict takes one: use POST /v2/models/${name}/infer`);
  }
  const spec = model.inputs[0]!;
  if (spec.dims.length === 0) throw new TensorError(spec.name, `is a scalar ${describeShape(spec.dims)}; v1 instances are rows of a batch: use POST /v2/models/${name}/infer`);
  // Each instance is one row: its own shape is the model's after the batch dimension (unknown ones read off row 0).
  const shape = [rows.length];
  let probe: unknown = rows[0];
  for (let d = 1; d < spec.dims.length; d++) {
    const declared = spec.dims[d];
    shape.push(typeof declared === 'number' && declared >= 0 ? declared : Array.isArray(probe) ? probe.length : 0);
    probe = Array.isArray(probe) ? probe[0] : undefined;
  }
  if (spec.dims.length > 1) {
    const flat = rows.findIndex((r) => !Array.isArray(r));
    if (flat >= 0) throw new TensorError(spec.name, `${field}[${flat}] is ${JSON.stringify(rows[flat])?.slice(0, 40)}, not a row: each instance is a list of ${shape[1]} values`);
  }
  const tensor = decodeInput(served.ort, spec, { datatype: spec.datatype, shape, data: rows }, new Map(), field);
  const names = model.outputs.map((o) => o.name);
  const results = await model.run({ [spec.name]: tensor }, names);
  const predictions = rows.map((_, i) =>
    names.length === 1 ? rowValue(results[names[0]!] as Tensor, i) : Object.fromEntries(names.map((n) => [n, rowValue(results[n] as Tensor, i)])),
  );
  return JSON.stringify({ predictions });
}

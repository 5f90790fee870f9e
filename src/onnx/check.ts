import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** What onnxruntime-node 1.30 (the pinned runtime of evaluate) can load. */
export const MAX_IR_VERSION = 13;
export const MAX_OPSET = 26;

/**
 * Why an .onnx file would not load in evaluate or on the server, or undefined when it looks loadable.
 * A structural check with the ONNX protobuf schema (no native runtime needed): it parses, has a graph with
 * inputs and outputs, and declares an IR version and default-domain opset the pinned onnxruntime supports.
 */
export function onnxProblem(path: string): string | undefined {
  let model;
  try {
    model = onnx.ModelProto.decode(readFileSync(path));
  } catch (error) {
    return `it is not an ONNX protobuf (${(error as Error).message})`;
  }
  const ir = Number(model.irVersion);
  if (!(ir >= 3)) return `it declares no usable ir_version (${ir})`;
  if (ir > MAX_IR_VERSION) return `its ir_version ${ir} is newer than onnxruntime supports (≤ ${MAX_IR_VERSION}): export with an older IR`;
  const opset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (opset && Number(opset.version) > MAX_OPSET) return `its opset ${Number(opset.version)} is newer than onnxruntime supports (≤ ${MAX_OPSET})`;
  if (!model.graph?.input?.length || !model.graph.output?.length) return 'it has no graph with inputs and outputs';
  return undefined;
}

import { readFile } from 'node:fs/promises';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { UsageError } from '../errors.ts';
import type { OnnxRuntime } from '../evaluate/onnxruntime-loader.ts';
import type { Logger } from '../log.ts';
import { tensorSpec, type TensorSpec } from './tensors.ts';

/** OIP platform name for ONNX models (required_api.md, "Platforms"). */
export const ONNX_PLATFORM = 'onnx_onnxv1';

/** An ONNX model loaded for serving: its tensors as the server describes them, and one call to run it. */
export interface LoadedModel {
  inputs: TensorSpec[];
  /** Tensor outputs only: sequences and maps (e.g. a ZipMap) have no OIP form and are not served. */
  outputs: TensorSpec[];
  run(feeds: Record<string, Tensor>, outputs: readonly string[]): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

export interface LoadModelOptions {
  /** onnxruntime intra-op threads (default: onnxruntime's own choice). */
  intraOpThreads?: number;
}

function specs(meta: readonly InferenceSession.ValueMetadata[]): TensorSpec[] {
  return meta.map((m) => (m.isTensor ? tensorSpec(m.name, m.type, m.shape) : tensorSpec(m.name, 'non-tensor', [])));
}

/** Opens `file` with onnxruntime; a file it cannot load is bad input (the version is not a servable ONNX model). */
export async function loadModel(ort: OnnxRuntime, file: string, logger: Logger, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const bytes = await readFile(file);
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    });
  } catch (error) {
    const reason = ((error as Error).message ?? String(error)).split('\n')[0];
    throw new UsageError(`storage-uri: the model file cannot be loaded by onnxruntime (${reason}): publish a valid ONNX model (IR ≤ 13, opset ≤ 26)`);
  }
  const inputs = specs(session.inputMetadata);
  const all = specs(session.outputMetadata);
  const outputs = all.filter((o) => o.datatype !== undefined);
  for (const skipped of all.filter((o) => o.datatype === undefined)) {
    logger.warning(`output ${JSON.stringify(skipped.name)} is a ${skipped.type}, which the Open Inference Protocol cannot carry: it is not served`);
  }
  if (inputs.length === 0) throw new UsageError('storage-uri: the model declares no inputs: there is nothing to serve');
  if (outputs.length === 0) throw new UsageError('storage-uri: the model has no tensor outputs: export its outputs as tensors (not sequences or maps)');
  return {
    inputs,
    outputs,
    run: (feeds, names) => session.run(feeds, names as string[]) as Promise<Record<string, Tensor>>,
    release: () => session.release(),
  };
}

// Published model versions for the serve tests: the churn model scripts/train.ts makes (what the demo serves),
// and a small identity model over the other OIP datatypes, both published with publishModel to a directory.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { writeDataset, FEATURES } from '../../../scripts/generate-data.ts';
import { train } from '../../../scripts/train.ts';
import { silentLogger } from '../../../src/log.ts';
import { publishModel } from '../../../src/model/publish.ts';
import type { Remote } from '../../../src/storage/remote.ts';
import { LocalRemote } from '../../../src/storage/local-remote.ts';
import { tempDir } from '../../helpers/tmp.ts';

const { onnx } = onnxProto;

export interface Published {
  /** What publish printed. */
  storageUri: string;
  version: string;
  /** The folder the version's objects are in (for tampering). */
  versionDir: string;
  /** The model file as training wrote it. */
  modelPath: string;
  work: string;
}

export async function publish(work: string, modelDir: string, name: string, remote: Remote = new LocalRemote(join(work, 'store'))): Promise<Published> {
  const result = await publishModel({ modelDir, name }, { remote, logger: silentLogger, cwd: work, env: {} });
  await remote.close();
  return {
    storageUri: result.storageUri,
    version: result.version,
    versionDir: join(work, 'store', 'models', name, result.version),
    modelPath: join(modelDir, 'model.onnx'),
    work,
  };
}

export interface Churn extends Published {
  holdout: string;
  /** Holdout rows: features in model order, then the label. */
  rows: number[][];
}

/** Trains the Node leg's logistic regression on generated churn data and publishes it. */
export async function churnModel(options: { rows?: number; remote?: (work: string) => Remote } = {}): Promise<Churn> {
  const work = tempDir('serve');
  writeDataset(join(work, 'data'), { rows: options.rows ?? 600, seed: 7 });
  const trained = train({
    train: join(work, 'data/train.csv'),
    holdout: join(work, 'data/holdout.csv'),
    schema: join(work, 'data/schema.json'),
    modelDir: join(work, 'model'),
    metrics: join(work, 'train-metrics.json'),
    params: join(work, 'params.yaml'),
    c: 1,
    maxIter: 100,
    seed: 0,
  });
  const published = await publish(work, join(work, 'model'), 'churn', options.remote?.(work));
  const holdout = join(work, 'data/holdout.csv');
  const rows = readFileSync(holdout, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  return { ...published, modelPath: trained.modelPath, holdout, rows };
}

export const CHURN_FEATURES = FEATURES.length;

/**
 * A model whose outputs are its inputs (ONNX Identity), one per OIP datatype family the server converts:
 * `ints` INT64 [N, 2], `small` INT8 [N], `flags` BOOL [N], `words` BYTES [N], `wide` FP64 [N, 3].
 */
export async function identityModel(): Promise<Published> {
  const work = tempDir('serve-identity');
  const T = onnx.TensorProto.DataType;
  const tensors: [string, number, (number | string)[]][] = [
    ['ints', T.INT64, ['N', 2]],
    ['small', T.INT8, ['N']],
    ['flags', T.BOOL, ['N']],
    ['words', T.STRING, ['N']],
    ['wide', T.DOUBLE, ['N', 3]],
  ];
  const info = (name: string, elemType: number, dims: (number | string)[]) => ({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
  const graph = {
    name: 'identity',
    node: tensors.map(([n]) => ({ opType: 'Identity', input: [n], output: [`${n}_out`], name: n })),
    input: tensors.map(([n, t, d]) => info(n, t, d)),
    output: tensors.map(([n, t, d]) => info(`${n}_out`, t, d)),
  };
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph })).finish();
  const modelDir = join(work, 'model');
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(join(modelDir, 'model.onnx'), bytes);
  return publish(work, modelDir, 'identity');
}

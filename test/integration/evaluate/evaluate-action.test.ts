// The bundled evaluate action with real INPUT_*: it scores a trained leg, uploads evaluation.json + run.json
// through @actions/artifact, and the gate's leg discovery reads the downloaded folder under the leg's name.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDataset } from '../../../scripts/generate-data.ts';
import { train } from '../../../scripts/train.ts';
import { discoverLegs } from '../../../src/metrics/legs.ts';
import { startArtifactService, type ArtifactService } from '../../helpers/artifact-service.ts';
import { tempDir } from '../../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '../../..');
let service: ArtifactService;
let ws: string;

beforeAll(async () => {
  service = await startArtifactService();
  ws = tempDir('evaluate-action');
  writeDataset(join(ws, 'data'), { rows: 300, seed: 9 });
  train({ train: join(ws, 'data/train.csv'), holdout: join(ws, 'data/holdout.csv'), schema: join(ws, 'data/schema.json'), modelDir: join(ws, 'model'), metrics: join(ws, 'metrics.json'), params: join(ws, 'params.yaml'), c: 1, maxIter: 50, seed: 0 });
  writeFileSync(join(ws, 'run.json'), JSON.stringify({ schema: 'mlops-actions/run/v1', leg: 'node-22', metrics: 'metrics.json', command: ['node', 'scripts/train.ts'] }));
});
afterAll(async () => {
  await service.close();
  rmSync(ws, { recursive: true, force: true });
});

function runAction(inputs: Record<string, string>): Promise<{ code: number; stdout: string }> {
  writeFileSync(join(ws, 'outputs.txt'), '');
  writeFileSync(join(ws, 'summary.md'), '');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...service.env, GITHUB_OUTPUT: join(ws, 'outputs.txt'), GITHUB_STEP_SUMMARY: join(ws, 'summary.md') };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  return new Promise((resolve) =>
    execFile(process.execPath, [join(ROOT, 'actions/evaluate/dist/index.js')], { cwd: ws, env }, (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout })),
  );
}

describe('actions/evaluate (bundled)', () => {
  it('writes the metrics, uploads the leg for the gate, and the gate reads it under the leg name', async () => {
    const { code, stdout } = await runAction({
      model: 'model/model.onnx',
      data: 'data/holdout.csv',
      task: 'binary',
      'latency-samples': '10',
      'throughput-ms': '10',
      'run-json': 'run.json',
      'artifact-name': 'mlops-churn-node-22-evaluation',
    });
    expect(code, stdout).toBe(0);
    expect(readFileSync(join(ws, 'outputs.txt'), 'utf8')).toMatch(/artifact-name<<(\S+)\nmlops-churn-node-22-evaluation\n\1/);
    const artifact = service.artifacts.get('mlops-churn-node-22-evaluation');
    expect(artifact?.finalized).toBe(true);

    // What actions/download-artifact would put in legs/<artifact-name>/.
    const leg = join(ws, 'legs', 'mlops-churn-node-22-evaluation');
    mkdirSync(leg, { recursive: true });
    writeFileSync(join(ws, 'a.zip'), artifact!.content);
    await promisify(execFile)('unzip', ['-q', join(ws, 'a.zip'), '-d', leg]);
    const record = JSON.parse(readFileSync(join(leg, 'run.json'), 'utf8'));
    expect(record).toMatchObject({ schema: 'mlops-actions/evaluation/v1', leg: 'node-22', metrics: 'evaluation.json', training: { command: ['node', 'scripts/train.ts'] } });

    const legs = await discoverLegs(['legs'], ws);
    expect(legs.map((l) => l.name)).toEqual(['node-22']);
    const evaluated = JSON.parse(readFileSync(join(ws, 'evaluation.json'), 'utf8'));
    expect(legs[0]!.metrics.accuracy).toBe(evaluated.accuracy);
    expect(legs[0]!.metrics['latency.p99_ms']).toBe(evaluated.latency.p99_ms);
    expect(readFileSync(join(ws, 'summary.md'), 'utf8')).toContain('roc_auc');
  });

  it('fails the step naming the input for a holdout that does not fit the model', async () => {
    writeFileSync(join(ws, 'bad.csv'), 'a,b,label\n1,2,0\n');
    const before = service.requests.length;
    const { code, stdout } = await runAction({ model: 'model/model.onnx', data: 'bad.csv', 'artifact-name': 'never' });
    expect(code).toBe(1);
    expect(stdout).toMatch(/::error::Invalid input: data: columns do not fit the model \(missing tenure_months.*; unexpected a, b\)/);
    expect(service.requests.length).toBe(before);
  });
});

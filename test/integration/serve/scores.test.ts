// What `mlops serve` answers for the holdout is what `mlops evaluate` scored: the probabilities served over
// OIP v2 (in 64-row batches and one row at a time) and v1 give exactly the metrics evaluate wrote for the same
// model and rows, and row for row the same float32 values as the trainer's own scoring.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { classificationMetrics } from '../../../src/evaluate/metrics.ts';
import { silentLogger } from '../../../src/log.ts';
import { startServer, type RunningServer } from '../../../src/serve/index.ts';
import { call, churnRequest } from './client.ts';
import { churnModel, CHURN_FEATURES, type Churn } from './fixtures.ts';

let churn: Churn;
let server: RunningServer;
let evaluated: Record<string, number>;

beforeAll(async () => {
  churn = await churnModel({ rows: 800 });
  server = await startServer({ storageUri: churn.storageUri, port: 0 }, { logger: silentLogger });
  const out: string[] = [];
  const code = await main(['evaluate', '--model', churn.modelPath, '--data', churn.holdout, '--out', join(churn.work, 'evaluation.json'), '--latency-samples', '0', '--throughput-ms', '0', '--json'], {
    logger: silentLogger,
    out: (t) => out.push(t),
    cwd: churn.work,
    env: {},
  });
  expect(code).toBe(0);
  evaluated = JSON.parse(out.join('')).metrics;
});
afterAll(async () => {
  await server?.close();
});

const quality = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith('latency.') && !k.startsWith('throughput.') && k !== 'rows'));

async function servedV2(batch: number): Promise<number[]> {
  const x = churn.rows.map((r) => r.slice(0, CHURN_FEATURES));
  const probabilities: number[] = [];
  for (let start = 0; start < x.length; start += batch) {
    const res = await call(server.url, 'POST', '/v2/models/churn/infer', churnRequest(x.slice(start, start + batch), { outputs: [{ name: 'probabilities' }] }));
    expect(res.status).toBe(200);
    probabilities.push(...(res.json.outputs[0].data as number[]));
  }
  return probabilities;
}

describe('served scores equal mlops evaluate on the same rows', () => {
  const labels = () => churn.rows.map((r) => r[CHURN_FEATURES]!);

  it.each([64, 1])('v2 infer in batches of %i rows gives evaluate\'s metrics exactly', async (batch) => {
    const probabilities = await servedV2(batch);
    expect(probabilities).toHaveLength(churn.rows.length * 2);
    expect(quality(classificationMetrics(labels(), probabilities, 2))).toEqual(quality(evaluated));
    expect(evaluated.accuracy).toBeGreaterThan(0.5);
  });

  it('v1 :predict gives the same probabilities and evaluate\'s metrics', async () => {
    const res = await call(server.url, 'POST', '/v1/models/churn:predict', { instances: churn.rows.map((r) => r.slice(0, CHURN_FEATURES)) });
    expect(res.status).toBe(200);
    const probabilities = (res.json.predictions as { probabilities: number[] }[]).flatMap((p) => p.probabilities);
    expect(probabilities).toEqual(await servedV2(64));
    expect(quality(classificationMetrics(labels(), probabilities, 2))).toEqual(quality(evaluated));
    const file = JSON.parse(readFileSync(join(churn.work, 'evaluation.json'), 'utf8'));
    expect(file.accuracy).toBe(evaluated.accuracy);
  });
});

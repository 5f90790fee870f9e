// Every OIP v2 and KServe v1 endpoint of `mlops serve`, answered for the churn model scripts/train.ts makes and
// checked against the specifications' JSON shapes (oip-schemas.ts); the status codes and error bodies KServe
// uses; outputs equal to onnxruntime run directly on the same rows.
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.ts';
import { startServer, type RunningServer } from '../../../src/serve/index.ts';
import { call, churnRequest } from './client.ts';
import { churnModel, CHURN_FEATURES, type Churn } from './fixtures.ts';
import * as S from './oip-schemas.ts';

let churn: Churn;
let server: RunningServer;
let base: string;
let rows: number[][];

beforeAll(async () => {
  churn = await churnModel();
  server = await startServer({ storageUri: churn.storageUri, port: 0 }, { logger: silentLogger });
  base = server.url;
  rows = churn.rows.slice(0, 5).map((r) => r.slice(0, CHURN_FEATURES));
});
afterAll(async () => {
  await server?.close();
});

async function direct(x: number[][]): Promise<{ probabilities: Float32Array; label: BigInt64Array }> {
  const session = await ort.InferenceSession.create(churn.modelPath);
  const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.flat()), [x.length, CHURN_FEATURES]) });
  await session.release();
  return { probabilities: out.probabilities!.data as Float32Array, label: out.label!.data as BigInt64Array };
}

describe('health and metadata', () => {
  it('answers live and ready with 200', async () => {
    const live = await call(base, 'GET', '/v2/health/live');
    expect(live.status).toBe(200);
    expect(S.ServerLive.parse(live.json)).toEqual({ live: true });
    const ready = await call(base, 'GET', '/v2/health/ready');
    expect(ready.status).toBe(200);
    expect(S.ServerReady.parse(ready.json)).toEqual({ ready: true });
  });

  it('describes the server at /v2', async () => {
    const meta = await call(base, 'GET', '/v2');
    expect(meta.status).toBe(200);
    expect(S.ServerMetadata.parse(meta.json)).toEqual({ name: 'mlops-serve', version: '0.1.0', extensions: [] });
  });

  it.each(['', '/versions/{v}'])('describes the model at /v2/models/churn%s with the published version', async (suffix) => {
    const meta = await call(base, 'GET', `/v2/models/churn${suffix.replace('{v}', churn.version)}`);
    expect(meta.status).toBe(200);
    expect(S.ModelMetadata.parse(meta.json)).toEqual({
      name: 'churn',
      versions: [churn.version],
      platform: 'onnx_onnxv1',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, CHURN_FEATURES] }],
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
        { name: 'label', datatype: 'INT64', shape: [-1] },
      ],
    });
    expect(meta.headers.get('content-type')).toBe('application/json');
  });

  it.each(['', '/versions/{v}'])('says the model is ready at /v2/models/churn%s/ready', async (suffix) => {
    const ready = await call(base, 'GET', `/v2/models/churn${suffix.replace('{v}', churn.version)}/ready`);
    expect(ready.status).toBe(200);
    expect(S.ModelReady.parse(ready.json)).toEqual({ name: 'churn', ready: true });
  });

  it('answers KServe v1 /, /v1/models and /v1/models/churn', async () => {
    expect((await call(base, 'GET', '/')).json).toEqual({ status: 'alive' });
    const models = await call(base, 'GET', '/v1/models');
    expect(S.V1Models.parse(models.json)).toEqual({ models: ['churn'] });
    const model = await call(base, 'GET', '/v1/models/churn');
    expect(model.status).toBe(200);
    expect(S.V1ModelReady.parse(model.json)).toEqual({ name: 'churn', ready: true });
  });
});

describe('inference', () => {
  it.each(['', '/versions/{v}'])('POST /v2/models/churn%s/infer returns every output by name, equal to onnxruntime on the same rows', async (suffix) => {
    const request = churnRequest(rows, { id: 'req-42' });
    S.InferenceRequest.parse(request);
    const res = await call(base, 'POST', `/v2/models/churn${suffix.replace('{v}', churn.version)}/infer`, request);
    expect(res.status).toBe(200);
    const body = S.InferenceResponse.parse(res.json);
    expect(body).toMatchObject({ model_name: 'churn', model_version: churn.version, id: 'req-42' });
    expect(body.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['probabilities', 'FP32', [rows.length, 2]],
      ['label', 'INT64', [rows.length]],
    ]);
    const expected = await direct(rows);
    // Bit for bit: the JSON numbers are the float32 values widened to doubles.
    expect(Float32Array.from(body.outputs[0]!.data as number[])).toEqual(expected.probabilities);
    expect(body.outputs[1]!.data).toEqual(Array.from(expected.label, Number));
  });

  it('takes data flat as well as nested, and gives the same answer', async () => {
    const nested = await call(base, 'POST', '/v2/models/churn/infer', churnRequest(rows));
    const flat = await call(base, 'POST', '/v2/models/churn/infer', { inputs: [{ name: 'input', shape: [rows.length, CHURN_FEATURES], datatype: 'FP32', data: rows.flat() }] });
    expect(flat.status).toBe(200);
    expect(flat.json.outputs).toEqual(nested.json.outputs);
  });

  it('returns only the outputs asked for, and an id when the request gave none', async () => {
    const res = await call(base, 'POST', '/v2/models/churn/infer', churnRequest(rows, { outputs: [{ name: 'label' }] }));
    const body = S.InferenceResponse.parse(res.json);
    expect(body.outputs.map((o) => o.name)).toEqual(['label']);
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    const all = await call(base, 'POST', '/v2/models/churn/infer', churnRequest(rows, { outputs: [] }));
    expect(all.json.outputs.map((o: { name: string }) => o.name)).toEqual(['probabilities', 'label']);
  });

  it('uses the Ce-Id header as the response id when the body has none (the payload-log id)', async () => {
    const res = await call(base, 'POST', '/v2/models/churn/infer', churnRequest(rows), { 'ce-id': 'trace-7' });
    expect(res.json.id).toBe('trace-7');
  });

  it('answers v1 :predict with one prediction per instance, each output of the row by name', async () => {
    const res = await call(base, 'POST', '/v1/models/churn:predict', { instances: rows });
    expect(res.status).toBe(200);
    const body = S.V1Predictions.parse(res.json);
    const expected = await direct(rows);
    expect(body.predictions).toEqual(
      rows.map((_, i) => ({ probabilities: [expected.probabilities[2 * i], expected.probabilities[2 * i + 1]], label: Number(expected.label[i]) })),
    );
    const viaInputs = await call(base, 'POST', '/v1/models/churn:predict', { inputs: rows });
    expect(viaInputs.json).toEqual(res.json);
  });

  it('serves zero rows as zero rows', async () => {
    const res = await call(base, 'POST', '/v2/models/churn/infer', { inputs: [{ name: 'input', shape: [0, CHURN_FEATURES], datatype: 'FP32', data: [] }] });
    expect(res.status).toBe(200);
    expect(S.InferenceResponse.parse(res.json).outputs.map((o) => o.shape)).toEqual([[0, 2], [0]]);
  });
});

describe("KServe's status codes and {\"error\": …} bodies", () => {
  const missing = (name: string) => `Model with name ${name} does not exist.`;
  it.each([
    ['GET', '/v2/models/nope'],
    ['GET', '/v2/models/nope/ready'],
    ['POST', '/v2/models/nope/infer'],
    ['GET', '/v2/models/nope/versions/x'],
    ['GET', '/v1/models/nope'],
    ['POST', '/v1/models/nope:predict'],
  ])('%s %s: 404, the model does not exist', async (method, path) => {
    const res = await call(base, method, path, method === 'POST' ? churnRequest(rows) : undefined);
    expect(res.status).toBe(404);
    expect(S.ErrorResponse.parse(res.json)).toEqual({ error: missing('nope') });
  });

  it.each([
    ['GET', '/v2/models/churn/versions/sha256-0000000000000000'],
    ['GET', '/v2/models/churn/versions/sha256-0000000000000000/ready'],
    ['POST', '/v2/models/churn/versions/sha256-0000000000000000/infer'],
  ])('%s %s: 404 for a version this server does not serve', async (method, path) => {
    const res = await call(base, method, path, method === 'POST' ? churnRequest(rows) : undefined);
    expect(res.status).toBe(404);
    expect(res.json.error).toBe('Model with name churn and version sha256-0000000000000000 does not exist.');
  });

  it.each([
    ['GET', '/v2/models/churn/infer', 'POST'],
    ['POST', '/v2/models/churn', 'GET, HEAD'],
    ['DELETE', '/v2/health/ready', 'GET, HEAD'],
    ['GET', '/v1/models/churn:predict', 'POST'],
  ])('%s %s: 405 with Allow: %s', async (method, path, allow) => {
    const res = await call(base, method, path);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    S.ErrorResponse.parse(res.json);
  });

  it.each(['/v3/models/churn', '/v2/models/churn/explain', '/v1/models/churn:explain', '/v2/models/'])('%s: 404 with an error body', async (path) => {
    const res = await call(base, 'GET', path);
    expect(res.status).toBe(404);
    S.ErrorResponse.parse(res.json);
  });

  it('answers a path that is not valid percent-encoding with 400', async () => {
    const res = await call(base, 'GET', '/v2/models/%E0%A4%A/ready');
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/percent-encoding/);
  });

  it('finds a percent-encoded model name', async () => {
    expect((await call(base, 'GET', '/v2/models/%63hurn/ready')).status).toBe(200);
  });
});

describe('/metrics', () => {
  it('counts requests by route and code in the Prometheus text format', async () => {
    const before = await call(base, 'GET', '/metrics');
    const count = (text: string, route: string, code: number) => Number(new RegExp(`^mlops_serve_requests_total\\{model="churn",route="${route.replace(/[{}]/g, '\\$&')}",code="${code}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    await call(base, 'POST', '/v2/models/churn/infer', churnRequest(rows));
    await call(base, 'POST', '/v2/models/churn/infer', churnRequest(rows));
    await call(base, 'POST', '/v2/models/churn/infer', { inputs: [] });
    const after = await call(base, 'GET', '/metrics');
    expect(after.status).toBe(200);
    expect(after.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(count(after.text, '/v2/models/{name}/infer', 200) - count(before.text, '/v2/models/{name}/infer', 200)).toBe(2);
    expect(count(after.text, '/v2/models/{name}/infer', 400) - count(before.text, '/v2/models/{name}/infer', 400)).toBe(1);
    expect(after.text).toContain(`mlops_serve_model_info{model="churn",version="${churn.version}"} 1`);
    const infCount = Number(/^mlops_serve_request_duration_seconds_bucket\{model="churn",route="\/v2\/models\/\{name\}\/infer",le="\+Inf"\} (\d+)$/m.exec(after.text)?.[1]);
    const total = [...after.text.matchAll(/^mlops_serve_requests_total\{model="churn",route="\/v2\/models\/\{name\}\/infer",code="\d+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(total).toBeGreaterThanOrEqual(3);
    expect(infCount).toBe(total);
    expect(server.metrics()).toContain('# TYPE mlops_serve_request_duration_seconds histogram');
  });
});

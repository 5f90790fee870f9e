/**
 * A model server for the rollout tests, speaking the Open Inference Protocol v2 REST and KServe v1 as a KServe
 * runtime does (kserve docs/predict-api/v2/required_api.md; python/kserve/kserve/protocol/rest): health, model
 * metadata, infer/predict with KServe's status codes and `{"error": …}` bodies. Every infer request is checked
 * against the protocol (each input named as in the metadata, a known datatype, data length = product of the
 * shape) and answered 400 naming the input when it is wrong, so the verifier's requests are held to the spec.
 * The answer is computed from the input (a logistic score of the row sum), not canned.
 *
 *   const server = await startOipServer({ name: 'churn', version: 'sha256-…', inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3] }] });
 *   server.ready = false;    // /ready answers 503
 *   await server.close();
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OipTensor {
  name: string;
  datatype: string;
  shape: number[];
}

export interface OipServerOptions {
  name: string;
  /** Reported in the v2 model metadata's `versions`. */
  version?: string;
  inputs: OipTensor[];
  outputs?: OipTensor[];
}

export interface OipServer {
  url: string;
  ready: boolean;
  version: string | undefined;
  /** Answer infer requests with this status and error instead (a model that fails at inference). */
  inferError: { status: number; error: string } | undefined;
  requests: { method: string; path: string; status: number; body?: unknown }[];
  close(): Promise<void>;
}

const DATATYPES = new Set(['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES']);

export async function startOipServer(options: OipServerOptions): Promise<OipServer> {
  const outputs = options.outputs ?? [
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
  ];
  const state: OipServer = { url: '', ready: true, version: options.version, inferError: undefined, requests: [], close: async () => {} };

  function send(res: ServerResponse, record: OipServer['requests'][number], status: number, body: unknown) {
    record.status = status;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  }

  function score(rows: number[][]) {
    const p = rows.map((row) => 1 / (1 + Math.exp(-row.reduce((a, b) => a + Number(b), 0))));
    return { labels: p.map((x) => (x >= 0.5 ? 1 : 0)), probabilities: p.flatMap((x) => [1 - x, x]) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const record: OipServer['requests'][number] = { method: req.method ?? 'GET', path: url.pathname, status: 0 };
    state.requests.push(record);
    let body: unknown;
    if (text) {
      try {
        body = JSON.parse(text);
        record.body = body;
      } catch {
        return send(res, record, 400, { error: 'Unrecognized request format: the body is not JSON' });
      }
    }
    const model = `/v2/models/${options.name}`;
    const v1 = `/v1/models/${options.name}`;
    const path = url.pathname.replace(/\/versions\/[^/]+/, '');
    const notReady = () => send(res, record, 503, { error: `Model with name ${options.name} is not ready.` });
    if (path === '/v2/health/live') return send(res, record, 200, { live: true });
    if (path === '/v2/health/ready') return state.ready ? send(res, record, 200, { ready: true }) : send(res, record, 503, { ready: false });
    if (path === `${model}/ready`) return state.ready ? send(res, record, 200, { name: options.name, ready: true }) : notReady();
    if (path === model && req.method === 'GET') {
      return send(res, record, 200, { name: options.name, ...(state.version ? { versions: [state.version] } : {}), platform: 'onnxruntime', inputs: options.inputs, outputs });
    }
    if (path === `${model}/infer` && req.method === 'POST') {
      if (!state.ready) return notReady();
      if (state.inferError) return send(res, record, state.inferError.status, { error: state.inferError.error });
      const inputs = (body as { inputs?: unknown })?.inputs;
      if (!Array.isArray(inputs) || inputs.length === 0) return send(res, record, 400, { error: 'Unrecognized request format: inputs is required' });
      for (const declared of options.inputs) {
        const input = inputs.find((i: { name?: unknown }) => i?.name === declared.name) as { shape?: unknown; datatype?: unknown; data?: unknown } | undefined;
        if (!input) return send(res, record, 400, { error: `Input ${declared.name} is missing` });
        if (typeof input.datatype !== 'string' || !DATATYPES.has(input.datatype) || input.datatype !== declared.datatype) {
          return send(res, record, 400, { error: `Input ${declared.name}: datatype ${String(input.datatype)} does not match ${declared.datatype}` });
        }
        const shape = Array.isArray(input.shape) ? input.shape.map(Number) : [];
        const fits = shape.length === declared.shape.length && shape.every((d, i) => Number.isInteger(d) && d > 0 && (declared.shape[i] === -1 || declared.shape[i] === d));
        if (!fits) return send(res, record, 400, { error: `Input ${declared.name}: shape [${shape.join(', ')}] does not fit [${declared.shape.join(', ')}]` });
        const data = Array.isArray(input.data) ? input.data.flat(Infinity) : [];
        if (data.length !== shape.reduce((a, b) => a * b, 1)) return send(res, record, 400, { error: `Input ${declared.name}: ${data.length} values for shape [${shape.join(', ')}]` });
      }
      const first = inputs[0] as { shape: number[]; data: unknown[] };
      const width = first.shape.slice(1).reduce((a, b) => a * b, 1);
      const flat = first.data.flat(Infinity).map(Number);
      const rows = Array.from({ length: first.shape[0] ?? 1 }, (_, r) => flat.slice(r * width, (r + 1) * width));
      const { labels, probabilities } = score(rows);
      return send(res, record, 200, {
        model_name: options.name,
        ...(state.version ? { model_version: state.version } : {}),
        id: (body as { id?: string }).id ?? 'infer',
        outputs: outputs.map((o) => (o.name === 'label' ? { name: o.name, shape: [rows.length], datatype: o.datatype, data: labels } : { name: o.name, shape: [rows.length, 2], datatype: o.datatype, data: probabilities })),
      });
    }
    if (path === v1 && req.method === 'GET') return state.ready ? send(res, record, 200, { name: options.name, ready: true }) : notReady();
    if (path === `${v1}:predict` && req.method === 'POST') {
      if (!state.ready) return notReady();
      const instances = (body as { instances?: unknown })?.instances;
      if (!Array.isArray(instances)) return send(res, record, 400, { error: 'Expected "instances" to be a list' });
      return send(res, record, 200, { predictions: score(instances.map((r) => (Array.isArray(r) ? r : [r]))).labels });
    }
    if (path.startsWith('/v2/models/') || path.startsWith('/v1/models/')) return send(res, record, 404, { error: `Model with name ${path.split('/')[3]?.split(':')[0]} does not exist.` });
    return send(res, record, 404, { error: 'Not Found' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500).end(JSON.stringify({ error: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

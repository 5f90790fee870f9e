import { networkCause } from '../kube/errors.ts';
import type { TensorSignature } from '../model/signature.ts';
import type { Check } from './check.ts';
import { requestFromSignature, type SmokeRequest } from './sample.ts';

export type Protocol = 'v2' | 'v1';

export interface EndpointTarget {
  /** The server's base URL (`http://churn.ml.example.com`, `http://127.0.0.1:8080`). */
  url: string;
  /** The model name in the URL path (`/v2/models/<model>`). */
  model: string;
  protocol: Protocol;
}

export interface EndpointExpectation {
  /** The model version that must be served (`sha256-…`). */
  version?: string;
  /**
   * True: the server must report `version` in its v2 metadata (`mlops serve` does). False: a KServe runtime
   * reports its own versions, so only a different `sha256-…` version there fails the check.
   */
  requireVersion: boolean;
  /** The smoke request; without it one is built from the server's v2 metadata. */
  request?: SmokeRequest;
}

export type Probe =
  /** Nothing answered: connection refused, DNS, TLS, no answer in time. */
  | { reached: false; error: string }
  | { reached: true; checks: Check[] };

export interface ProbeOptions {
  fetch?: typeof fetch;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Longest response body read from the endpoint; the rest is not ours to hold. */
const MAX_BODY = 1 << 20;

/**
 * One probe of an Open Inference Protocol (v2) or KServe v1 endpoint: the model is ready, serves the expected
 * version, and answers one smoke inference with the declared outputs. Two checks: `endpoint` and `inference`.
 */
export async function probeEndpoint(target: EndpointTarget, expected: EndpointExpectation, options: ProbeOptions = {}): Promise<Probe> {
  const http = new Http(target.url, options);
  try {
    return target.protocol === 'v2' ? await probeV2(http, target, expected) : await probeV1(http, target, expected);
  } catch (error) {
    if (error instanceof Unreachable) return { reached: false, error: error.message };
    throw error;
  }
}

async function probeV2(http: Http, target: EndpointTarget, expected: EndpointExpectation): Promise<Probe> {
  const model = `/v2/models/${encodeURIComponent(target.model)}`;
  const ready = await http.request('GET', `${model}/ready`);
  if (ready.status !== 200) return fail(`GET ${model}/ready answered ${ready.status}${excerpt(ready.body)}`);
  const meta = await http.request('GET', model);
  if (meta.status !== 200) return fail(`GET ${model} answered ${meta.status}${excerpt(meta.body)}`);
  const metadata = parseJson(meta.body) as { name?: unknown; versions?: unknown; inputs?: unknown; outputs?: unknown } | undefined;
  if (!metadata || typeof metadata !== 'object') return fail(`GET ${model} did not answer model metadata JSON${excerpt(meta.body)}`);
  const versions = Array.isArray(metadata.versions) ? metadata.versions.map(String) : [];
  const endpoint = versionCheck(versions, expected);
  let request = expected.request;
  if (!request) {
    try {
      request = requestFromSignature({ inputs: tensors(metadata.inputs), outputs: tensors(metadata.outputs) }, `the model metadata at ${model}`);
    } catch (error) {
      return { reached: true, checks: [endpoint, { name: 'inference', ok: false, detail: (error as Error).message }] };
    }
  }
  const started = performance.now();
  const infer = await http.request('POST', `${model}/infer`, { id: 'mlops-rollout-smoke', inputs: request.v2.inputs });
  const ms = performance.now() - started;
  if (infer.status !== 200) return { reached: true, checks: [endpoint, { name: 'inference', ok: false, detail: `POST ${model}/infer answered ${infer.status}${excerpt(infer.body)}` }] };
  const answer = parseJson(infer.body) as { outputs?: { name?: unknown; data?: unknown }[] } | undefined;
  const outputs = Array.isArray(answer?.outputs) ? answer.outputs : [];
  const names = outputs.map((o) => String(o?.name));
  const missing = request.outputs.filter((n) => !names.includes(n));
  const empty = outputs.filter((o) => !Array.isArray(o?.data) || o.data.length === 0).map((o) => String(o?.name));
  let inference: Check;
  if (outputs.length === 0) inference = { name: 'inference', ok: false, detail: `POST ${model}/infer answered no outputs${excerpt(infer.body)}` };
  else if (missing.length > 0) inference = { name: 'inference', ok: false, detail: `the answer lacks the declared output(s) ${missing.join(', ')} (it has ${names.join(', ')})` };
  else if (empty.length > 0) inference = { name: 'inference', ok: false, detail: `output(s) ${empty.join(', ')} came back without data` };
  else inference = { name: 'inference', ok: true, detail: `one ${request.rows}-row inference (${request.source}) answered ${names.join(', ')} in ${ms.toFixed(1)} ms` };
  return { reached: true, checks: [endpoint, inference] };
}

async function probeV1(http: Http, target: EndpointTarget, expected: EndpointExpectation): Promise<Probe> {
  const model = `/v1/models/${encodeURIComponent(target.model)}`;
  const ready = await http.request('GET', model);
  const status = parseJson(ready.body) as { ready?: unknown } | undefined;
  if (ready.status !== 200 || status?.ready === false) return fail(`GET ${model} answered ${ready.status}${excerpt(ready.body)}`);
  const endpoint: Check = expected.requireVersion
    ? { name: 'endpoint', ok: false, detail: 'the v1 protocol reports no model version: use the v2 protocol to check it' }
    : { name: 'endpoint', ok: true, detail: `${model} is ready (v1)` };
  if (!expected.request) return { reached: true, checks: [endpoint, { name: 'inference', ok: false, detail: 'no sample: the v1 protocol has no metadata to build one from; give the model card or a sample' }] };
  const started = performance.now();
  const predict = await http.request('POST', `${model}:predict`, expected.request.v1);
  const ms = performance.now() - started;
  const answer = parseJson(predict.body) as { predictions?: unknown } | undefined;
  const rows = Array.isArray(answer?.predictions) ? answer.predictions.length : -1;
  const inference: Check =
    predict.status !== 200
      ? { name: 'inference', ok: false, detail: `POST ${model}:predict answered ${predict.status}${excerpt(predict.body)}` }
      : rows !== expected.request.v1.instances.length
        ? { name: 'inference', ok: false, detail: `POST ${model}:predict answered ${rows < 0 ? 'no predictions' : `${rows} prediction(s) for ${expected.request.v1.instances.length} instance(s)`}` }
        : { name: 'inference', ok: true, detail: `one ${rows}-row prediction (${expected.request.source}) answered in ${ms.toFixed(1)} ms` };
  return { reached: true, checks: [endpoint, inference] };
}

function versionCheck(versions: string[], expected: EndpointExpectation): Check {
  const shown = versions.length > 0 ? versions.join(', ') : 'none';
  if (!expected.version) return { name: 'endpoint', ok: true, detail: `ready; model versions ${shown}` };
  if (versions.includes(expected.version)) return { name: 'endpoint', ok: true, detail: `ready, serving version ${expected.version}` };
  const ours = versions.filter((v) => /^sha256-[0-9a-f]{16}$/.test(v));
  if (expected.requireVersion || ours.length > 0) return { name: 'endpoint', ok: false, detail: `ready, but serves version ${shown}, not ${expected.version}` };
  return { name: 'endpoint', ok: true, detail: `ready (the runtime reports version ${shown}; the pods' source URI identifies the model)` };
}

function fail(detail: string): Probe {
  return { reached: true, checks: [{ name: 'endpoint', ok: false, detail }, { name: 'inference', ok: false, detail: 'waiting for the endpoint' }] };
}

function tensors(value: unknown): TensorSignature[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((t): t is { name: unknown; datatype: unknown; shape: unknown } => typeof t === 'object' && t !== null)
    .map((t) => ({ name: String(t.name), dtype: String(t.datatype), shape: Array.isArray(t.shape) ? t.shape.map(Number) : [] }));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A short, single-line piece of a body for a reason line (escaped later wherever it is shown). */
function excerpt(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  return text ? `: ${text.length > 200 ? `${text.slice(0, 197)}...` : text}` : '';
}

class Unreachable extends Error {}

class Http {
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly signal: AbortSignal | undefined;

  constructor(base: string, options: ProbeOptions) {
    this.base = base.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.signal = options.signal;
  }

  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: string }> {
    const signals = [AbortSignal.timeout(this.timeoutMs), ...(this.signal ? [this.signal] : [])];
    let response: Response;
    try {
      response = await this.fetch(`${this.base}${path}`, {
        method,
        headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.any(signals),
        redirect: 'error',
      });
    } catch (error) {
      const why = (error as { name?: string }).name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : networkCause(error);
      throw new Unreachable(`${method} ${this.base}${path}: ${why}`);
    }
    return { status: response.status, body: await readLimited(response) };
  }
}

async function readLimited(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_BODY) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut short is judged by what arrived.
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8');
}

/**
 * `mlops serve` as a library: an Open Inference Protocol v2 REST + KServe v1 server for one published model
 * version, on node:http with onnxruntime-node. The CLI (src/cli/commands/serve.ts), the demo and tests start it
 * in-process with {@link startServer}.
 *
 * Lifecycle: the port is bound first (a port in use fails before any download), then the version is downloaded
 * with every file's SHA-256 checked (src/model/download.ts) and loaded; until then `/v2/health/ready` and model
 * routes answer 503, and `/v2/health/live` 200. `close()` turns readiness off (503), lets in-flight requests
 * finish (up to `drainMs`), writes the payload log's last batch, and releases the model and its local copy.
 *
 * Status codes and bodies follow KServe's Python server (python/kserve/kserve/errors.py): 404
 * `{"error": "Model with name X does not exist."}`, 503 `{"error": "Model with name X is not ready."}`, 400
 * `{"error": …}` naming the input or field for a bad request body, 413 for a body over `maxBodyBytes`, 405 for a
 * wrong method, 500 `{"error": …}` if onnxruntime fails. Nothing a client sends can stop the server.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pkg from '../../package.json' with { type: 'json' };
import { UsageError, badInput } from '../errors.ts';
import { loadOnnxRuntime, type OnnxRuntime } from '../evaluate/onnxruntime-loader.ts';
import type { Logger } from '../log.ts';
import type { ModelCard } from '../model/card.ts';
import { downloadModelVersion, onnxFile, type DownloadedVersion } from '../model/download.ts';
import { openRemote as openStorage } from '../storage/open-remote.ts';
import type { Remote } from '../storage/remote.ts';
import { BadRequest, inferV2, predictV1, type ServedModel } from './inference.ts';
import { ServeMetrics } from './metrics.ts';
import { loadModel, ONNX_PLATFORM, type LoadedModel } from './model.ts';
import { PayloadLog } from './payload-log.ts';
import { BadPath, matchRoute, type Route } from './routes.ts';
import { TensorError } from './tensors.ts';

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  namespace: 'default',
  maxBodyBytes: 64 << 20,
  drainMs: 10_000,
} as const;

/** Server name in `GET /v2` (`$metadata_server_response`). */
export const SERVER_NAME = 'mlops-serve';

export interface ServeOptions {
  /** What publish printed: `s3://…/models/<name>/<version>/`, `file:///…/`, or a directory holding model.json. */
  storageUri: string;
  /** Model name in URLs and payload logs (default: model.json's `name`). */
  name?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 takes a free port (read it from `url`). */
  port?: number;
  /** Payload-log destination: a directory or `s3://bucket/prefix`. Off when absent. */
  logPayloads?: string;
  /** CloudEvents `namespace` attribute (default `default`). */
  namespace?: string;
  /** Payload-log batching (see payload-log.ts): write at least every `payloadFlushMs` (5000) or at `payloadBatchBytes` (4 MiB). */
  payloadFlushMs?: number;
  payloadBatchBytes?: number;
  /** Largest request body accepted (default 64 MiB); larger ones get 413. */
  maxBodyBytes?: number;
  /** How long `close()` waits for in-flight requests before closing their connections (default 10 s). */
  drainMs?: number;
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  intraOpThreads?: number;
  /** Aborting while the model downloads or loads stops the start (the promise rejects) and frees the port. */
  signal?: AbortSignal;
}

export interface ServeDeps {
  logger: Logger;
  /** Opens the model's storage and an s3:// payload prefix (default: src/storage's openRemote from `cwd`). */
  openRemote?: (url: string) => Remote;
  /** onnxruntime-node (default: loaded with the evaluate action's tool-cache strategy). */
  ort?: OnnxRuntime;
  cwd?: string;
  /** Clock for payload-log times. */
  now?: () => Date;
  /** Called once the port is bound, before the model is ready (routes answer 503 until then). */
  onListening?: (url: string) => void;
}

export interface CloseSummary {
  /** Payload-log records written, files written, records dropped (all 0 without payload logging). */
  payloadRecords: number;
  payloadFiles: number;
  payloadDropped: number;
}

export interface RunningServer {
  /** `http://<host>:<port>` (no trailing slash). */
  url: string;
  name: string;
  version: string;
  /** The storage URI served, normalised with a trailing `/`. */
  storageUri: string;
  card: ModelCard;
  /** Prometheus exposition text, as `/metrics` answers it. */
  metrics(): string;
  /** Stops serving (readiness off, in-flight requests finish), flushes payload logs, releases the model. Idempotent. */
  close(): Promise<CloseSummary>;
}

/** Model names as they appear in URL paths (Kubernetes object names are a subset). */
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;

class BodyTooLarge extends Error {}
class ClientGone extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', () => reject(new ClientGone()));
  });
}

/** The CloudEvent id: the request's Ce-Id header as KServe's logger takes it, when it is sane; else a UUID. */
function eventId(req: IncomingMessage): string {
  const given = req.headers['ce-id'];
  return typeof given === 'string' && given.length > 0 && given.length <= 256 && /^[\x21-\x7e]+$/.test(given) ? given : randomUUID();
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new Error(`port ${port} on ${host} is in use: stop what listens there or choose another --port`));
      else if (error.code === 'EACCES') reject(new Error(`port ${port} on ${host} needs privileges this process does not have: choose a port above 1023`));
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') reject(new Error(`host ${host} is not an address of this machine (${error.code}): give --host 127.0.0.1, 0.0.0.0 or one of its addresses`));
      else reject(error);
    };
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
}

function checkOptions(options: ServeOptions) {
  if (options.name !== undefined && !NAME.test(options.name)) {
    throw badInput('name', options.name, 'is not a model name for URLs: use letters, digits, . _ - (starting and ending with a letter or digit)');
  }
  const port = options.port ?? SERVE_DEFAULTS.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw badInput('port', options.port, 'is not a port: give a whole number from 0 to 65535 (0 picks a free one)');
  const host = options.host ?? SERVE_DEFAULTS.host;
  if (host.trim() === '') throw badInput('host', host, 'is empty: give an address to listen on, e.g. 127.0.0.1');
  for (const [key, value] of Object.entries({ payloadFlushMs: options.payloadFlushMs, payloadBatchBytes: options.payloadBatchBytes, maxBodyBytes: options.maxBodyBytes, drainMs: options.drainMs })) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw badInput(key, value, 'must be a positive number');
  }
  if (options.logPayloads !== undefined && options.logPayloads.trim() === '') throw badInput('log-payloads', options.logPayloads, 'is empty: give a directory or s3://bucket/prefix');
  return { port, host, maxBodyBytes: options.maxBodyBytes ?? SERVE_DEFAULTS.maxBodyBytes, drainMs: options.drainMs ?? SERVE_DEFAULTS.drainMs };
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

/** Starts serving the version at `options.storageUri`; resolves once it is ready (the port is bound before). */
export async function startServer(options: ServeOptions, deps: ServeDeps): Promise<RunningServer> {
  const { port, host, maxBodyBytes, drainMs } = checkOptions(options);
  const { logger } = deps;
  const open = deps.openRemote ?? ((url: string) => openStorage(url, { cwd: deps.cwd ?? process.cwd() }));
  // Opened before the port is bound so a bad destination is a usage error with nothing started.
  const payloadRemote = options.logPayloads !== undefined ? open(options.logPayloads.trim()) : undefined;
  if (payloadRemote && !payloadRemote.url.startsWith('s3://')) await mkdir(payloadRemote.url, { recursive: true });

  const metrics = new ServeMetrics(options.name ?? '');
  let phase: 'loading' | 'ready' | 'stopping' = 'loading';
  let served: ServedModel | undefined;
  let metadataJson = '';
  let payloadLog: PayloadLog | undefined;
  let inFlight = 0;
  let idle: (() => void) | undefined;

  const send = (res: ServerResponse, status: number, body: string | Buffer, route: string, started: number, headers: Record<string, string> = {}) => {
    if (!res.headersSent) {
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': String(typeof body === 'string' ? Buffer.byteLength(body) : body.length),
        ...(phase === 'stopping' ? { connection: 'close' } : {}),
        ...headers,
      });
      res.end(body);
    }
    metrics.observe(route, status, (performance.now() - started) / 1000);
  };
  const error = (message: string) => json({ error: message });

  /** Why a model route cannot be answered now (404 unknown name or version, 503 not ready), if it cannot. */
  const modelProblem = (route: Route): [number, string] | undefined => {
    const name = route.name as string;
    const known = served?.name ?? options.name;
    if (known !== undefined && name !== known) return [404, `Model with name ${name} does not exist.`];
    if (phase !== 'ready' || !served) return [503, `Model with name ${name} is not ready.`];
    if (route.version !== undefined && route.version !== served.version) return [404, `Model with name ${name} and version ${route.version} does not exist.`];
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, started: number): Promise<void> => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let route: Route;
    try {
      route = matchRoute(q >= 0 ? url.slice(0, q) : url);
    } catch (e) {
      if (e instanceof BadPath) return send(res, 400, error(e.message), 'unknown', started);
      throw e;
    }
    const template = route.template;
    if (route.kind === 'unknown') return send(res, 404, error(`no endpoint at ${JSON.stringify(url.slice(0, 200))}: see GET /v2 and GET /v1/models`), template, started);
    if (!route.methods.includes(req.method ?? '')) {
      return send(res, 405, error(`${req.method} is not allowed on ${template}: use ${route.methods[0]}`), template, started, { allow: route.methods.join(', ') });
    }
    switch (route.kind) {
      case 'v1-root':
        return send(res, 200, '{"status":"alive"}', template, started);
      case 'live':
        return send(res, 200, '{"live":true}', template, started);
      case 'ready':
        return phase === 'ready' ? send(res, 200, '{"ready":true}', template, started) : send(res, 503, '{"ready":false}', template, started);
      case 'server-metadata':
        return send(res, 200, json({ name: SERVER_NAME, version: pkg.version, extensions: [] }), template, started);
      case 'v1-models':
        return send(res, 200, json({ models: phase === 'ready' && served ? [served.name] : [] }), template, started);
      case 'metrics':
        return send(res, 200, metrics.render(), template, started, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      default:
        break;
    }
    const problem = modelProblem(route);
    if (problem) return send(res, problem[0], error(problem[1]), template, started);
    const model = served as ServedModel;
    if (route.kind === 'model-metadata') return send(res, 200, metadataJson, template, started);
    if (route.kind === 'model-ready' || route.kind === 'v1-model') return send(res, 200, json({ name: model.name, ready: true }), template, started);

    // infer / v1-predict
    let body: Buffer;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (e) {
      if (e instanceof BodyTooLarge) return send(res, 413, error(`body: is larger than ${maxBodyBytes} bytes: send smaller batches`), template, started, { connection: 'close' });
      if (e instanceof ClientGone) return;
      throw e;
    }
    const id = eventId(req);
    const log = payloadLog;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (e) {
      log?.request(id, body, undefined, req.headers['content-type']);
      return send(res, 400, error(`body: is not valid JSON (${(e as Error).message})`), template, started);
    }
    log?.request(id, body, { value: parsed });
    let out: string;
    try {
      out = route.kind === 'infer' ? await inferV2(model, parsed, id) : await predictV1(model, parsed);
    } catch (e) {
      if (e instanceof TensorError || e instanceof BadRequest) return send(res, 400, error(e.message), template, started);
      throw e;
    }
    if (!log) return send(res, 200, out, template, started);
    // Encoded once: the same bytes go to the client and to the payload log.
    const bytes = Buffer.from(out);
    send(res, 200, bytes, template, started);
    log.response(id, bytes);
  };

  const http = createServer((req, res) => {
    const started = performance.now();
    inFlight++;
    handle(req, res, started)
      .catch((e: unknown) => {
        const message = (e as Error)?.message?.split('\n')[0] ?? String(e);
        logger.error(`serve: ${req.method} ${JSON.stringify((req.url ?? '').slice(0, 200))} failed: ${message}`);
        send(res, 500, error(`inference failed: ${message}`), 'unknown', started);
      })
      .finally(() => {
        inFlight--;
        if (inFlight === 0) idle?.();
      });
  });

  try {
    await listen(http, port, host);
  } catch (e) {
    await payloadRemote?.close();
    throw e;
  }
  http.on('error', (e) => logger.error(`serve: ${(e as Error).message}`));
  const url = `http://${hostForUrl(host)}:${(http.address() as AddressInfo).port}`;
  deps.onListening?.(url);

  let version: DownloadedVersion | undefined;
  let model: LoadedModel | undefined;
  const stopHttp = async () => {
    phase = 'stopping';
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeIdleConnections();
    const timer = setTimeout(() => http.closeAllConnections(), drainMs);
    const drained = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
    await Promise.all([closed, drained]);
    clearTimeout(timer);
  };
  const release = async () => {
    await model?.release().catch(() => undefined);
    await version?.remove();
    await payloadRemote?.close();
  };
  const aborted = () => {
    if (options.signal?.aborted) throw new Error('serve: stopped while the model was loading');
  };

  try {
    aborted();
    version = await downloadModelVersion(options.storageUri, { openRemote: open, logger, ...(deps.cwd ? { cwd: deps.cwd } : {}) });
    aborted();
    const card = version.card;
    const name = options.name ?? card.name;
    if (!NAME.test(name)) throw badInput('name', name, `(model.json's name) cannot be used in URLs: pass --name with letters, digits, . _ -`);
    if (card.format !== 'onnx') throw new UsageError(`storage-uri: ${version.storageUri} is a ${JSON.stringify(card.format)} model; mlops serve serves ONNX models`);
    const file = onnxFile(version);
    if (!file) throw new UsageError(`storage-uri: ${version.storageUri} holds ${card.files.filter((f) => f.path.endsWith('.onnx')).length} .onnx files and none is model.onnx: cannot tell which to serve`);
    const ort = deps.ort ?? (await loadOnnxRuntime({ logger })).ort;
    model = await loadModel(ort, file, logger, options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {});
    aborted();
    const unservable = model.inputs.find((i) => i.datatype === undefined || i.datatype === 'FP16');
    if (unservable) throw new UsageError(`storage-uri: the model's input ${JSON.stringify(unservable.name)} is ${unservable.type}, which cannot be sent as JSON: export the model with float32 inputs`);
    served = {
      name,
      version: card.version,
      model,
      ort,
      inputsByName: new Map(model.inputs.map((i) => [i.name, i])),
      outputsByName: new Map(model.outputs.map((o) => [o.name, o])),
    };
    metadataJson = json({
      name,
      versions: [card.version],
      platform: ONNX_PLATFORM,
      inputs: model.inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape })),
      outputs: model.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape })),
    });
    if (payloadRemote) {
      payloadLog = new PayloadLog(
        {
          source: `${url}/`,
          inferenceService: name,
          namespace: options.namespace ?? SERVE_DEFAULTS.namespace,
          component: 'predictor',
          endpoint: 'default',
          ...(options.payloadFlushMs ? { flushMs: options.payloadFlushMs } : {}),
          ...(options.payloadBatchBytes ? { batchBytes: options.payloadBatchBytes } : {}),
        },
        { remote: payloadRemote, logger, ...(deps.now ? { now: deps.now } : {}) },
      );
    }
    const log = payloadLog;
    metrics.loaded(name, card.version, log && (() => log.stats()));
    phase = 'ready';
  } catch (e) {
    await stopHttp();
    await payloadLog?.close().catch(() => undefined);
    await release();
    throw e;
  }

  const ready = served as ServedModel;
  const readyVersion = version as DownloadedVersion;
  let closing: Promise<CloseSummary> | undefined;
  return {
    url,
    name: ready.name,
    version: ready.version,
    storageUri: readyVersion.storageUri,
    card: readyVersion.card,
    metrics: () => metrics.render(),
    close() {
      closing ??= (async () => {
        try {
          await stopHttp();
          const written = payloadLog ? await payloadLog.close() : { records: 0, files: 0, dropped: 0 };
          return { payloadRecords: written.records, payloadFiles: written.files, payloadDropped: written.dropped };
        } finally {
          await release();
        }
      })();
      return closing;
    },
  };
}

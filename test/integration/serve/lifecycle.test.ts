// The server's life: the port is bound before the model loads (live 200, ready and model routes 503 until the
// version is downloaded and loaded); close() lets requests in flight finish before it resolves; aborting a
// start frees the port; a port in use fails before anything is downloaded.
import { createServer, type Server } from 'node:net';
import * as ortModule from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnnxRuntime } from '../../../src/evaluate/onnxruntime-loader.ts';
import { silentLogger } from '../../../src/log.ts';
import { startServer } from '../../../src/serve/index.ts';
import { openRemote } from '../../../src/storage/open-remote.ts';
import type { Remote } from '../../../src/storage/remote.ts';
import { call, churnRequest } from './client.ts';
import { churnModel, CHURN_FEATURES, type Churn } from './fixtures.ts';
import * as S from './oip-schemas.ts';

const ort = ortModule as unknown as OnnxRuntime;
let churn: Churn;
let row: number[];
beforeAll(async () => {
  churn = await churnModel({ rows: 200 });
  row = churn.rows[0]!.slice(0, CHURN_FEATURES);
});

/** A gate a test opens when it is ready for the next step. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** The real remote, with model.json held back until `release` opens. */
function heldRemote(release: Promise<void>): (url: string) => Remote {
  return (url) => {
    const remote = openRemote(url);
    return {
      url: remote.url,
      head: (k) => remote.head(k),
      putIfAbsent: (k, b, o) => remote.putIfAbsent(k, b, o),
      read: async (k) => {
        await release;
        return remote.read(k);
      },
      download: (k, f, o) => remote.download(k, f, o),
      close: () => remote.close(),
    };
  };
}

describe('while the model loads', () => {
  it('is live, not ready (503) for the model, and ready once loaded', async () => {
    const release = gate();
    let url = '';
    const starting = startServer(
      { storageUri: churn.storageUri, port: 0, name: 'churn' },
      { logger: silentLogger, openRemote: heldRemote(release.opened), onListening: (u) => (url = u) },
    );
    while (!url) await new Promise((r) => setTimeout(r, 5));
    expect((await call(url, 'GET', '/v2/health/live')).status).toBe(200);
    const ready = await call(url, 'GET', '/v2/health/ready');
    expect(ready.status).toBe(503);
    expect(S.ServerReady.parse(ready.json)).toEqual({ ready: false });
    for (const [method, path] of [['GET', '/v2/models/churn/ready'], ['GET', '/v2/models/churn'], ['POST', '/v2/models/churn/infer'], ['GET', '/v1/models/churn'], ['POST', '/v1/models/churn:predict']] as const) {
      const res = await call(url, method, path, method === 'POST' ? churnRequest([row]) : undefined);
      expect(res.status, `${method} ${path}`).toBe(503);
      expect(S.ErrorResponse.parse(res.json)).toEqual({ error: 'Model with name churn is not ready.' });
    }
    // The name was given, so another name is known not to exist even before loading.
    expect((await call(url, 'GET', '/v2/models/other/ready')).status).toBe(404);
    expect((await call(url, 'GET', '/v1/models')).json).toEqual({ models: [] });

    release.open();
    const server = await starting;
    expect(server.url).toBe(url);
    expect((await call(url, 'GET', '/v2/health/ready')).status).toBe(200);
    expect((await call(url, 'POST', '/v2/models/churn/infer', churnRequest([row]))).status).toBe(200);
    await server.close();
  });

  it('frees the port when the start is aborted', async () => {
    const release = gate();
    const controller = new AbortController();
    let url = '';
    const starting = startServer(
      { storageUri: churn.storageUri, port: 0, signal: controller.signal },
      { logger: silentLogger, openRemote: heldRemote(release.opened), onListening: (u) => (url = u) },
    );
    while (!url) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    release.open();
    await expect(starting).rejects.toThrow(/stopped while the model was loading/);
    await expect(fetch(`${url}/v2/health/live`)).rejects.toThrow();
  });
});

describe('close()', () => {
  it('waits for requests in flight, which still get their answer', async () => {
    // onnxruntime, with each run held until the test lets it go.
    const hold = gate();
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const held = {
      ...ort,
      InferenceSession: {
        create: async (...args: Parameters<OnnxRuntime['InferenceSession']['create']>) => {
          const session = await ort.InferenceSession.create(...args);
          return new Proxy(session, {
            get(target, prop, receiver) {
              if (prop === 'run') {
                return async (...a: Parameters<typeof session.run>) => {
                  started();
                  await hold.opened;
                  return target.run(...a);
                };
              }
              const value = Reflect.get(target, prop, receiver);
              return typeof value === 'function' ? value.bind(target) : value;
            },
          });
        },
      },
    } as unknown as OnnxRuntime;
    const server = await startServer({ storageUri: churn.storageUri, port: 0 }, { logger: silentLogger, ort: held });
    const inFlight = call(server.url, 'POST', '/v2/models/churn/infer', churnRequest([row]));
    await running;
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(false);
    // No new connections once closing has begun.
    await expect(fetch(`${server.url}/v2/health/live`)).rejects.toThrow();
    hold.open();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.json.outputs[0].shape).toEqual([1, 2]);
    await closing;
    expect(closed).toBe(true);
    // Idempotent: a second close answers the same.
    expect(await server.close()).toEqual({ payloadRecords: 0, payloadFiles: 0, payloadDropped: 0 });
  });
});

describe('a port in use', () => {
  let blocker: Server;
  let port: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('fails naming the port, before downloading anything', async () => {
    let reads = 0;
    const counting = (url: string): Remote => {
      const remote = openRemote(url);
      return { ...remote, url: remote.url, read: (k) => (reads++, remote.read(k)), head: (k) => remote.head(k), putIfAbsent: (k, b, o) => remote.putIfAbsent(k, b, o), download: (k, f, o) => remote.download(k, f, o), close: () => remote.close() };
    };
    await expect(startServer({ storageUri: churn.storageUri, port }, { logger: silentLogger, openRemote: counting })).rejects.toThrow(
      `port ${port} on 127.0.0.1 is in use: stop what listens there or choose another --port`,
    );
    expect(reads).toBe(0);
  });
});

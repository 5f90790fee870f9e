// A small HTTP proxy between an S3 client and server that records every request and injects faults:
// 503 SlowDown, a connection reset while the request body is being sent, a reset halfway through the
// response body, or a corrupted response body. Headers (Host included) pass unchanged, so SigV4 still verifies.
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  /** Path and query, as sent (`/bucket/files/md5/ab/cd…?partNumber=2&uploadId=…`). */
  url: string;
  /** The Range header, when the request had one. */
  range?: string;
}

export type Fault = 'pass' | 'slowdown' | 'reset-request' | 'reset-response' | 'corrupt-response';

export interface FaultProxy {
  endpoint: string;
  requests: SeenRequest[];
  /** Decides the fault for each request; `n` counts earlier requests with the same method and URL. */
  setFault(decide: ((req: SeenRequest, n: number) => Fault) | undefined): void;
  /** Holds every request this long before handling it (to make a run slow enough to interrupt). */
  setDelay(ms: number): void;
  /** Requests seen so far with this method (and, optionally, URL containing `part`). */
  count(method: string, part?: string): number;
  stop(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const requests: SeenRequest[] = [];
  const seen = new Map<string, number>();
  let decide: ((req: SeenRequest, n: number) => Fault) | undefined;
  const sockets = new Set<Socket>();
  let delayMs = 0;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (delayMs > 0) setTimeout(() => handle(req, res), delayMs);
    else handle(req, res);
  });
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const seenRequest: SeenRequest = { method: req.method ?? 'GET', url: req.url ?? '/', ...(req.headers.range ? { range: req.headers.range } : {}) };
    requests.push(seenRequest);
    const id = `${seenRequest.method} ${seenRequest.url.split('?')[0]}`;
    const n = seen.get(id) ?? 0;
    seen.set(id, n + 1);
    const fault = decide?.(seenRequest, n) ?? 'pass';

    if (fault === 'slowdown') {
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      });
      return;
    }
    if (fault === 'reset-request') {
      // Let part of the body arrive, then drop the connection as a flaky network would.
      const cut = () => req.socket.destroy();
      if (Number(req.headers['content-length'] ?? 0) > 0) req.once('data', cut);
      else cut();
      return;
    }
    const forward = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (fault === 'pass' || req.method === 'HEAD') {
          up.pipe(res);
          return;
        }
        let first = true;
        up.on('data', (chunk: Buffer) => {
          if (!first) return;
          first = false;
          if (fault === 'reset-response') {
            res.write(chunk.subarray(0, Math.max(1, chunk.length >> 1)));
            setImmediate(() => res.socket?.destroy());
          } else {
            const bad = Buffer.from(chunk);
            bad[0] = (bad[0] ?? 0) ^ 0xff;
            res.write(bad);
          }
        });
        up.on('end', () => {
          if (fault === 'corrupt-response') res.end();
        });
      },
    );
    forward.on('error', () => res.socket?.destroy());
    req.pipe(forward);
  };
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    setFault(d) {
      decide = d;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    count(method, part) {
      return requests.filter((r) => r.method === method && (part === undefined || r.url.includes(part))).length;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

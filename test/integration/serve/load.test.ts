// Concurrent load with payload logging on: Debian's wrk against the v2 endpoint (no socket error, no non-2xx,
// every request logged), and a Node client mixing good and bad v2/v1 requests from 64 connections, each answer
// checked against the answer that row gets alone (no cross-talk between concurrent requests).
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.ts';
import { startServer, type RunningServer } from '../../../src/serve/index.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { call, churnRequest, post } from './client.ts';
import { churnModel, CHURN_FEATURES, type Churn } from './fixtures.ts';

const WRK = '/usr/bin/wrk';
let churn: Churn;
let x: number[][];

beforeAll(async () => {
  churn = await churnModel({ rows: 400 });
  x = churn.rows.map((r) => r.slice(0, CHURN_FEATURES));
});

describe('under wrk', () => {
  let server: RunningServer;
  afterAll(async () => {
    await server?.close();
  });

  it('answers every request with 200, drops no connection, and logs every request and response', async () => {
    const dir = tempDir('load-payloads');
    server = await startServer({ storageUri: churn.storageUri, port: 0, logPayloads: dir, payloadFlushMs: 200 }, { logger: silentLogger });
    const script = join(tempDir('wrk'), 'post.lua');
    const body = JSON.stringify(churnRequest(x.slice(0, 4)));
    writeFileSync(
      script,
      [
        'wrk.method = "POST"',
        `wrk.body = ${JSON.stringify(body)}`,
        'wrk.headers["Content-Type"] = "application/json"',
        'done = function(summary, latency, requests)',
        '  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))',
        'end',
      ].join('\n'),
    );
    const { stdout } = await promisify(execFile)(WRK, ['-t2', '-c32', '-d2s', '--timeout', '10s', '-s', script, `${server.url}/v2/models/churn/infer`]);
    const [requests, connect, read, write, status, timeout] = /RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(stdout)!.slice(1).map(Number) as number[];
    expect({ connect, read, write, status, timeout }).toEqual({ connect: 0, read: 0, write: 0, status: 0, timeout: 0 });
    expect(requests).toBeGreaterThan(100);
    const summary = await server.close();
    const served = Number(/mlops_serve_requests_total\{model="churn",route="\/v2\/models\/\{name\}\/infer",code="200"\} (\d+)/.exec(server.metrics())![1]);
    expect(served).toBeGreaterThanOrEqual(requests!);
    expect(server.metrics()).not.toMatch(/code="[345]\d\d"/);
    // wrk stops counting at the deadline; requests it had in flight were still answered and logged.
    expect(summary.payloadDropped).toBe(0);
    expect(summary.payloadRecords).toBe(2 * served);
  });
});

describe('a Node client on 64 connections, mixed requests', () => {
  let server: RunningServer;
  afterAll(async () => {
    await server?.close();
  });

  it('gives each request its own answer', async () => {
    server = await startServer({ storageUri: churn.storageUri, port: 0, logPayloads: tempDir('mixed-payloads') }, { logger: silentLogger });
    // Each row's answer alone, to compare with what it gets under load.
    const alone = await call(server.url, 'POST', '/v2/models/churn/infer', churnRequest(x));
    const probabilities = alone.json.outputs[0].data as number[];
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    let next = 0;
    const total = 2000;
    const failures: string[] = [];
    const worker = async () => {
      for (let n = next++; n < total; n = next++) {
        const i = n % x.length;
        const kind = n % 5;
        const [path, body] =
          kind === 4
            ? ['/v2/models/churn/infer', { inputs: [{ name: 'input', shape: [1, 7], datatype: 'FP32', data: x[i]!.slice(0, 7) }] }]
            : kind === 3
              ? ['/v1/models/churn:predict', { instances: [x[i]] }]
              : ['/v2/models/churn/infer', churnRequest([x[i]!], { id: `n${n}` })];
        const res = await post(agent, `${server.url}${path}`, JSON.stringify(body));
        const json = JSON.parse(res.text);
        const expected = [probabilities[2 * i], probabilities[2 * i + 1]];
        const ok =
          kind === 4
            ? res.status === 400 && /input "input": shape \[1, 7\]/.test(json.error)
            : kind === 3
              ? res.status === 200 && JSON.stringify(json.predictions[0].probabilities) === JSON.stringify(expected)
              : res.status === 200 && json.id === `n${n}` && JSON.stringify(json.outputs[0].data) === JSON.stringify(expected);
        if (!ok) failures.push(`${n}: ${res.status} ${JSON.stringify(json).slice(0, 200)}`);
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    agent.destroy();
    expect(failures).toEqual([]);
    expect((await call(server.url, 'GET', '/v2/health/ready')).status).toBe(200);
    const summary = await server.close();
    // 2000 requests logged; 1600 answered 200 have a response record too.
    expect(summary).toMatchObject({ payloadRecords: 1 + 1 + total + (total * 4) / 5, payloadDropped: 0 });
  });
});

// /metrics scraped by a real Prometheus (Debian's): the series the canary analysis will query arrive with the
// values the server counted, and PromQL's histogram_quantile works on the latency histogram.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.ts';
import { startServer, type RunningServer } from '../../../src/serve/index.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { call, churnRequest } from './client.ts';
import { churnModel, CHURN_FEATURES } from './fixtures.ts';

let server: RunningServer;
let prometheus: ChildProcess;
let api: string;

beforeAll(async () => {
  const churn = await churnModel({ rows: 200 });
  server = await startServer({ storageUri: churn.storageUri, port: 0 }, { logger: silentLogger });
  const rows = churn.rows.slice(0, 2).map((r) => r.slice(0, CHURN_FEATURES));
  for (let i = 0; i < 25; i++) await call(server.url, 'POST', '/v2/models/churn/infer', churnRequest(rows));
  for (let i = 0; i < 3; i++) await call(server.url, 'POST', '/v2/models/churn/infer', { inputs: [] });

  const dir = tempDir('prometheus');
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: serve\n    static_configs:\n      - targets: ['${new URL(server.url).host}']\n`);
  prometheus = spawn('/usr/bin/prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, '--web.listen-address=127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  api = await new Promise<string>((resolve, reject) => {
    let log = '';
    const onData = (d: Buffer) => {
      log += d;
      const m = /msg="Listening on" address=(127\.0\.0\.1:\d+)/.exec(log);
      if (m) resolve(`http://${m[1]}`);
    };
    prometheus.stdout!.on('data', onData);
    prometheus.stderr!.on('data', onData);
    prometheus.once('exit', (code) => reject(new Error(`prometheus exited with ${code}: ${log}`)));
  });
  // It listens before it has opened its storage: wait for /-/ready.
  await eventually(async () => ((await fetch(`${api}/-/ready`)).status === 200 ? true : undefined));
});
afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus.once('exit', r));
    prometheus.kill('SIGTERM');
    await exited;
  }
  await server?.close();
});

async function query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  expect(body.status).toBe('success');
  return body.data.result;
}

async function eventually<T>(fn: () => Promise<T | undefined>, seconds = 30): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('Prometheus never scraped the expected series');
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('scraped by Prometheus', () => {
  it('carries request counts by code, the model version, and a usable latency histogram', async () => {
    const ok = await eventually(async () => (await query('mlops_serve_requests_total{route="/v2/models/{name}/infer",code="200"}'))[0]);
    expect(ok.metric).toMatchObject({ job: 'serve', model: 'churn', route: '/v2/models/{name}/infer', code: '200' });
    expect(Number(ok.value[1])).toBe(25);
    const bad = await query('mlops_serve_requests_total{route="/v2/models/{name}/infer",code="400"}');
    expect(Number(bad[0]!.value[1])).toBe(3);
    const info = await query('mlops_serve_model_info');
    expect(info[0]!.metric.version).toBe(server.version);
    const p99 = await query('histogram_quantile(0.99, sum by (le) (mlops_serve_request_duration_seconds_bucket{route="/v2/models/{name}/infer"}))');
    const seconds = Number(p99[0]!.value[1]);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(10);
  });
});

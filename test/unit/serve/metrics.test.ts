// The hand-written Prometheus exposition (src/serve/metrics.ts), checked by Debian's promtool (the Prometheus
// project's own linter and parser) and by the numbers it must carry.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS, ServeMetrics } from '../../../src/serve/metrics.ts';

function promtool(text: string): { status: number | null; output: string } {
  const run = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

function filled(): ServeMetrics {
  const m = new ServeMetrics('');
  m.loaded('churn', 'sha256-0123456789abcdef', () => ({ requests: 5, responses: 4, dropped: 1, pendingBytes: 321 }));
  m.observe('/v2/models/{name}/infer', 200, 0.0004);
  m.observe('/v2/models/{name}/infer', 200, 0.003);
  m.observe('/v2/models/{name}/infer', 400, 0.00005);
  m.observe('/v2/health/ready', 200, 42); // beyond the last bucket: only +Inf
  return m;
}

describe('ServeMetrics', () => {
  it('renders text promtool accepts without a lint finding', () => {
    const result = promtool(filled().render());
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('has the right values: counts by route and code, cumulative buckets, sum and count', () => {
    const text = filled().render();
    expect(text).toContain('mlops_serve_requests_total{model="churn",route="/v2/models/{name}/infer",code="200"} 2');
    expect(text).toContain('mlops_serve_requests_total{model="churn",route="/v2/models/{name}/infer",code="400"} 1');
    const bucket = (route: string, le: string) => Number(new RegExp(`^mlops_serve_request_duration_seconds_bucket\\{model="churn",route="${route.replace(/[{}/]/g, '\\$&')}",le="${le.replace('+', '\\+')}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    const infer = '/v2/models/{name}/infer';
    expect(bucket(infer, '0.0001')).toBe(1);
    expect(bucket(infer, '0.0005')).toBe(2);
    expect(bucket(infer, '0.0025')).toBe(2);
    expect(bucket(infer, '0.005')).toBe(3);
    expect(bucket(infer, '10')).toBe(3);
    expect(bucket(infer, '+Inf')).toBe(3);
    expect(bucket('/v2/health/ready', '10')).toBe(0);
    expect(bucket('/v2/health/ready', '+Inf')).toBe(1);
    expect(text).toMatch(/^mlops_serve_request_duration_seconds_sum\{model="churn",route="\/v2\/models\/\{name\}\/infer"\} 0\.00345\d*$/m);
    expect(text).toContain('mlops_serve_request_duration_seconds_count{model="churn",route="/v2/models/{name}/infer"} 3');
    expect(text).toContain('mlops_serve_model_info{model="churn",version="sha256-0123456789abcdef"} 1');
    expect(text).toContain('mlops_serve_payload_records_total{model="churn",type="request"} 5');
    expect(text).toContain('mlops_serve_payload_dropped_total{model="churn"} 1');
    expect(text).toContain('mlops_serve_payload_pending_bytes{model="churn"} 321');
    expect(text.match(/_bucket\{model="churn",route="\/v2\/models\/\{name\}\/infer"/g)).toHaveLength(LATENCY_BUCKETS.length + 1);
  });

  it('escapes label values, so a hostile model name cannot forge a series', () => {
    const m = new ServeMetrics('');
    m.loaded('a"b\\c\nfake_metric 1', 'v');
    m.observe('/v2', 200, 0.001);
    const text = m.render();
    expect(text).toContain('model="a\\"b\\\\c\\nfake_metric 1"');
    expect(text.split('\n').some((l) => l.startsWith('fake_metric'))).toBe(false);
    expect(promtool(text).status).toBe(0);
  });

  it('renders a valid exposition before any request or model', () => {
    const text = new ServeMetrics('').render();
    expect(promtool(text)).toEqual({ status: 0, output: '' });
    expect(text).not.toContain('mlops_serve_model_info{');
  });
});

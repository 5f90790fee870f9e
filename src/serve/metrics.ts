/**
 * Prometheus metrics for `mlops serve`, in the text exposition format 0.0.4 written by hand.
 *
 * Why not prom-client: the server needs one labelled counter, one labelled histogram and a few gauges. The
 * format for those is a handful of lines (`# HELP`, `# TYPE`, `name{labels} value`, histogram `_bucket` with
 * cumulative counts and `le="+Inf"`, `_sum`, `_count`), label values escaped (`\\`, `\"`, `\n`). prom-client
 * would add a dependency and its default process metrics for no gain in correctness; the tests check this
 * output with Debian's `promtool check metrics` and scrape it with a real Prometheus.
 *
 * Series:
 *   mlops_serve_requests_total{model, route, code}                 counter
 *   mlops_serve_request_duration_seconds{model, route}             histogram (arrival → response handed to the socket)
 *   mlops_serve_model_info{model, version}                          gauge, 1 while this version is loaded
 *   mlops_serve_payload_records_total{model, type}                  counter (request | response)
 *   mlops_serve_payload_dropped_total{model}                        counter (records dropped: buffer full or body unloggable)
 *   mlops_serve_payload_pending_bytes{model}                        gauge
 * `route` is the endpoint's template (`/v2/models/{name}/infer`), never the raw path, so cardinality stays bounded.
 */

/** Upper bounds in seconds: fine below 10 ms, where a small model's latency lives. */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

interface Histogram {
  counts: Float64Array;
  sum: number;
  count: number;
}

export interface PayloadStats {
  requests: number;
  responses: number;
  dropped: number;
  pendingBytes: number;
}

export class ServeMetrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  private model: string;
  private version: string | undefined;
  private payloads: (() => PayloadStats) | undefined;

  constructor(model: string) {
    this.model = escapeLabel(model);
  }

  /** The served name and loaded version (for mlops_serve_model_info), and where payload-log figures come from. */
  loaded(model: string, version: string, payloads?: () => PayloadStats): void {
    this.model = escapeLabel(model);
    this.version = escapeLabel(version);
    this.payloads = payloads;
  }

  /** Records one answered request. `route` must be one of the server's route templates. */
  observe(route: string, code: number, seconds: number): void {
    const key = `${route}\u0000${code}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    let h = this.latency.get(route);
    if (!h) {
      h = { counts: new Float64Array(LATENCY_BUCKETS.length), sum: 0, count: 0 };
      this.latency.set(route, h);
    }
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]!) {
        h.counts[i]!++;
        break;
      }
    }
    h.sum += seconds;
    h.count++;
  }

  /** The exposition text (`Content-Type: text/plain; version=0.0.4`). */
  render(): string {
    const m = `model="${this.model}"`;
    const lines: string[] = [];
    lines.push('# HELP mlops_serve_requests_total HTTP requests answered, by route template and status code.', '# TYPE mlops_serve_requests_total counter');
    for (const [key, value] of [...this.requests].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const [route, code] = key.split('\u0000');
      lines.push(`mlops_serve_requests_total{${m},route="${escapeLabel(route!)}",code="${code}"} ${value}`);
    }
    lines.push('# HELP mlops_serve_request_duration_seconds Time from a request\'s arrival to its response being handed to the socket.', '# TYPE mlops_serve_request_duration_seconds histogram');
    for (const [route, h] of [...this.latency].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const labels = `${m},route="${escapeLabel(route)}"`;
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += h.counts[i]!;
        lines.push(`mlops_serve_request_duration_seconds_bucket{${labels},le="${le}"} ${cumulative}`);
      });
      lines.push(`mlops_serve_request_duration_seconds_bucket{${labels},le="+Inf"} ${h.count}`);
      lines.push(`mlops_serve_request_duration_seconds_sum{${labels}} ${formatNumber(h.sum)}`);
      lines.push(`mlops_serve_request_duration_seconds_count{${labels}} ${h.count}`);
    }
    lines.push('# HELP mlops_serve_model_info The model version this server has loaded (1 while it serves).', '# TYPE mlops_serve_model_info gauge');
    if (this.version !== undefined) lines.push(`mlops_serve_model_info{${m},version="${this.version}"} 1`);
    const payloads = this.payloads?.();
    if (payloads) {
      lines.push(
        '# HELP mlops_serve_payload_records_total Payload-log records (CloudEvents) accepted for writing, by type.',
        '# TYPE mlops_serve_payload_records_total counter',
        `mlops_serve_payload_records_total{${m},type="request"} ${payloads.requests}`,
        `mlops_serve_payload_records_total{${m},type="response"} ${payloads.responses}`,
        '# HELP mlops_serve_payload_dropped_total Payload-log records dropped because the write buffer was full.',
        '# TYPE mlops_serve_payload_dropped_total counter',
        `mlops_serve_payload_dropped_total{${m}} ${payloads.dropped}`,
        '# HELP mlops_serve_payload_pending_bytes Payload-log bytes waiting to be written.',
        '# TYPE mlops_serve_payload_pending_bytes gauge',
        `mlops_serve_payload_pending_bytes{${m}} ${payloads.pendingBytes}`,
      );
    }
    return `${lines.join('\n')}\n`;
  }
}

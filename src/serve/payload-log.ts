/**
 * Payload logging as KServe's logger does it (kserve/kserve pkg/logger: handler.go, worker.go), written to files
 * instead of POSTed: every inference request and its response become CloudEvents 1.0, one per line, in the
 * CloudEvents JSON event format (DESIGN §4.7). A record:
 *
 *   {"specversion":"1.0","id":"<id>","source":"http://127.0.0.1:8080/",
 *    "type":"org.kubeflow.serving.inference.request",      (or …inference.response)
 *    "datacontenttype":"application/json","time":"2026-11-22T10:00:00.123Z",
 *    "inferenceservicename":"churn","namespace":"default","component":"predictor","endpoint":"default",
 *    "data":{…the request or response body, as JSON…}}
 *
 * - `id` is shared by a request and its response: the request's `Ce-Id` header when it has one, else a random
 *   UUID (KServe's getOrCreateID). For OIP v2 the response body's `id` is the request's `id` if it gave one,
 *   else this same id.
 * - As in KServe, a request is logged whatever its outcome and a response only when its status is 200; unlike
 *   KServe's agent (which also logs metadata GETs with empty bodies), only inference requests are logged
 *   (`POST /v2/models/{name}[/versions/{v}]/infer` and `POST /v1/models/{name}:predict`).
 * - A request body that is not JSON is kept as CloudEvents' `data_base64` with the request's content type.
 * - `source` is the server's base URL (KServe's agent defaults to `http://localhost:<port>/`); `component` is
 *   `predictor`, `endpoint` `default`, `namespace` what the server was given (`default`).
 *
 * Files: records are batched in memory and written as objects `<prefix>/<yyyymmddThhmmss.sssZ>-<8 hex>-<seq>.jsonl`
 * (UTC time of the batch's first record; a random id per server start; a sequence number), each created whole
 * (a local directory: temporary file + link; S3: one PUT), never appended to or overwritten. Names sort by time.
 * Writes happen off the request path, every `flushMs` or when a batch reaches `batchBytes`; a failed write is
 * kept and retried under the same name; past `maxPendingBytes` new records are dropped and counted
 * (`mlops_serve_payload_dropped_total`), never blocking a request. `close()` writes what is left.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import type { Remote } from '../storage/remote.ts';
import type { PayloadStats } from './metrics.ts';

export const REQUEST_EVENT = 'org.kubeflow.serving.inference.request';
export const RESPONSE_EVENT = 'org.kubeflow.serving.inference.response';

export interface PayloadLogSettings {
  /** CloudEvents `source`: the server's base URL. */
  source: string;
  /** Extension attributes, as KServe's logger sets them. */
  inferenceService: string;
  namespace: string;
  component: string;
  endpoint: string;
  /** Write a batch at least this often, in ms (default 5000). */
  flushMs?: number;
  /** Write as soon as a batch holds this many bytes (default 8 MiB). */
  batchBytes?: number;
  /** Drop new records while this many bytes wait to be written (default 256 MiB). */
  maxPendingBytes?: number;
}

export interface PayloadLogDeps {
  /** Where the files go: a local directory or an S3 prefix (src/storage). */
  remote: Remote;
  logger: Logger;
  now?: () => Date;
}

interface Batch {
  key: string;
  text: string;
  records: number;
}

/** `2026-11-22T10:00:00.123Z` → `20261122T100000.123Z`. */
function stamp(time: string): string {
  return time.replace(/[-:]/g, '');
}

export class PayloadLog {
  private readonly remote: Remote;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly tail: string;
  private readonly instance = randomBytes(4).toString('hex');
  private readonly flushMs: number;
  private readonly batchBytes: number;
  private readonly maxPendingBytes: number;
  private readonly timer: NodeJS.Timeout;
  private lines: string[] = [];
  private bytes = 0;
  private firstTime = '';
  private failed: Batch[] = [];
  private failedBytes = 0;
  private seq = 0;
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;
  private warnedDrop = false;
  private closed = false;
  private readonly counts = { requests: 0, responses: 0, dropped: 0, files: 0 };

  constructor(settings: PayloadLogSettings, deps: PayloadLogDeps) {
    this.remote = deps.remote;
    this.logger = deps.logger;
    this.now = deps.now ?? (() => new Date());
    this.flushMs = settings.flushMs ?? 5000;
    this.batchBytes = settings.batchBytes ?? 8 << 20;
    this.maxPendingBytes = settings.maxPendingBytes ?? 256 << 20;
    // Everything after `time`, the same for every record.
    this.tail =
      `,"inferenceservicename":${JSON.stringify(settings.inferenceService)},"namespace":${JSON.stringify(settings.namespace)}` +
      `,"component":${JSON.stringify(settings.component)},"endpoint":${JSON.stringify(settings.endpoint)}`;
    this.source = `,"source":${JSON.stringify(settings.source)}`;
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  private readonly source: string;

  /**
   * Logs a request. `json` is the body's text when it parsed as JSON (it is embedded as `data` as is when it
   * holds no line break, else re-serialised from `parsed`); otherwise `raw` goes to `data_base64`.
   */
  request(id: string, body: { json: string; parsed: unknown } | { raw: Uint8Array; contentType: string | undefined }): void {
    let data: string;
    if ('json' in body) {
      const text = body.json.includes('\n') || body.json.includes('\r') ? JSON.stringify(body.parsed) : body.json;
      data = `"datacontenttype":"application/json"${this.timeAndTail()},"data":${text}`;
    } else {
      data = `"datacontenttype":${JSON.stringify(body.contentType || 'application/octet-stream')}${this.timeAndTail()},"data_base64":"${Buffer.from(body.raw).toString('base64')}"`;
    }
    if (this.add(`{"specversion":"1.0","id":${JSON.stringify(id)}${this.source},"type":"${REQUEST_EVENT}",${data}}\n`)) this.counts.requests++;
  }

  /** Logs a 200 response; `json` is the body exactly as sent (compact JSON, one line). */
  response(id: string, json: string): void {
    const line = `{"specversion":"1.0","id":${JSON.stringify(id)}${this.source},"type":"${RESPONSE_EVENT}","datacontenttype":"application/json"${this.timeAndTail()},"data":${json}}\n`;
    if (this.add(line)) this.counts.responses++;
  }

  private lastTime = '';
  private timeAndTail(): string {
    this.lastTime = this.now().toISOString();
    return `,"time":"${this.lastTime}"${this.tail}`;
  }

  private add(line: string): boolean {
    if (this.closed || this.bytes + this.failedBytes + line.length > this.maxPendingBytes) {
      this.counts.dropped++;
      if (!this.warnedDrop) {
        this.warnedDrop = true;
        this.logger.warning(`payload log: ${this.closed ? 'the log is closed' : `${this.bytes + this.failedBytes} bytes are waiting to be written to ${this.remote.url}`}; dropping records until it catches up`);
      }
      return false;
    }
    if (this.lines.length === 0) this.firstTime = this.lastTime;
    this.lines.push(line);
    this.bytes += line.length;
    if (this.bytes >= this.batchBytes && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
    return true;
  }

  stats(): PayloadStats & { files: number } {
    return { ...this.counts, pendingBytes: this.bytes + this.failedBytes };
  }

  /** Writes what is buffered (and retries earlier failures); resolves when done. Never rejects. */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.write());
    return this.chain;
  }

  private async write(): Promise<void> {
    if (this.lines.length > 0) {
      const key = `${stamp(this.firstTime)}-${this.instance}-${String(++this.seq).padStart(6, '0')}.jsonl`;
      this.failed.push({ key, text: this.lines.join(''), records: this.lines.length });
      this.failedBytes += this.bytes;
      this.lines = [];
      this.bytes = 0;
    }
    while (this.failed.length > 0) {
      const batch = this.failed[0]!;
      try {
        // 'exists' can only be this batch's own earlier attempt (names carry a random id per server), so it is done.
        await this.remote.putIfAbsent(batch.key, { data: batch.text }, { contentType: 'application/jsonl' });
      } catch (error) {
        this.logger.warning(`payload log: could not write ${batch.key} to ${this.remote.url} (${(error as Error).message}); ${this.failed.length} batch(es) kept to retry`);
        return;
      }
      this.failed.shift();
      this.failedBytes -= batch.text.length;
      this.counts.files++;
      this.warnedDrop = false;
    }
  }

  /** Stops the timer and writes everything left; rejects, naming the store, if records could not be written. */
  async close(): Promise<{ files: number; records: number; dropped: number }> {
    if (!this.closed) {
      this.closed = true;
      clearInterval(this.timer);
    }
    await this.flush();
    if (this.failed.length > 0) {
      const lost = this.failed.reduce((n, b) => n + b.records, 0);
      throw new Error(`payload log: ${lost} record(s) could not be written to ${this.remote.url}; they are lost`);
    }
    return { files: this.counts.files, records: this.counts.requests + this.counts.responses, dropped: this.counts.dropped };
  }
}

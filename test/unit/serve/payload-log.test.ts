// The payload logger (src/serve/payload-log.ts) on a real directory remote that can be made to fail: the exact
// record bytes, batching by size and by time, a failed write kept and retried under the same name (nothing lost,
// nothing twice), records dropped (and counted) instead of memory growing without bound, close() writing the rest.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.ts';
import { parsePayloadLine } from '../../../src/serve/payload-event.ts';
import { PayloadLog, type PayloadLogSettings } from '../../../src/serve/payload-log.ts';
import { LocalRemote } from '../../../src/storage/local-remote.ts';
import type { Body, PutOptions, Remote } from '../../../src/storage/remote.ts';
import { tempDir } from '../../helpers/tmp.ts';

class FlakyRemote implements Remote {
  readonly inner: LocalRemote;
  failures = 0;
  puts: string[] = [];
  constructor(dir: string) {
    this.inner = new LocalRemote(dir);
  }
  get url() {
    return this.inner.url;
  }
  head(key: string) {
    return this.inner.head(key);
  }
  async putIfAbsent(key: string, body: Body, _options?: PutOptions) {
    this.puts.push(key);
    if (this.failures > 0) {
      this.failures--;
      throw new Error('connection reset');
    }
    return this.inner.putIfAbsent(key, body);
  }
  read(key: string) {
    return this.inner.read(key);
  }
  download(key: string, file: string) {
    return this.inner.download(key, file);
  }
  close() {
    return this.inner.close();
  }
}

const SETTINGS: PayloadLogSettings = { source: 'http://127.0.0.1:8080/', inferenceService: 'churn', namespace: 'ml', component: 'predictor', endpoint: 'default', flushMs: 600_000 };
const clock = () => new Date('2026-11-22T10:00:00.123Z');

function setup(settings: Partial<PayloadLogSettings> = {}) {
  const dir = tempDir('payload-unit');
  const remote = new FlakyRemote(dir);
  const warnings: string[] = [];
  const log = new PayloadLog({ ...SETTINGS, ...settings }, { remote, logger: { ...silentLogger, warning: (m) => warnings.push(m) }, now: clock });
  const lines = () => readdirSync(dir).sort().flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n'));
  return { dir, remote, log, warnings, lines };
}

describe('PayloadLog', () => {
  it('writes CloudEvents in the JSON format, byte for byte', async () => {
    const { log, dir } = setup();
    log.request('id-1', Buffer.from('{"inputs":[1]}'), { value: { inputs: [1] } });
    log.response('id-1', Buffer.from('{"outputs":[2]}'));
    log.request('id-2', Buffer.from('not json'), undefined, 'text/plain');
    await log.close();
    const files = readdirSync(dir);
    expect(files).toEqual([expect.stringMatching(/^20261122T100000\.123Z-[0-9a-f]{8}-000001\.jsonl$/)]);
    const common = '"source":"http://127.0.0.1:8080/"';
    const tail = '"time":"2026-11-22T10:00:00.123Z","inferenceservicename":"churn","namespace":"ml","component":"predictor","endpoint":"default"';
    expect(readFileSync(join(dir, files[0]!), 'utf8')).toBe(
      `{"specversion":"1.0","id":"id-1",${common},"type":"org.kubeflow.serving.inference.request","datacontenttype":"application/json",${tail},"data":{"inputs":[1]}}\n` +
        `{"specversion":"1.0","id":"id-1",${common},"type":"org.kubeflow.serving.inference.response","datacontenttype":"application/json",${tail},"data":{"outputs":[2]}}\n` +
        `{"specversion":"1.0","id":"id-2",${common},"type":"org.kubeflow.serving.inference.request","datacontenttype":"text/plain",${tail},"data_base64":"bm90IGpzb24="}\n`,
    );
  });

  it('re-serialises a body with line breaks or bytes that are not UTF-8, so each record is one valid line; escapes ids', async () => {
    const { log, lines } = setup();
    const parsed = { inputs: [{ name: 'x\ny' }] };
    log.request('a"b\n', Buffer.from(JSON.stringify(parsed, null, 2)), { value: parsed });
    // Bytes that are not UTF-8 parse (as U+FFFD) but must not reach the file as they are.
    const latin = Buffer.from([0x22, 0xe9, 0x22]);
    log.request('latin', latin, { value: JSON.parse(latin.toString('utf8')) });
    await log.close();
    const all = lines();
    expect(all).toHaveLength(2);
    const event = parsePayloadLine(all[0]!, 'line 1');
    expect(event.id).toBe('a"b\n');
    expect(event.data).toEqual(parsed);
    expect(parsePayloadLine(all[1]!, 'line 2').data).toBe('\ufffd');
  });

  it('writes a batch when it reaches batchBytes, without waiting for the interval', async () => {
    const { log, dir, lines } = setup({ batchBytes: 2000 });
    for (let i = 0; i < 20; i++) log.request(`r${i}`, Buffer.from(`{"i":${i}}`), { value: { i } });
    // The interval is 10 minutes: a file can only come from the size trigger.
    const deadline = Date.now() + 5000;
    while (readdirSync(dir).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(readdirSync(dir).length).toBeGreaterThanOrEqual(1);
    await log.close();
    expect(lines().map((l) => JSON.parse(l).id)).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`));
  });

  it('writes a record larger than a batch buffer whole, in order with the others', async () => {
    const { log, lines } = setup({ batchBytes: 1000 });
    const big = { data: 'x'.repeat(3 << 20) };
    log.request('before', Buffer.from('{}'), { value: {} });
    log.request('big', Buffer.from(JSON.stringify(big)), { value: big });
    log.request('after', Buffer.from('{}'), { value: {} });
    await log.close();
    const all = lines();
    expect(all.map((l) => JSON.parse(l).id)).toEqual(['before', 'big', 'after']);
    expect(parsePayloadLine(all[1]!, 'big').data).toEqual(big);
  });

  it('writes on its interval', async () => {
    const { log, dir } = setup({ flushMs: 30 });
    log.request('t', Buffer.from('{}'), { value: {} });
    const deadline = Date.now() + 5000;
    while (readdirSync(dir).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(readdirSync(dir)).toHaveLength(1);
    await log.close();
  });

  it('keeps a batch whose write failed and writes it under the same name later: nothing lost, nothing twice', async () => {
    const { log, remote, lines, warnings } = setup();
    remote.failures = 2;
    log.request('a', Buffer.from('{}'), { value: {} });
    await log.flush();
    await log.flush();
    expect(log.stats()).toMatchObject({ files: 0, pendingBytes: expect.any(Number) });
    expect(log.stats().pendingBytes).toBeGreaterThan(0);
    log.request('b', Buffer.from('{}'), { value: {} });
    await log.close();
    expect(remote.puts[0]).toBe(remote.puts[1]);
    expect(remote.puts[2]).toBe(remote.puts[0]);
    expect(lines().map((l) => JSON.parse(l).id)).toEqual(['a', 'b']);
    expect(log.stats()).toMatchObject({ files: 2, pendingBytes: 0, dropped: 0 });
    expect(warnings[0]).toMatch(/^payload log: could not write \d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}-000001\.jsonl to .* \(connection reset\); 1 batch\(es\) kept to retry$/);
  });

  it('drops records (counted, one warning) rather than holding more than maxPendingBytes', async () => {
    const { log, remote, warnings, lines } = setup({ maxPendingBytes: 1000 });
    remote.failures = 1_000;
    for (let i = 0; i < 20; i++) log.request(`r${i}`, Buffer.from('{"x":1}'), { value: { x: 1 } });
    const { requests, dropped } = log.stats();
    expect(requests + dropped).toBe(20);
    expect(dropped).toBeGreaterThan(0);
    expect(warnings.filter((w) => w.includes('dropping records'))).toHaveLength(1);
    remote.failures = 0;
    await log.close();
    expect(lines()).toHaveLength(requests);
  });

  it('rejects on close when records cannot be written, naming the store and the loss', async () => {
    const { log, remote } = setup();
    remote.failures = 1_000;
    log.request('a', Buffer.from('{}'), { value: {} });
    log.response('a', Buffer.from('{}'));
    await expect(log.close()).rejects.toThrow(`payload log: 2 record(s) could not be written to ${remote.url}; they are lost`);
  });
});

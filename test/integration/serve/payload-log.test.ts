// --log-payloads: every inference request and its response, as KServe's payload logger sends them (CloudEvents
// JSON, one per line), batched into whole files under the prefix; the records parse back into exactly the
// requests sent and the responses answered.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.ts';
import { parsePayloadLine, REQUEST_EVENT, RESPONSE_EVENT, startServer, type CloseSummary, type PayloadEvent, type RunningServer } from '../../../src/serve/index.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { call, churnRequest, type Answer } from './client.ts';
import { churnModel, CHURN_FEATURES, type Churn } from './fixtures.ts';

let churn: Churn;
let server: RunningServer;
let dir: string;
let summary: CloseSummary;
let events: (PayloadEvent & { file: string })[];
const sent: { body: unknown; answer: Answer; ceId?: string; raw?: string }[] = [];
let files: string[];

beforeAll(async () => {
  churn = await churnModel({ rows: 300 });
  dir = tempDir('payloads');
  // A long interval and small batches: files come from the size trigger and from close(), not the timer.
  server = await startServer({ storageUri: churn.storageUri, port: 0, logPayloads: dir, payloadFlushMs: 600_000, payloadBatchBytes: 8 << 10 }, { logger: silentLogger });
  const x = churn.rows.map((r) => r.slice(0, CHURN_FEATURES));
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < 40; i++) {
    const body = i % 4 === 3 ? { instances: x.slice(i, i + 3) } : churnRequest(x.slice(i, i + 1 + (i % 5)), i % 2 === 0 ? { id: `req-${i}` } : {});
    const path = 'instances' in body ? '/v1/models/churn:predict' : '/v2/models/churn/infer';
    const ceId = i % 3 === 0 ? `ce-${i}` : undefined;
    jobs.push(call(server.url, 'POST', path, body, ceId ? { 'ce-id': ceId } : {}).then((answer) => void sent.push({ body, answer, ...(ceId ? { ceId } : {}) })));
  }
  // A pretty-printed body (line breaks inside), a bad tensor (400, request logged), broken JSON (400, kept as data_base64).
  const pretty = JSON.stringify(churnRequest([x[0]!]), null, 2);
  jobs.push(call(server.url, 'POST', '/v2/models/churn/infer', pretty, { 'ce-id': 'pretty' }).then((answer) => void sent.push({ body: JSON.parse(pretty), answer, ceId: 'pretty' })));
  const bad = { inputs: [{ name: 'input', shape: [1, 7], datatype: 'FP32', data: x[0]!.slice(0, 7) }] };
  jobs.push(call(server.url, 'POST', '/v2/models/churn/infer', bad, { 'ce-id': 'bad-tensor' }).then((answer) => void sent.push({ body: bad, answer, ceId: 'bad-tensor' })));
  jobs.push(
    call(server.url, 'POST', '/v2/models/churn/infer', '{"inputs": [', { 'ce-id': 'bad-json', 'content-type': 'text/plain' }).then(
      (answer) => void sent.push({ body: undefined, answer, ceId: 'bad-json', raw: '{"inputs": [' }),
    ),
  );
  // Not logged: metadata reads and requests for a model this server does not serve.
  jobs.push(call(server.url, 'GET', '/v2/models/churn').then(() => undefined));
  jobs.push(call(server.url, 'POST', '/v2/models/nope/infer', churnRequest([x[0]!])).then(() => undefined));
  await Promise.all(jobs);
  summary = await server.close();
  files = readdirSync(dir).sort();
  events = files.flatMap((file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    return text.slice(0, -1).split('\n').map((line, i) => ({ ...parsePayloadLine(line, `${file}:${i + 1}`), file }));
  });
});
afterAll(async () => {
  await server?.close();
});

describe('payload-log files', () => {
  it('are whole JSON-lines files named by time, server instance and sequence, several batches of them', () => {
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) expect(file).toMatch(/^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}-\d{6}\.jsonl$/);
    expect(files.map((f) => f.split('-').pop())).toEqual(files.map((_, i) => `${String(i + 1).padStart(6, '0')}.jsonl`));
    expect(summary).toEqual({ payloadRecords: events.length, payloadFiles: files.length, payloadDropped: 0 });
  });

  it('hold CloudEvents with KServe logger attributes', () => {
    for (const e of events) {
      expect(e).toMatchObject({ specversion: '1.0', source: `${server.url}/`, inferenceservicename: 'churn', namespace: 'default', component: 'predictor', endpoint: 'default' });
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
    }
    // Attribute names are what KServe's logger sets (pkg/logger/worker.go), in a fixed order.
    const first = readFileSync(join(dir, files[0]!), 'utf8').split('\n')[0]!;
    expect(Object.keys(JSON.parse(first))).toEqual(['specversion', 'id', 'source', 'type', 'datacontenttype', 'time', 'inferenceservicename', 'namespace', 'component', 'endpoint', 'data']);
  });

  it('parse back into the requests sent and the responses answered, paired by id', () => {
    const byId = new Map<string, PayloadEvent[]>();
    for (const e of events) byId.set(e.id, [...(byId.get(e.id) ?? []), e]);
    const ok = sent.filter((s) => s.answer.status === 200);
    expect(ok).toHaveLength(41);
    for (const s of ok) {
      // The id is the Ce-Id header when given, else the one the v2 response carries (v1 has none: match by body).
      const id = s.ceId ?? (s.answer.json.id !== undefined && !(s.body as { id?: string }).id ? s.answer.json.id : undefined);
      const pair = id !== undefined ? byId.get(id) : [...byId.values()].find((p) => JSON.stringify(p.find((e) => e.type === RESPONSE_EVENT)?.data) === s.answer.text);
      expect(pair?.map((e) => e.type), JSON.stringify(s.body)).toEqual([REQUEST_EVENT, RESPONSE_EVENT]);
      expect(pair![0]!.data).toEqual(s.body);
      expect(pair![1]!.data).toEqual(s.answer.json);
      expect(pair![0]!.datacontenttype).toBe('application/json');
      expect(Date.parse(pair![0]!.time)).toBeLessThanOrEqual(Date.parse(pair![1]!.time));
    }
    expect(events.filter((e) => e.type === REQUEST_EVENT)).toHaveLength(43);
    expect(events.filter((e) => e.type === RESPONSE_EVENT)).toHaveLength(41);
  });

  it('keep a refused request without a response, and a body that is not JSON as data_base64', () => {
    const refused = events.filter((e) => e.id === 'bad-tensor');
    expect(refused.map((e) => e.type)).toEqual([REQUEST_EVENT]);
    expect(refused[0]!.data).toEqual(sent.find((s) => s.ceId === 'bad-tensor')!.body);
    const broken = events.filter((e) => e.id === 'bad-json');
    expect(broken).toHaveLength(1);
    expect(broken[0]!.data).toBeUndefined();
    expect(broken[0]!.datacontenttype).toBe('text/plain');
    expect(Buffer.from(broken[0]!.data_base64!, 'base64').toString()).toBe('{"inputs": [');
  });

  it('log neither metadata reads nor requests for a model this server does not serve', () => {
    expect(events.some((e) => JSON.stringify(e.data ?? '').includes('nope'))).toBe(false);
    expect(events).toHaveLength(43 + 41);
  });
});

// KServe payload-logger records → columns: CloudEvents lines (v1 and v2 bodies, flat and nested data),
// blob-storage records with base64 Bytes (one per line, or a JSON array per object), pairing by id,
// malformed records, the window, and the byte-level fast path against JSON.parse.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NumericColumn, type CategoricalColumn } from '../../../src/drift/current.ts';
import { buildProfile, type Profile } from '../../../src/drift/profile.ts';
import { FastV1Reader, REQUEST, RESPONSE } from '../../../src/drift/read/fast-v1.ts';
import { UnreadableWindow, readCurrent, type Format } from '../../../src/drift/read/index.ts';
import { silentLogger } from '../../../src/log.ts';
import { tempDir } from '../../helpers/tmp.ts';

const FEATURES = ['tenure', 'charges', 'plan'];

function profile(): Profile {
  return buildProfile(
    4,
    [
      { name: 'tenure', values: [1, 2, 3, 4] },
      { name: 'charges', values: [10, 20, 30, 40] },
      { name: 'plan', values: ['0', '1', '1', '2'], kind: 'categorical' },
    ],
    [
      { name: 'label', values: ['0', '1', '0', '1'], kind: 'categorical' },
      { name: 'probabilities[0]', values: [0.9, 0.2, 0.7, 0.4] },
      { name: 'probabilities[1]', values: [0.1, 0.8, 0.3, 0.6] },
    ],
    [{ name: 'input', features: FEATURES }],
  );
}

const event = (id: string, type: string, data: unknown, time = '2026-11-22T10:00:00Z') =>
  JSON.stringify({ specversion: '1.0', id, type, source: 'http://localhost:8080/v1/models/churn:predict', time, inferenceservicename: 'churn', namespace: 'ml', component: 'predictor', endpoint: 'default', datacontenttype: 'application/json', data });

async function read(lines: string[] | string, options: { format?: Format; since?: number; until?: number; name?: string } = {}) {
  const dir = tempDir('drift-kserve');
  const file = join(dir, options.name ?? 'payloads.jsonl');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, Array.isArray(lines) ? `${lines.join('\n')}\n` : lines);
  const result = await readCurrent(
    { current: [file], format: options.format ?? 'auto', window: { ...(options.since !== undefined && { since: options.since }), ...(options.until !== undefined && { until: options.until }) }, cwd: dir },
    profile(),
    undefined,
    { logger: silentLogger },
  );
  return { ...result, file, dir };
}

function values(data: Awaited<ReturnType<typeof read>>['data'], name: string): number[] {
  return Array.from((data.columns.get(name) as NumericColumn).takeSorted());
}

function categories(data: Awaited<ReturnType<typeof read>>['data'], name: string): Record<string, number> {
  return Object.fromEntries((data.columns.get(name) as CategoricalColumn).counts);
}

describe('KServe CloudEvents records', () => {
  it('decodes v1 instances and predictions, pairs them by id, and fills the profile columns', async () => {
    const r = await read([
      event('a', REQUEST, { instances: [[5, 50.5, 1], [7, 70, 2]] }),
      event('a', RESPONSE, { predictions: [1, 0] }),
      event('b', REQUEST, { instances: [[9, 90, 0]] }),
      event('b', RESPONSE, { predictions: [[0.25, 0.75]] }),
    ]);
    expect(r.data.rows).toBe(3);
    expect(values(r.data, 'tenure')).toEqual([5, 7, 9]);
    expect(values(r.data, 'charges')).toEqual([50.5, 70, 90]);
    expect(categories(r.data, 'plan')).toEqual({ '1': 1, '2': 1, '0': 1 });
    expect(categories(r.data, 'label')).toEqual({ '1': 1, '0': 1 });
    expect(values(r.data, 'probabilities[1]')).toEqual([0.75]);
    expect(r.records).toMatchObject({ records: 4, requests: 2, responses: 2, malformed: 0, unpairedRequests: 0, unpairedResponses: 0 });
    expect(r.records.fast).toBe(4);
    expect(r.sources).toEqual([{ name: r.file, format: 'kserve' }]);
  });

  it('decodes OIP v2 tensors with flat and nested data, and outputs by name', async () => {
    const r = await read([
      event('c', REQUEST, { inputs: [{ name: 'input', shape: [2, 3], datatype: 'FP32', data: [1, 10, 0, 2, 20, 1] }] }),
      event('c', RESPONSE, { model_name: 'churn', outputs: [{ name: 'label', shape: [2], datatype: 'INT64', data: [0, 1] }, { name: 'probabilities', shape: [2, 2], datatype: 'FP32', data: [[0.9, 0.1], [0.3, 0.7]] }] }),
      event('d', REQUEST, { inputs: [{ name: 'input', shape: [1, 3], datatype: 'FP32', data: [[3, 30, 2]] }] }),
    ]);
    expect(values(r.data, 'tenure')).toEqual([1, 2, 3]);
    expect(values(r.data, 'charges')).toEqual([10, 20, 30]);
    expect(categories(r.data, 'plan')).toEqual({ '0': 1, '1': 1, '2': 1 });
    expect(values(r.data, 'probabilities[0]')).toEqual([0.3, 0.9]);
    expect(categories(r.data, 'label')).toEqual({ '0': 1, '1': 1 });
    expect(r.records).toMatchObject({ requests: 2, responses: 1, unpairedRequests: 1, unpairedResponses: 0, malformed: 0 });
  });

  it('keeps the inputs of a request without response and the outputs of a response without request, and counts both', async () => {
    const r = await read([event('only-request', REQUEST, { instances: [[1, 2, 0]] }), event('only-response', RESPONSE, { predictions: [0] })]);
    expect(r.data.rows).toBe(1);
    expect(r.data.outputRows).toBe(1);
    expect(r.records).toMatchObject({ unpairedRequests: 1, unpairedResponses: 1 });
  });

  it('reports a malformed record with its id and where it is, skips it and counts it; more than 1 % fails the read', async () => {
    const good = Array.from({ length: 120 }, (_, i) => event(`ok-${i}`, REQUEST, { instances: [[i, i, 1]] }));
    const r = await read([...good, event('bad-1', REQUEST, { instances: [[1, 2]] })]);
    expect(r.records.malformed).toBe(1);
    expect(r.records.examples[0]).toMatchObject({ id: 'bad-1', where: `${r.file}:121` });
    expect(r.records.examples[0]!.reason).toMatch(/2 values, the model takes 3/);
    expect(r.data.rows).toBe(120);
    await expect(read([...good.slice(0, 50), '{"not json', event('bad-2', 'org.example.other', {})])).rejects.toThrow(UnreadableWindow);
    await expect(read([...good.slice(0, 50), '{"not json'])).rejects.toThrow(/1 of 51 records are malformed .*:51: not JSON/);
  });

  it('reads only the records of the window (since inclusive, until exclusive)', async () => {
    const r = await read(
      [
        event('early', REQUEST, { instances: [[1, 1, 0]] }, '2026-11-22T08:59:59Z'),
        event('in-1', REQUEST, { instances: [[2, 2, 0]] }, '2026-11-22T09:00:00Z'),
        event('in-2', REQUEST, { instances: [[3, 3, 0]] }, '2026-11-22T09:59:59.999Z'),
        event('late', REQUEST, { instances: [[4, 4, 0]] }, '2026-11-22T10:00:00Z'),
      ],
      { since: Date.parse('2026-11-22T09:00:00Z'), until: Date.parse('2026-11-22T10:00:00Z') },
    );
    expect(values(r.data, 'tenure')).toEqual([2, 3]);
    expect(r.records.outside).toBe(2);
  });
});

describe('KServe blob-storage logger records (base64 Bytes)', () => {
  const logRequest = (id: string, type: string, body: unknown) => ({
    Url: { Scheme: 'http', Host: 'churn-predictor.ml', Path: '/v1/models/churn:predict' },
    Bytes: Buffer.from(JSON.stringify(body)).toString('base64'),
    ContentType: 'application/json',
    ReqType: type,
    Id: id,
    SourceUri: null,
    InferenceService: 'churn',
    Namespace: 'ml',
    Component: 'predictor',
    Endpoint: 'default',
    Metadata: {},
    Annotations: {},
    CertName: '',
    TlsSkipVerify: false,
  });

  it('decodes a JSON array of records per object, and a record per line; the file time stands in for the record time', async () => {
    const batch = JSON.stringify([logRequest('x', REQUEST, { instances: [[4, 40, 1]] }), logRequest('x', RESPONSE, { predictions: [1] })]);
    const r = await read(batch, { name: 'ml/churn/predictor/x-request.json' });
    expect(values(r.data, 'tenure')).toEqual([4]);
    expect(r.records).toMatchObject({ records: 2, requests: 1, responses: 1, unpairedRequests: 0 });
    const lines = [logRequest('y', REQUEST, { inputs: [{ name: 'input', shape: [1, 3], datatype: 'FP32', data: [6, 60, 2] }] })].map((x) => JSON.stringify(x));
    const r2 = await read(lines);
    expect(values(r2.data, 'charges')).toEqual([60]);
    // A blob whose object was written after the window is outside it.
    const old = await read(batch, { name: 'late.json', until: Date.parse('2020-01-01T00:00:00Z') });
    expect(old.records.outside).toBe(2);
  });

  it('counts a record whose Bytes is not base64 JSON as malformed', async () => {
    const good = Array.from({ length: 150 }, (_, i) => JSON.stringify(logRequest(`g${i}`, REQUEST, { instances: [[i, 1, 0]] })));
    const r = await read([...good, JSON.stringify({ ...logRequest('broken', REQUEST, {}), Bytes: '%%%' })]);
    expect(r.records.malformed).toBe(1);
    expect(r.records.examples[0]).toMatchObject({ id: 'broken', reason: expect.stringMatching(/base64/) });
  });
});

describe('tables as the current window', () => {
  it('reads CSV (quoted fields, CRLF) and JSON Lines by column name, nulls counted', async () => {
    const csv = await read('tenure,plan,charges,extra\r\n1,"0",10,x\r\n2,"1",,y\r\n"3","2",30,"z,w"\r\n', { name: 'window.csv' });
    expect(values(csv.data, 'tenure')).toEqual([1, 2, 3]);
    expect(values(csv.data, 'charges')).toEqual([10, 30]);
    expect((csv.data.columns.get('charges') as NumericColumn).nulls).toBe(1);
    expect(csv.data.rows).toBe(3);
    const jsonl = await read([JSON.stringify({ tenure: 4, plan: 1, charges: 5.5 }), JSON.stringify({ tenure: 'NaN', plan: '2' })], { name: 'window.jsonl' });
    expect(values(jsonl.data, 'tenure')).toEqual([4]);
    expect((jsonl.data.columns.get('tenure') as NumericColumn).nan).toBe(1);
    expect(categories(jsonl.data, 'plan')).toEqual({ '1': 1, '2': 1 });
    expect(jsonl.sources[0]!.format).toBe('jsonl');
  });

  it('places a table in the window by its file time', async () => {
    const dir = tempDir('drift-window');
    const file = join(dir, 'old.csv');
    writeFileSync(file, 'tenure\n1\n');
    utimesSync(file, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z'));
    const r = await readCurrent({ current: [dir], format: 'auto', window: { since: Date.parse('2026-06-01T00:00:00Z') }, cwd: dir }, profile(), undefined, { logger: silentLogger });
    expect(r.data.rows).toBe(0);
    expect(r.sources[0]!.skipped).toBe(true);
  });
});

describe('the byte-level fast path', () => {
  const reader = new FastV1Reader();
  const decode = (line: string) => {
    const bytes = Buffer.from(`${line}\n`);
    const r = reader.read(bytes, 0, bytes.length - 1);
    return r && { ...r, values: Array.from(r.values.subarray(0, r.rows * Math.max(r.width, 1))) };
  };

  it('reads exactly the numbers JSON.parse reads', () => {
    const numbers = ['0', '-0', '1', '-1.5', '3.25e2', '1E-7', '0.1', '123456789012345', '1234567890123456789', '0.30000000000000004', '1e300', '2.2250738585072014e-308', '5e-324', '-12.5e+3', '0.000001234', '9007199254740993'];
    const row = `[${numbers.join(',')}]`;
    const line = `{"id":"n","type":"${REQUEST}","data":{"instances":[${row}]}}`;
    const fast = decode(line);
    expect(fast).toBeDefined();
    const parsed = (JSON.parse(line) as { data: { instances: number[][] } }).data.instances[0]!;
    expect(fast!.values.map((v) => Object.is(v, -0) ? '-0' : v)).toEqual(parsed.map((v) => Object.is(v, -0) ? '-0' : v));
  });

  it('agrees with JSON.parse on random rows, whitespace and extra keys', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let t = 0; t < 200; t++) {
      const rows = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => Array.from({ length: 3 }, () => (rand() - 0.5) * 10 ** Math.floor(rand() * 12 - 6)));
      const text = `{ "specversion" : "1.0", "id": "r${t}", "meta": {"a": [1, {"b": "x\\"y"}], "c": null}, "type": "${REQUEST}", "data": { "parameters": {"p": true}, "instances": ${JSON.stringify(rows).replace(/,/g, ' , ')} } }`;
      const fast = decode(text);
      expect(fast, text).toBeDefined();
      expect(fast!.values).toEqual(rows.flat());
      expect([fast!.rows, fast!.width, fast!.id]).toEqual([rows.length, 3, `r${t}`]);
    }
  });

  it('hands everything it does not fully understand to JSON.parse', () => {
    const cases = [
      `{"id":"a\\u0062","type":"${REQUEST}","data":{"instances":[[1,2,3]]}}`, // an escape in a string it needs
      `{"id":"a","type":"${REQUEST}","data":{"inputs":[]}}`, // v2
      `{"id":"a","type":"${REQUEST}","data":{"instances":[[1,2,3]]},"data":{"instances":[[4,5,6]]}}`, // duplicate key
      `{"id":"a","type":"${REQUEST}","data":{"instances":[[1,"x",3]]}}`, // a string in a row
      `{"id":"a","type":"${REQUEST}","data":{"instances":[[01,2,3]]}}`, // not JSON
      `{"id":"a","type":"${REQUEST}","data":{"instances":[[1,2,3]]}} trailing`,
      `{"id":"a","type":"${REQUEST}","d\\u0061ta":{"instances":[[1,2,3]]}}`, // an escaped key JSON.parse reads as data
      `{"id":"a","type":"${RESPONSE}","data":{"instances":[[1,2,3]]}}`, // instances in a response
      `{"id":"a","type":"${REQUEST}","data_base64":"e30="}`,
    ];
    for (const c of cases) expect(decode(c), c).toBeUndefined();
  });
});

// Bad tensors and bad bodies get 400 with {"error": …} naming the input (or the field), and the server keeps
// serving: shape, datatype, size, element types, nesting, missing/unknown/duplicate inputs, broken JSON, v1 rows.
// The identity model covers the other datatypes (INT64, INT8, BOOL, BYTES, FP64) both ways.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.ts';
import { startServer, type RunningServer } from '../../../src/serve/index.ts';
import { call, churnRequest } from './client.ts';
import { churnModel, CHURN_FEATURES, identityModel, type Churn, type Published } from './fixtures.ts';
import * as S from './oip-schemas.ts';

let churn: Churn;
let identity: Published;
let server: RunningServer;
let ids: RunningServer;
let row: number[];

beforeAll(async () => {
  [churn, identity] = await Promise.all([churnModel({ rows: 200 }), identityModel()]);
  [server, ids] = await Promise.all([
    startServer({ storageUri: churn.storageUri, port: 0, maxBodyBytes: 64 << 10 }, { logger: silentLogger }),
    startServer({ storageUri: identity.storageUri, port: 0 }, { logger: silentLogger }),
  ]);
  row = churn.rows[0]!.slice(0, CHURN_FEATURES);
});
afterAll(async () => {
  await Promise.all([server?.close(), ids?.close()]);
});

const input = (over: Record<string, unknown>) => ({ inputs: [{ name: 'input', shape: [1, CHURN_FEATURES], datatype: 'FP32', data: [row], ...over }] });

describe('v2 infer: 400 naming the input', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['a shape of the wrong rank', () => input({ shape: [CHURN_FEATURES], data: row }), /^input "input": shape \[8\] does not fit the model's \[-1, 8\]$/],
    ['a shape of the wrong width', () => input({ shape: [1, 7], data: row.slice(0, 7) }), /^input "input": shape \[1, 7\] does not fit the model's \[-1, 8\]$/],
    ['a negative dimension', () => input({ shape: [-1, 8] }), /^input "input": shape \[-1,8\] is not a list of non-negative integers/],
    ['a fractional dimension', () => input({ shape: [1.5, 8] }), /^input "input": shape \[1\.5,8\] is not a list/],
    ['a shape that is not a list', () => input({ shape: '1x8' }), /^input "input": shape "1x8" is not a list/],
    ['too few values for the shape', () => input({ shape: [2, 8], data: row }), /^input "input": data has 8 values, shape \[2, 8\] needs 16$/],
    ['too many values for the shape', () => input({ data: [...row, 1] }), /^input "input": data has 9 values, shape \[1, 8\] needs 8$/],
    ['nested rows of the wrong length', () => input({ shape: [2, 8], data: [row, row.slice(0, 7)] }), /^input "input": data\[1\] has 7 entries, shape \[2, 8\] needs 8 there/],
    ['nested deeper than the shape', () => input({ data: [row.map((v) => [v])] }), /^input "input": data\[0\]\[0\] is \[\d+(\.\d+)?\]; FP32 takes a number$/],
    ['a datatype the model does not take', () => input({ datatype: 'FP64' }), /^input "input": datatype "FP64" does not match the model's FP32$/],
    ['a datatype that does not exist', () => input({ datatype: 'FLOAT' }), /^input "input": datatype "FLOAT" does not match the model's FP32$/],
    ['a string among FP32 values', () => input({ data: [[...row.slice(0, 3), '4', ...row.slice(4)]] }), /^input "input": data\[0\]\[3\] is "4"; FP32 takes a number$/],
    ['a null among FP32 values (NaN in JSON)', () => input({ data: [null, ...row.slice(1)] }), /^input "input": data\[0\] is null; FP32 takes a number$/],
    ['data that is not a list', () => input({ data: 'abc' }), /^input "input": data is "abc", not a list of values$/],
    ['an input the model does not have', () => ({ inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', data: row }] }), /^input "features": is not an input of model churn, which takes input FP32 \[-1, 8\]$/],
    ['the same input twice', () => ({ inputs: [input({}).inputs[0], input({}).inputs[0]] }), /^input "input": is given twice$/],
    ['an output the model does not have', () => ({ ...input({}), outputs: [{ name: 'score' }] }), /^outputs\[0\]: "score" is not an output of model churn/],
    ['no inputs', () => ({ inputs: [] }), /^inputs: is not a non-empty list of tensors; model churn takes input FP32 \[-1, 8\]$/],
    ['inputs that are not a list', () => ({ inputs: { name: 'input' } }), /^inputs: is not a non-empty list/],
    ['an input without a name', () => ({ inputs: [{ shape: [1, 8], datatype: 'FP32', data: row }] }), /^inputs\[0\]: is not a tensor object with a "name"$/],
    ['a body that is a list', () => [input({})], /^body: is not a JSON object/],
    ['an id that is not a string', () => ({ ...input({}), id: 42 }), /^id: 42 is not a string$/],
    ['parameters that are not an object', () => ({ ...input({}), parameters: [1] }), /^parameters: is not an object/],
  ];
  it.each(cases)('%s', async (_, body, message) => {
    const res = await call(server.url, 'POST', '/v2/models/churn/infer', body());
    expect(res.status).toBe(400);
    expect(S.ErrorResponse.parse(res.json).error).toMatch(message);
  });

  it.each([
    ['broken JSON', '{"inputs": [', /^body: is not valid JSON \(/],
    ['an empty body', '', /^body: is not valid JSON \(/],
    ['a JSON string', '"input"', /^body: is not a JSON object/],
    ['bytes that are not UTF-8 JSON', Buffer.from([0xff, 0xfe, 0x00]).toString('latin1'), /^body: is not valid JSON/],
  ])('%s: 400 naming the body', async (_, text, message) => {
    const res = await fetch(`${server.url}/v2/models/churn/infer`, { method: 'POST', body: text, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect((S.ErrorResponse.parse(await res.json())).error).toMatch(message);
  });

  it('answers a body over the limit with 413 and keeps serving', async () => {
    const big = churnRequest(Array.from({ length: 8000 }, () => row));
    expect(JSON.stringify(big).length).toBeGreaterThan(64 << 10);
    const res = await call(server.url, 'POST', '/v2/models/churn/infer', big);
    expect(res.status).toBe(413);
    expect(res.json.error).toMatch(/^body: is larger than 65536 bytes/);
    expect((await call(server.url, 'POST', '/v2/models/churn/infer', churnRequest([row]))).status).toBe(200);
  });

  it('is still serving after every bad request above', async () => {
    const res = await call(server.url, 'POST', '/v2/models/churn/infer', churnRequest([row, row]));
    expect(res.status).toBe(200);
    expect(res.json.outputs[0].shape).toEqual([2, 2]);
  });
});

describe('v1 :predict: 400 naming the input', () => {
  it.each([
    ['a row that is too short', () => ({ instances: [row, row.slice(0, 7)] }), /^input "input": instances\[1\] has 7 entries, shape \[2, 8\] needs 8 there/],
    ['a row that is not a list', () => ({ instances: [row, 3] }), /^input "input": instances\[1\] is 3, not a row: each instance is a list of 8 values$/],
    ['a string value', () => ({ instances: [[...row.slice(0, 7), 'x']] }), /^input "input": instances\[0\]\[7\] is "x"; FP32 takes a number$/],
    ['no instances', () => ({ instances: [] }), /^instances: is not a non-empty list of rows/],
    ['neither instances nor inputs', () => ({ rows: [row] }), /^instances: is not a non-empty list of rows/],
  ])('%s', async (_, body, message) => {
    const res = await call(server.url, 'POST', '/v1/models/churn:predict', body());
    expect(res.status).toBe(400);
    expect(S.ErrorResponse.parse(res.json).error).toMatch(message);
  });

  it('refuses v1 for a model with several inputs, pointing at v2', async () => {
    const res = await call(ids.url, 'POST', '/v1/models/identity:predict', { instances: [[1, 2]] });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/^instances: model identity takes 5 inputs .*use POST \/v2\/models\/identity\/infer$/);
  });
});

describe('the other datatypes (identity model)', () => {
  const good = () => ({
    inputs: [
      { name: 'ints', shape: [2, 2], datatype: 'INT64', data: [[1, -2], [2 ** 53 - 1, -(2 ** 53 - 1)]] },
      { name: 'small', shape: [2], datatype: 'INT8', data: [-128, 127] },
      { name: 'flags', shape: [2], datatype: 'BOOL', data: [true, false] },
      { name: 'words', shape: [2], datatype: 'BYTES', data: ['churn', 'stay ✓'] },
      { name: 'wide', shape: [2, 3], datatype: 'FP64', data: [0.1, 1e-300, -2.5, 1e300, 0, 3] },
    ],
  });

  it('carries INT64, INT8, BOOL, BYTES and FP64 through unchanged', async () => {
    const request = good();
    S.InferenceRequest.parse(request);
    const res = await call(ids.url, 'POST', '/v2/models/identity/infer', request);
    expect(res.status).toBe(200);
    const body = S.InferenceResponse.parse(res.json);
    expect(body.outputs).toEqual(
      request.inputs.map((i) => ({ name: `${i.name}_out`, datatype: i.datatype, shape: i.shape, data: i.data.flat() })),
    );
  });

  const withInput = (name: string, over: Record<string, unknown>) => {
    const request = good();
    const target = request.inputs.find((i) => i.name === name)!;
    Object.assign(target, over);
    return request;
  };
  it.each([
    ['an INT8 value out of range', () => withInput('small', { data: [-129, 0] }), /^input "small": data\[0\] is -129; INT8 takes an integer from -128 to 127$/],
    ['a fraction for INT64', () => withInput('ints', { data: [1.5, 2, 3, 4] }), /^input "ints": data\[0\] is 1\.5; INT64 takes an integer within/],
    ['an INT64 beyond 2^53 (already rounded by JSON)', () => withInput('ints', { data: [2 ** 53, 2, 3, 4] }), /^input "ints": data\[0\] is 9007199254740992; INT64 takes an integer within/],
    ['a number for BOOL', () => withInput('flags', { data: [1, 0] }), /^input "flags": data\[0\] is 1; BOOL takes true or false$/],
    ['a number for BYTES', () => withInput('words', { data: ['a', 2] }), /^input "words": data\[1\] is 2; BYTES takes a string$/],
    ['a batch size that differs between inputs sharing the dimension N', () => withInput('flags', { shape: [3], data: [true, false, true] }), /^input "flags": dimension 0 is 3, but input "ints" gives the model's dimension "N" 2$/],
    ['a missing input', () => ({ inputs: good().inputs.filter((i) => i.name !== 'words') }), /^input "words": is missing: model identity takes ints INT64 \[-1, 2\], small INT8 \[-1\], flags BOOL \[-1\], words BYTES \[-1\], wide FP64 \[-1, 3\]$/],
  ])('%s: 400 naming the input', async (_, body, message) => {
    const res = await call(ids.url, 'POST', '/v2/models/identity/infer', body());
    expect(res.status).toBe(400);
    expect(S.ErrorResponse.parse(res.json).error).toMatch(message);
  });
});

// OIP tensor decoding and encoding (src/serve/tensors.ts) with real onnxruntime Tensors.
import * as ortModule from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { OnnxRuntime } from '../../../src/evaluate/onnxruntime-loader.ts';
import { dataJson, decodeInput, outputJson, rowValue, tensorSpec, TensorError, type SymbolicSizes } from '../../../src/serve/tensors.ts';

const ort = ortModule as unknown as OnnxRuntime;
const matrix = tensorSpec('x', 'float32', ['N', 3]);

function decode(spec = matrix, raw: Record<string, unknown>, symbols: SymbolicSizes = new Map()) {
  return decodeInput(ort, spec, raw, symbols);
}

describe('decodeInput', () => {
  it('builds the tensor from flat and from nested data alike', () => {
    const flat = decode(matrix, { datatype: 'FP32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6.5] });
    const nested = decode(matrix, { datatype: 'FP32', shape: [2, 3], data: [[1, 2, 3], [4, 5, 6.5]] });
    expect(flat.type).toBe('float32');
    expect(flat.dims).toEqual([2, 3]);
    expect(Array.from(flat.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6.5]);
    expect(nested.data).toEqual(flat.data);
  });

  it.each([
    ['int64', 'INT64', [-(2 ** 53 - 1), 0, 2 ** 53 - 1], BigInt64Array.from([-(2n ** 53n - 1n), 0n, 2n ** 53n - 1n])],
    ['uint64', 'UINT64', [0, 7, 2 ** 53 - 1], BigUint64Array.from([0n, 7n, 2n ** 53n - 1n])],
    ['int32', 'INT32', [-2147483648, 0, 2147483647], Int32Array.from([-2147483648, 0, 2147483647])],
    ['uint8', 'UINT8', [0, 128, 255], Uint8Array.from([0, 128, 255])],
    ['int16', 'INT16', [-32768, 1, 32767], Int16Array.from([-32768, 1, 32767])],
    ['uint16', 'UINT16', [0, 1, 65535], Uint16Array.from([0, 1, 65535])],
    ['uint32', 'UINT32', [0, 1, 4294967295], Uint32Array.from([0, 1, 4294967295])],
    ['float64', 'FP64', [0.1, -1e300, 5e-324], Float64Array.from([0.1, -1e300, 5e-324])],
    ['bool', 'BOOL', [true, false, true], Uint8Array.from([1, 0, 1])],
    ['string', 'BYTES', ['a', '', 'ünï'], ['a', '', 'ünï']],
  ])('takes %s as %s', (type, datatype, data, expected) => {
    const t = decode(tensorSpec('v', type, [-1]), { datatype, shape: [3], data });
    expect(t.type).toBe(type);
    expect(t.data).toEqual(expected);
  });

  it.each([
    ['int8', 'INT8', 128, 'an integer from -128 to 127'],
    ['uint8', 'UINT8', -1, 'an integer from 0 to 255'],
    ['int32', 'INT32', 2 ** 31, 'an integer from -2147483648 to 2147483647'],
    ['int64', 'INT64', 2 ** 53, 'an integer within ±(2^53 - 1)'],
    ['uint64', 'UINT64', -1, 'an integer from 0 to 2^53 - 1'],
    ['int64', 'INT64', '5', 'an integer within ±(2^53 - 1)'],
    ['float32', 'FP32', true, 'a number'],
    ['bool', 'BOOL', 0, 'true or false'],
    ['string', 'BYTES', 1, 'a string'],
  ])('refuses for %s (%s) the value %j, saying what it takes', (type, datatype, value, takes) => {
    expect(() => decode(tensorSpec('v', type, [-1]), { datatype, shape: [1], data: [value] })).toThrow(new TensorError('v', `data[0] is ${JSON.stringify(value)}; ${datatype} takes ${takes}`));
  });

  it('checks fixed dimensions and rank, leaving symbolic and unknown ones free', () => {
    const spec = tensorSpec('img', 'float32', [-1, 'C', 2]);
    expect(decode(spec, { datatype: 'FP32', shape: [1, 3, 2], data: [1, 2, 3, 4, 5, 6] }).dims).toEqual([1, 3, 2]);
    expect(() => decode(spec, { datatype: 'FP32', shape: [1, 3, 3], data: Array(9).fill(0) })).toThrow("shape [1, 3, 3] does not fit the model's [-1, -1, 2]");
    expect(() => decode(spec, { datatype: 'FP32', shape: [6, 2], data: Array(12).fill(0) })).toThrow("shape [6, 2] does not fit the model's [-1, -1, 2]");
  });

  it('requires inputs that share a symbolic dimension to agree on its size', () => {
    const symbols: SymbolicSizes = new Map();
    decode(tensorSpec('a', 'float32', ['N', 1]), { datatype: 'FP32', shape: [2, 1], data: [1, 2] }, symbols);
    expect(() => decode(tensorSpec('b', 'float32', ['N']), { datatype: 'FP32', shape: [3], data: [1, 2, 3] }, symbols)).toThrow(
      'input "b": dimension 0 is 3, but input "a" gives the model\'s dimension "N" 2',
    );
    expect(decode(tensorSpec('c', 'float32', ['M']), { datatype: 'FP32', shape: [3], data: [1, 2, 3] }, symbols).dims).toEqual([3]);
  });

  it('names the path of a nesting that does not follow the shape', () => {
    expect(() => decode(matrix, { datatype: 'FP32', shape: [2, 3], data: [[1, 2, 3], [4, 5]] })).toThrow('data[1] has 2 entries, shape [2, 3] needs 3 there');
    expect(() => decode(matrix, { datatype: 'FP32', shape: [2, 3], data: [[1, 2, 3], 4] })).toThrow('data[1] is 4, shape [2, 3] needs 3 there');
    expect(() => decode(matrix, { datatype: 'FP32', shape: [1, 3], data: [[1, 2, [3]]] })).toThrow('data[0][2] is [3]; FP32 takes a number');
    expect(() => decode(matrix, { datatype: 'FP32', shape: [1, 3], data: [1, [2], 3] })).toThrow('data[1] is [2]; FP32 takes a number');
  });

  it('refuses an element count that would not fit memory before allocating it', () => {
    expect(() => decode(tensorSpec('v', 'float32', [-1, -1]), { datatype: 'FP32', shape: [2 ** 20, 2 ** 20], data: [] })).toThrow('shape [1048576, 1048576] has too many elements');
  });

  it('refuses FP16, which JSON cannot carry exactly', () => {
    expect(() => decode(tensorSpec('h', 'float16', [-1]), { datatype: 'FP16', shape: [1], data: [1] })).toThrow('input "h": the model takes float16, which this server cannot carry in JSON');
  });
});

describe('encoding outputs', () => {
  it('writes float32 values as the doubles they widen to, NaN and infinities as null', () => {
    const t = new ort.Tensor('float32', Float32Array.from([0.1, Number.NaN, Number.POSITIVE_INFINITY, -0]), [4]);
    expect(JSON.parse(dataJson(t))).toEqual([Math.fround(0.1), null, null, 0]);
    expect(dataJson(new ort.Tensor('float32', Float32Array.from([0.5, 2]), [2]))).toBe('[0.5,2]');
  });

  it('writes int64 as JSON numbers, bool as booleans, strings escaped', () => {
    expect(dataJson(new ort.Tensor('int64', BigInt64Array.from([-3n, 9007199254740991n]), [2]))).toBe('[-3,9007199254740991]');
    expect(dataJson(new ort.Tensor('bool', Uint8Array.from([1, 0]), [2]))).toBe('[true,false]');
    expect(JSON.parse(dataJson(new ort.Tensor('string', ['a"b', 'x\ny'], [2])))).toEqual(['a"b', 'x\ny']);
  });

  it('writes a $response_output with the OIP datatype and the tensor shape', () => {
    const t = new ort.Tensor('int32', Int32Array.from([1, 2, 3, 4]), [2, 2]);
    expect(JSON.parse(outputJson('out', t))).toEqual({ name: 'out', datatype: 'INT32', shape: [2, 2], data: [1, 2, 3, 4] });
  });

  it('slices one row for v1 predictions', () => {
    const m = new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    expect(rowValue(m, 1)).toEqual([4, 5, 6]);
    const cube = new ort.Tensor('int32', Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]), [2, 2, 2]);
    expect(rowValue(cube, 1)).toEqual([[4, 5], [6, 7]]);
    expect(rowValue(new ort.Tensor('int64', BigInt64Array.from([5n, 6n]), [2]), 1)).toBe(6);
    expect(rowValue(new ort.Tensor('bool', Uint8Array.from([0, 1]), [2]), 1)).toBe(true);
  });
});

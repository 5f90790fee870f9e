import { describe, expect, it } from 'vitest';
import { requestFromSample, requestFromSignature } from '../../../src/rollout/sample.ts';
import { parseDuration } from '../../../src/rollout/settings.ts';
import { Timeline } from '../../../src/rollout/timeline.ts';
import { versionOf } from '../../../src/rollout/run.ts';

describe('parseDuration', () => {
  it('reads 10m, 90s, 1h30m, 500ms sums and plain seconds', () => {
    expect(parseDuration('timeout', '10m')).toBe(600_000);
    expect(parseDuration('timeout', '90s')).toBe(90_000);
    expect(parseDuration('timeout', '1h30m')).toBe(5_400_000);
    expect(parseDuration('timeout', '1s500ms')).toBe(1500);
    expect(parseDuration('timeout', '45')).toBe(45_000);
  });
  it('refuses what is not a duration, or outside 1 s to 6 h, naming the input', () => {
    expect(() => parseDuration('timeout', '10 minutes')).toThrow('timeout: "10 minutes" is not a duration');
    expect(() => parseDuration('timeout', '10mx')).toThrow('is not a duration');
    expect(() => parseDuration('timeout', '100ms')).toThrow('timeout: "100ms" must be from 1s to 6h');
    expect(() => parseDuration('timeout', '7h')).toThrow('must be from 1s to 6h');
  });
});

describe('smoke requests', () => {
  const signature = {
    inputs: [{ name: 'input', dtype: 'float32', shape: [-1, 3] }],
    outputs: [
      { name: 'label', dtype: 'int64', shape: [-1] },
      { name: 'probabilities', dtype: 'float32', shape: [-1, 2] },
    ],
  };

  it('builds one zero row per input from a signature, with the OIP datatype, and the outputs to expect', () => {
    expect(requestFromSignature(signature, 'card')).toEqual({
      v2: { inputs: [{ name: 'input', shape: [1, 3], datatype: 'FP32', data: [0, 0, 0] }] },
      v1: { instances: [[0, 0, 0]] },
      rows: 1,
      outputs: ['label', 'probabilities'],
      source: 'card',
    });
    const typed = requestFromSignature({ inputs: [{ name: 'ids', dtype: 'int64', shape: [-1, 2] }, { name: 'mask', dtype: 'BOOL', shape: [1, 2] }, { name: 'text', dtype: 'string', shape: [-1] }], outputs: [] }, 'm');
    expect(typed.v2.inputs.map((i) => [i.datatype, i.data])).toEqual([['INT64', [0, 0]], ['BOOL', [false, false]], ['BYTES', ['']]]);
    expect(() => requestFromSignature({ inputs: [{ name: 'x', dtype: 'map', shape: [] }], outputs: [] }, 'card')).toThrow('card: input x has type map, which has no Open Inference Protocol datatype');
    expect(() => requestFromSignature({ inputs: [], outputs: [] }, 'card')).toThrow('card declares no inputs');
  });

  it('takes a sample as an OIP request (nested data flattened) or a v1 body named by the signature', () => {
    const v2 = requestFromSample(JSON.stringify({ inputs: [{ name: 'input', shape: [2, 3], datatype: 'FP32', data: [[1, 2, 3], [4, 5, 6]] }] }), 'sample.json', signature);
    expect(v2).toMatchObject({ v2: { inputs: [{ data: [1, 2, 3, 4, 5, 6] }] }, v1: { instances: [[1, 2, 3], [4, 5, 6]] }, rows: 2, outputs: ['label', 'probabilities'] });
    const v1 = requestFromSample(JSON.stringify({ instances: [[1, 2, 3]] }), 'sample.json', signature);
    expect(v1.v2.inputs).toEqual([{ name: 'input', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }]);
    expect(() => requestFromSample('{"inputs": [{"name": "x", "shape": [1], "datatype": "float", "data": [1]}]}', 'sample.json')).toThrow(/^sample\.json: is neither an Open Inference Protocol infer request/);
    expect(() => requestFromSample('{', 'sample.json')).toThrow('sample.json: is not JSON');
  });
});

describe('versionOf and the timeline', () => {
  it('reads the version a storage URI or folder names', () => {
    expect(versionOf('s3://b/models/churn/sha256-0123456789abcdef/')).toBe('sha256-0123456789abcdef');
    expect(versionOf('/store/models/churn/sha256-0123456789abcdef')).toBe('sha256-0123456789abcdef');
    expect(versionOf('s3://b/models/churn/latest/')).toBeUndefined();
  });

  it('keeps transitions only, with seconds since the start, and says how many were left out past its limit', () => {
    let t = 1000;
    const timeline = new Timeline(1000, () => t, 2);
    timeline.checks([{ name: 'spec', ok: false, detail: 'old' }]);
    t = 1500;
    timeline.checks([{ name: 'spec', ok: false, detail: 'still old' }]);
    timeline.checks([{ name: 'spec', ok: true, detail: 'new' }]);
    timeline.add('x', 'dropped');
    expect(timeline.entries().map((e) => [e.seconds, e.subject, e.change])).toEqual([
      [0, 'check spec', 'does not hold: old'],
      [0.5, 'check spec', 'holds: new'],
      [0.5, 'timeline', '1 later change(s) left out'],
    ]);
  });
});

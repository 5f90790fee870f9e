import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { usageMessage } from '../../helpers/usage-error.ts';
import { discoverLegs } from '../../../src/metrics/legs.ts';
import { parseMetrics } from '../../../src/metrics/parse.ts';
import { tempDir } from '../../helpers/tmp.ts';

describe('parseMetrics', () => {
  it('flattens nested JSON objects with dots', () => {
    const m = parseMetrics('{"accuracy": 0.93, "latency": {"p99_ms": 3, "p50_ms": 1.5e-1}}', 'm.json');
    expect({ ...m }).toEqual({ accuracy: 0.93, 'latency.p99_ms': 3, 'latency.p50_ms': 0.15 });
  });

  it('reads YAML the same way', () => {
    expect({ ...parseMetrics('accuracy: 0.9\nlatency:\n  p99_ms: 4\n', 'm.yaml') }).toEqual({ accuracy: 0.9, 'latency.p99_ms': 4 });
  });

  it.each([
    ['NaN literal written by Python json.dump', '{"accuracy": NaN}', /m\.json: key "accuracy" has value "NaN".*allow_nan=False/],
    ['Infinity literal', '{"loss": {"train": Infinity}}', /key "loss\.train" has value "Infinity".*allow_nan=False/],
    ['-Infinity literal', '{"loss": -Infinity}', /key "loss" has value "-Infinity"/],
    ['YAML .nan', 'accuracy: .nan', /key "accuracy" has value NaN.*allow_nan/],
    ['a number too large for a double', '{"big": 1e400}', /key "big" has value Infinity/],
    ['a string', '{"accuracy": "0.93"}', /key "accuracy" has value "0\.93", not a finite number; write the number without quotes/],
    ['null', '{"f1": null}', /key "f1" has value null/],
    ['a boolean', '{"converged": true}', /key "converged" has value true/],
    ['a list', '{"scores": [1, 2]}', /key "scores" is a list/],
    ['a duplicate key', '{"accuracy": 0.9, "accuracy": 0.95}', /key "accuracy" appears twice/],
    ['a nested duplicate key', '{"latency": {"p99": 1, "p99": 2}}', /key "latency\.p99" appears twice/],
    ['a dotted key colliding with a nested one', '{"a.b": 1, "a": {"b": 2}}', /key "a\.b" is given twice/],
    ['__proto__', '{"__proto__": {"polluted": 1}}', /key "__proto__" is not allowed/],
    ['a top-level array', '[0.9]', /must be an object of metric names/],
    ['broken JSON', '{"accuracy": 0.9', /m\.json.*not valid JSON or YAML/],
  ])('rejects %s, naming the file and key', (_name, text, pattern) => {
    expect(usageMessage(() => parseMetrics(text, 'm.json'))).toMatch(pattern);
  });

  it('does not pollute Object.prototype', () => {
    usageMessage(() => parseMetrics('{"__proto__": {"x": 1}}', 'm.json'));
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('discoverLegs', () => {
  async function tree(files: Record<string, string>): Promise<string> {
    const root = tempDir('legs');
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(root, path, '..'), { recursive: true });
      await writeFile(join(root, path), text);
    }
    return root;
  }

  it('takes one leg per sub-folder of a downloaded-artifacts folder', async () => {
    const root = await tree({ 'legs/node-22/metrics.json': '{"a": 1}', 'legs/python-3.12/metrics.yaml': 'a: 2' });
    const legs = await discoverLegs(['legs'], root);
    expect(legs.map((l) => [l.name, l.file, l.metrics.a])).toEqual([
      ['node-22', join('legs', 'node-22', 'metrics.json'), 1],
      ['python-3.12', join('legs', 'python-3.12', 'metrics.yaml'), 2],
    ]);
  });

  it('follows run.json to the metrics file it names, with its leg name', async () => {
    const root = await tree({ 'legs/mlops-churn-py/run.json': '{"leg": "python-3.11", "metrics": "out/scores.json"}', 'legs/mlops-churn-py/out/scores.json': '{"a": 3}' });
    const legs = await discoverLegs(['legs'], root);
    expect(legs.map((l) => [l.name, l.metrics.a])).toEqual([['python-3.11', 3]]);
  });

  it('names an artifact folder holding metrics.json by its run.json leg, and scores the evaluated metrics.json', async () => {
    const root = await tree({
      'legs/mlops-churn-node-24/run.json': '{"leg": "node-24", "metrics": "train-metrics.json"}',
      'legs/mlops-churn-node-24/train-metrics.json': '{"a": 1}',
      'legs/mlops-churn-node-24/metrics.json': '{"a": 2}',
    });
    const legs = await discoverLegs(['legs'], root);
    expect(legs.map((l) => [l.name, l.file, l.metrics.a])).toEqual([['node-24', join('legs', 'mlops-churn-node-24', 'metrics.json'), 2]]);
  });

  it('refuses a run.json pointing outside its folder', async () => {
    const root = await tree({ 'legs/x/run.json': '{"metrics": "../../secret.json"}' });
    await expect(discoverLegs(['legs'], root)).rejects.toThrow(/points outside the leg folder/);
  });

  it('accepts files, globs and name=path', async () => {
    const root = await tree({ 'a/metrics.json': '{"m": 1}', 'b/metrics.json': '{"m": 2}', 'eval.json': '{"m": 3}' });
    expect((await discoverLegs(['*/metrics.json'], root)).map((l) => l.name)).toEqual(['a', 'b']);
    expect((await discoverLegs(['eval.json'], root)).map((l) => l.name)).toEqual(['eval']);
    expect((await discoverLegs(['candidate=eval.json'], root)).map((l) => [l.name, l.metrics.m])).toEqual([['candidate', 3]]);
  });

  it('fails on a leg folder without metrics rather than dropping the leg', async () => {
    const root = await tree({ 'legs/ok/metrics.json': '{"m": 1}', 'legs/broken/model.onnx': 'x' });
    await expect(discoverLegs(['legs'], root)).rejects.toThrow(/legs\/broken.*has no metrics\.json/);
  });

  it('names the file in parse errors and rejects missing paths and duplicate leg names', async () => {
    const root = await tree({ 'legs/a/metrics.json': '{"m": NaN}', 'x/metrics.json': '{}', 'y/x/metrics.json': '{}' });
    await expect(discoverLegs(['legs'], root)).rejects.toThrow(/legs\/a\/metrics\.json: key "m" has value "NaN"/);
    await expect(discoverLegs(['nope'], root)).rejects.toThrow(/"nope" does not exist/);
    await expect(discoverLegs(['x', 'y/x'], root)).rejects.toThrow(/two legs are named "x"/);
    await expect(discoverLegs(['*.nothing'], root)).rejects.toThrow(/matches nothing/);
  });
});

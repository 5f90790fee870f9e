// train's `params` input: a sweep point reaches the program as MLOPS_PARAMS and MLOPS_PARAMS_FILE (a file
// outside the working directory, removed afterwards), and run.json records it as `params`.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.ts';
import { buildLinearClassifier } from '../../../src/onnx/linear-classifier.ts';
import { trainSettings } from '../../../src/train/settings.ts';
import { runTraining } from '../../../src/train/train.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { usageMessage } from '../../helpers/usage-error.ts';

let ws: string;
let temp: string;

beforeEach(() => {
  ws = tempDir('train-params');
  temp = tempDir('train-params-runner-temp');
  writeFileSync(join(ws, 'tiny.onnx'), buildLinearClassifier({ features: ['a'], numeric: [{ index: 0, mean: 0, scale: 1 }], categorical: [], weights: [1], intercept: 0, producer: { name: 'test', version: '1' } }));
  writeFileSync(
    join(ws, 'program.cjs'),
    `const fs = require('node:fs');
fs.mkdirSync('model', { recursive: true });
fs.copyFileSync('tiny.onnx', 'model/model.onnx');
fs.writeFileSync('metrics.json', JSON.stringify({ accuracy: 0.9 }));
fs.writeFileSync('params.yaml', 'train:\\n  C: 0.5\\n');
fs.writeFileSync('seen.json', JSON.stringify({
  env: process.env.MLOPS_PARAMS ?? null,
  file: process.env.MLOPS_PARAMS_FILE ?? null,
  fromFile: process.env.MLOPS_PARAMS_FILE ? JSON.parse(fs.readFileSync(process.env.MLOPS_PARAMS_FILE, 'utf8')) : null,
}));`,
  );
});

const run = (raw: Record<string, string>) =>
  runTraining(trainSettings({ argv: [process.execPath, 'program.cjs'], model: 'churn', ...raw }, ws, { GITHUB_WORKSPACE: ws }, false), {
    logger: silentLogger,
    env: { PATH: process.env.PATH },
    write: () => {},
  });

describe('train params', () => {
  it('hands a sweep point to the program as MLOPS_PARAMS and a params file, and records it in run.json', async () => {
    const point = { c: 0.0709156, optimizer: { name: 'adam', betas: [0.9, 0.99] } };
    const saved = process.env.RUNNER_TEMP;
    process.env.RUNNER_TEMP = temp;
    try {
      const result = await run({ params: JSON.stringify(point), leg: 'c-0.07092' });
      const seen = JSON.parse(readFileSync(join(ws, 'seen.json'), 'utf8'));
      expect(JSON.parse(seen.env)).toEqual(point);
      expect(seen.fromFile).toEqual(point);
      expect(seen.file.startsWith(temp)).toBe(true);
      expect(existsSync(seen.file)).toBe(false);
      expect(readdirSync(temp)).toEqual([]);
      expect(result.record.params).toEqual(point);
      expect(JSON.parse(readFileSync(join(ws, 'run.json'), 'utf8')).params).toEqual(point);
      // The program's own params.yaml is left alone and still uploaded with the outputs.
      expect(readFileSync(join(ws, 'params.yaml'), 'utf8')).toBe('train:\n  C: 0.5\n');
      expect(result.record.outputs.files.map((f) => f.path)).toContain('params.yaml');
    } finally {
      if (saved === undefined) delete process.env.RUNNER_TEMP;
      else process.env.RUNNER_TEMP = saved;
    }
  });

  it("takes the leg name and params from a sweep's matrix entry when they are not given", async () => {
    const result = await run({ matrix: JSON.stringify({ leg: 'c-1', params: { c: 1 } }) });
    expect(result.record.leg).toBe('c-1');
    expect(result.artifactName).toBe('mlops-churn-c-1');
    expect(result.record.params).toEqual({ c: 1 });
    expect(JSON.parse(JSON.parse(readFileSync(join(ws, 'seen.json'), 'utf8')).env)).toEqual({ c: 1 });
  });

  it('without params the program sees none and run.json records its own params file, as before', async () => {
    const result = await run({});
    expect(JSON.parse(readFileSync(join(ws, 'seen.json'), 'utf8'))).toEqual({ env: null, file: null, fromFile: null });
    expect(result.record.params).toEqual({ train: { C: 0.5 } });
    expect(result.record).not.toHaveProperty('backend');
  });

  it.each([
    ['[1, 2]', 'must be a JSON object'],
    ['{lr: 1}', 'is not JSON'],
    [JSON.stringify({ blob: 'x'.repeat(40_000) }), 'is over 32 KiB'],
  ])('refuses params %s before running anything', (params, message) => {
    expect(usageMessage(() => trainSettings({ argv: ['x'], params }, ws, {}, false))).toMatch(new RegExp(`^params: .*${message}`));
  });
});

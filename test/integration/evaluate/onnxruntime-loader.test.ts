// The runtime strategy of the bundled evaluate action: outside a repository with node_modules, the pinned
// onnxruntime-node is installed once into the runner's tool cache and loaded from there.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../../package.json' with { type: 'json' };
import { writeDataset } from '../../../scripts/generate-data.ts';
import { train } from '../../../scripts/train.ts';
import { silentLogger } from '../../../src/log.ts';
import { cacheDir, ensureInstalled, loadOnnxRuntime, locate, ONNXRUNTIME_VERSION } from '../../../src/evaluate/onnxruntime-loader.ts';
import { tempDir } from '../../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '../../..');
let dir: string;
let toolCache: string;
/** A place with no node_modules above it, like an action checkout on a runner. */
let outside: string;

beforeAll(async () => {
  dir = tempDir('ort-loader');
  toolCache = join(dir, 'tool-cache');
  outside = join(dir, 'action', 'dist', 'index.js');
  mkdirSync(dirname(outside), { recursive: true });
  // --prefer-offline: the npm cache on this machine already holds the package; the registry is the fallback.
  await ensureInstalled({ logger: silentLogger, toolCache, npmArgs: ['--prefer-offline'] });
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('onnxruntime-node loader', () => {
  it('pins the exact version from package.json', () => {
    expect(ONNXRUNTIME_VERSION).toBe(pkg.dependencies['onnxruntime-node']);
    expect(ONNXRUNTIME_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('uses the repository copy when it resolves, and the tool cache otherwise', () => {
    expect(locate({ from: join(ROOT, 'actions/evaluate/dist/index.js'), toolCache })).toBe(join(ROOT, 'node_modules/onnxruntime-node/dist/index.js'));
    const cached = cacheDir({ toolCache });
    expect(cached).toBe(join(toolCache, 'mlops-actions-onnxruntime', ONNXRUNTIME_VERSION, `${process.platform}-${process.arch}`));
    expect(locate({ from: outside, toolCache })).toBe(join(cached, 'node_modules/onnxruntime-node/dist/index.js'));
    expect(readdirSync(dirname(cached)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('loads the installed copy and runs a model with it, without npm on the second use', async () => {
    const { ort, path } = await loadOnnxRuntime({ logger: silentLogger, from: outside, toolCache, env: { PATH: '' } });
    expect(path.startsWith(toolCache)).toBe(true);
    const session = await ort.InferenceSession.create(readFileSync(await tinyModel()));
    expect(session.inputNames).toEqual(['input']);
    await session.release();
  });

  it('turns onnxruntime\'s telemetry off, so scoring a model leaves nothing in the temporary folder', async () => {
    const model = await tinyModel();
    const tmp = join(dir, 'telemetry-tmp');
    mkdirSync(tmp);
    const script = [
      `import { loadOnnxRuntime } from ${JSON.stringify(join(ROOT, 'src/evaluate/onnxruntime-loader.ts'))};`,
      `import { readFileSync } from 'node:fs';`,
      `const { ort } = await loadOnnxRuntime({ logger: { debug() {} } });`,
      `const session = await ort.InferenceSession.create(readFileSync(${JSON.stringify(model)}));`,
      `await session.release();`,
    ].join('\n');
    // What a laptop has: no CI variables (onnxruntime only turns itself off under CI), no opt-out of our own.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['CI', 'GITHUB_ACTIONS', 'ORT_DISABLE_TELEMETRY'].includes(k)));
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { env: { ...env, TMPDIR: tmp } }, (error, _out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve())),
    );
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('names the version and npm\'s error when the install fails, leaving nothing behind', async () => {
    const other = join(dir, 'other-cache');
    await expect(
      ensureInstalled({ logger: silentLogger, toolCache: other, version: '0.0.0-no-such-version', npmArgs: ['--offline'] }),
    ).rejects.toThrow(/could not install onnxruntime-node@0\.0\.0-no-such-version into the tool cache: npm install .* exited with/);
    expect(existsSync(cacheDir({ toolCache: other, version: '0.0.0-no-such-version' }))).toBe(false);
    expect(readdirSync(join(other, 'mlops-actions-onnxruntime', '0.0.0-no-such-version'))).toEqual([]);
  });

  it('the bundled evaluate action runs from a folder without node_modules, on the tool-cache copy', async () => {
    copyFileSync(join(ROOT, 'actions/evaluate/dist/index.js'), outside);
    writeFileSync(join(dirname(outside), '..', 'package.json'), '{"type": "module"}');
    const ws = join(dir, 'ws');
    writeDataset(join(ws, 'data'), { rows: 200, seed: 2 });
    train({ train: join(ws, 'data/train.csv'), holdout: join(ws, 'data/holdout.csv'), schema: join(ws, 'data/schema.json'), modelDir: join(ws, 'model'), metrics: join(ws, 'm.json'), params: join(ws, 'p.yaml'), c: 1, maxIter: 50, seed: 0 });
    writeFileSync(join(ws, 'outputs.txt'), '');
    writeFileSync(join(ws, 'summary.md'), '');
    const env = {
      PATH: '',
      RUNNER_TOOL_CACHE: toolCache,
      RUNNER_DEBUG: '1',
      GITHUB_OUTPUT: join(ws, 'outputs.txt'),
      GITHUB_STEP_SUMMARY: join(ws, 'summary.md'),
      INPUT_MODEL: 'model/model.onnx',
      INPUT_DATA: 'data/holdout.csv',
      INPUT_TASK: 'binary',
      INPUT_OUT: 'evaluation.json',
      'INPUT_LATENCY-SAMPLES': '20',
      'INPUT_THROUGHPUT-MS': '10',
    };
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [outside], { cwd: ws, env }, (error, out) => (error ? reject(new Error(`${error.message}\n${out}`)) : resolve(out))),
    );
    expect(stdout).toContain(`::debug::onnxruntime-node from ${join(cacheDir({ toolCache }), 'node_modules/onnxruntime-node/dist/index.js')}`);
    const metrics = JSON.parse(readFileSync(join(ws, 'evaluation.json'), 'utf8'));
    expect(metrics.accuracy).toBeGreaterThan(0.6);
    expect(metrics.latency.p99_ms).toBeGreaterThan(0);
    expect(readFileSync(join(ws, 'outputs.txt'), 'utf8')).toContain('evaluation.json');
  });
});

async function tinyModel(): Promise<string> {
  const { buildLinearClassifier } = await import('../../../src/onnx/linear-classifier.ts');
  const file = join(dir, 'tiny.onnx');
  writeFileSync(file, buildLinearClassifier({ features: ['a'], numeric: [{ index: 0, mean: 0, scale: 1 }], categorical: [], weights: [1], intercept: 0, producer: { name: 't', version: '1' } }));
  return file;
}

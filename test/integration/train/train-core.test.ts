// runTraining with real child processes: what it records, what the program sees, and every way it refuses.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isUsageError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/log.ts';
import { buildLinearClassifier } from '../../../src/onnx/linear-classifier.ts';
import type { ArtifactUploader } from '../../../src/train/artifact.ts';
import { localArtifactUploader } from '../../../src/train/artifact.ts';
import { trainSettings } from '../../../src/train/settings.ts';
import { runTraining } from '../../../src/train/train.ts';
import { tempDir } from '../../helpers/tmp.ts';

let ws: string;
let output: string;
let uploads: string[];

beforeEach(() => {
  ws = tempDir('train');
  output = '';
  uploads = [];
  writeFileSync(join(ws, 'tiny.onnx'), buildLinearClassifier({ features: ['a'], numeric: [{ index: 0, mean: 0, scale: 1 }], categorical: [], weights: [1], intercept: 0, producer: { name: 'test', version: '1' } }));
});
afterEach(() => rmSync(ws, { recursive: true, force: true }));

/** A training program in JavaScript, run as `node program.js` in the workspace. */
function program(source: string): string[] {
  writeFileSync(join(ws, 'program.cjs'), `const fs = require('node:fs');\n${source}`);
  return [process.execPath, 'program.cjs'];
}

const WRITES_OUTPUTS = `
fs.mkdirSync('model', { recursive: true });
fs.copyFileSync('tiny.onnx', 'model/model.onnx');
fs.writeFileSync('metrics.json', JSON.stringify({ accuracy: 0.9, latency: { p99_ms: 3 } }));
fs.writeFileSync('params.yaml', 'train:\\n  C: 0.5\\n');
`;

function settings(argv: string[], extra: Record<string, string> = {}, protect = false) {
  return { ...trainSettings({ argv, model: 'churn', matrix: '{"runtime":"node","version":"24"}', seed: '7', ...extra }, ws, { GITHUB_WORKSPACE: ws }, protect) };
}

const recording: ArtifactUploader = {
  async upload(name) {
    uploads.push(name);
    return { location: name };
  },
};

function deps(env: NodeJS.ProcessEnv = {}, uploader: ArtifactUploader = recording) {
  return { logger: silentLogger, env: { PATH: process.env.PATH, ...env }, write: (c: string) => (output += c), uploader, graceMs: 300 };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isUsageError(error), String(error)).toBe(true);
  expect(uploads).toEqual([]);
  return (error as Error).message;
}

describe('runTraining', () => {
  it('runs the command with seeds, records run.json with digests, params and data versions, and uploads the outputs', async () => {
    writeFileSync(join(ws, 'data.dvc'), 'outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 10\n  hash: md5\n  path: data.csv\n');
    const argv = program(`${WRITES_OUTPUTS}
fs.writeFileSync('env.json', JSON.stringify({ seed: process.env.MLOPS_SEED, hash: process.env.PYTHONHASHSEED, input: process.env.INPUT_SECRET ?? null, token: process.env.ACTIONS_RUNTIME_TOKEN ?? null, out: process.env.GITHUB_OUTPUT ?? null }));
console.log('training done');`);
    const env = { INPUT_SECRET: 's', ACTIONS_RUNTIME_TOKEN: 't', GITHUB_OUTPUT: '/tmp/x', GITHUB_REPOSITORY: 'acme/churn', GITHUB_SHA: 'c0ffee', GITHUB_REF: 'refs/pull/3/merge', GITHUB_RUN_ID: '99' };
    const artifacts = join(ws, 'artifacts');
    const result = await runTraining(settings(argv), deps(env, localArtifactUploader(artifacts)));

    expect(JSON.parse(readFileSync(join(ws, 'env.json'), 'utf8'))).toEqual({ seed: '7', hash: '7', input: null, token: null, out: null });
    expect(output).toContain('training done');
    expect(result.artifactName).toBe('mlops-churn-node-24');
    expect(result.modelPath).toBe(join(ws, 'model/model.onnx'));
    const record = JSON.parse(readFileSync(join(ws, 'run.json'), 'utf8'));
    expect(record).toMatchObject({
      schema: 'mlops-actions/run/v1',
      model: 'churn',
      leg: 'node-24',
      matrix: { runtime: 'node', version: '24' },
      command: argv,
      shell: false,
      seed: 7,
      'exit-code': 0,
      params: { train: { C: 0.5 } },
      data: [{ path: 'data.csv', md5: '0123456789abcdef0123456789abcdef', 'dvc-file': 'data.dvc' }],
      source: { repository: 'acme/churn', commit: 'c0ffee', ref: 'refs/pull/3/merge', 'run-url': 'https://github.com/acme/churn/actions/runs/99', leg: 'node-24' },
      metrics: 'metrics.json',
      outputs: { 'model-dir': 'model' },
    });
    expect(record.runtime.node).toMatch(/^\d+\.\d+/);
    expect(record['duration-seconds']).toBeGreaterThanOrEqual(0);
    expect(Date.parse(record.ended)).toBeGreaterThanOrEqual(Date.parse(record.started));
    const sha = (p: string) => createHash('sha256').update(readFileSync(join(ws, p))).digest('hex');
    expect(record.outputs.files).toEqual(
      ['model/model.onnx', 'metrics.json', 'params.yaml'].map((p) => ({ path: p, sha256: sha(p), size: readFileSync(join(ws, p)).length })),
    );
    for (const f of ['model/model.onnx', 'metrics.json', 'params.yaml', 'run.json']) {
      expect(readFileSync(join(artifacts, 'mlops-churn-node-24', f)).equals(readFileSync(join(ws, f)))).toBe(true);
    }
  });

  it("wraps the program's output in a stop-commands block so it cannot issue workflow commands", async () => {
    const argv = program(`${WRITES_OUTPUTS}
process.stdout.write('::set-output name=x::evil\\n::warning::injected\\nno newline at the end');`);
    await runTraining(settings(argv, {}, true), deps());
    const match = /^::stop-commands::([0-9a-f]{32})\n([\s\S]*)\n::\1::\n$/.exec(output);
    expect(match, output).not.toBeNull();
    expect(match![2]).toContain('::warning::injected');
    expect(match![2]!.endsWith('no newline at the end')).toBe(true);
  });

  it('refuses a command that is not found', async () => {
    expect(await refusal(runTraining(settings(['no-such-trainer-xyz']), deps()))).toMatch(/^command: "no-such-trainer-xyz" was not found/);
  });

  it('refuses a non-zero exit and shows its last output lines', async () => {
    const argv = program(`for (let i = 1; i <= 30; i++) console.log('line ' + i); console.error('Traceback: boom'); process.exit(3);`);
    const message = await refusal(runTraining(settings(argv), deps()));
    expect(message).toMatch(/^command: ".*node.*" exited with code 3/);
    expect(message).toContain('| Traceback: boom');
    expect(message).toContain('| line 30');
    expect(message).not.toContain('| line 5\n');
  });

  it('kills the whole process group on timeout, grandchildren included', async () => {
    const argv = program(`
require('node:child_process').spawn(process.execPath, ['-e', "setTimeout(() => require('node:fs').writeFileSync('late', 'x'), 1500)"], { stdio: 'ignore' });
console.log('started'); setInterval(() => {}, 1000);`);
    const error = await runTraining(settings(argv, { timeout: '700ms' }), deps()).then(() => undefined, (e: unknown) => e as Error);
    // Could not complete (exit 3), not bad input.
    expect(error).toBeInstanceOf(Error);
    expect(isUsageError(error)).toBe(false);
    expect(uploads).toEqual([]);
    const message = error!.message;
    expect(message).toMatch(/^timeout: 0.7s was reached/);
    expect(message).toContain('| started');
    await new Promise((r) => setTimeout(r, 1500));
    expect(existsSync(join(ws, 'late'))).toBe(false);
  });

  it('passes a cancellation (SIGTERM to mlops train) on to the whole process group', async () => {
    program(`
require('node:child_process').spawn(process.execPath, ['-e', "setTimeout(() => require('node:fs').writeFileSync('late', 'x'), 1500)"], { stdio: 'ignore' });
console.log('started'); setInterval(() => {}, 1000);`);
    const cli = spawn(process.execPath, [join(import.meta.dirname, '../../../bin/mlops.js'), 'train', '--', process.execPath, 'program.cjs'], { cwd: ws, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    await new Promise<void>((resolve) => cli.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('started')) resolve();
    }));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => cli.on('exit', (_, signal) => resolve(signal)));
    cli.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    await new Promise((r) => setTimeout(r, 1500));
    expect(existsSync(join(ws, 'late'))).toBe(false);
  });

  it('refuses a missing or empty model folder, a missing metrics file and a metrics file with NaN', async () => {
    expect(await refusal(runTraining(settings(program(`fs.writeFileSync('metrics.json', '{"a": 1}')`)), deps()))).toMatch(/^model-dir: "model" was not written/);
    expect(await refusal(runTraining(settings(program(`fs.mkdirSync('model'); fs.writeFileSync('metrics.json', '{"a": 1}')`)), deps()))).toMatch(/^model-dir: "model" is empty/);
    expect(await refusal(runTraining(settings(program(`fs.mkdirSync('model', {recursive: true}); fs.writeFileSync('model/m.bin', 'x'); fs.rmSync('metrics.json', { force: true })`)), deps()))).toMatch(/^metrics: "metrics.json" was not written/);
    const nan = await refusal(runTraining(settings(program(`fs.mkdirSync('model', {recursive: true}); fs.writeFileSync('model/m.bin', 'x'); fs.writeFileSync('metrics.json', '{"accuracy": NaN}')`)), deps()));
    expect(nan).toContain('metrics.json');
    expect(nan).toContain('accuracy');
    expect(existsSync(join(ws, 'run.json'))).toBe(false);
  });

  it('refuses an .onnx file that onnxruntime could not load, and uploads nothing', async () => {
    const write = (bytes: string) => program(`fs.mkdirSync('model', { recursive: true }); fs.writeFileSync('model/model.onnx', ${bytes}); fs.writeFileSync('metrics.json', '{"a": 1}')`);
    expect(await refusal(runTraining(settings(write(`'not really onnx'`)), deps()))).toMatch(/^model-dir: "model\/model.onnx" cannot be loaded: it is not an ONNX protobuf/);
    // A valid protobuf declaring IR 14: field 1 (ir_version), varint 14.
    expect(await refusal(runTraining(settings(write(`Buffer.from([8, 14])`)), deps()))).toMatch(/ir_version 14 is newer than onnxruntime supports/);
  });

  it('refuses output paths outside the working directory before running anything', async () => {
    mkdirSync(join(ws, 'sub'));
    const argv = program(`fs.writeFileSync('ran', 'x')`);
    expect(await refusal(runTraining(settings(argv, { 'model-dir': '../model' }), deps()))).toMatch(/^model-dir: "..\/model" must be a relative path inside/);
    expect(existsSync(join(ws, 'ran'))).toBe(false);
  });
});

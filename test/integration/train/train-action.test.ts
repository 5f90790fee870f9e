// The bundled train action, run as GitHub runs it: `node actions/train/dist/index.js` with INPUT_* and the
// runner's files, uploading through the real @actions/artifact client to an in-process artifact service.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { writeDataset } from '../../../scripts/generate-data.ts';
import { startArtifactService, zipDigest, type ArtifactService } from '../../helpers/artifact-service.ts';
import { tempDir } from '../../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '../../..');
const BUNDLE = join(ROOT, 'actions/train/dist/index.js');

let service: ArtifactService;
let ws: string;

beforeAll(async () => {
  service = await startArtifactService();
});
afterAll(() => service.close());
beforeEach(() => {
  ws = tempDir('train-action');
  writeDataset(join(ws, 'data'), { rows: 300, seed: 11 });
  writeFileSync(join(ws, 'outputs.txt'), '');
  writeFileSync(join(ws, 'summary.md'), '');
  return () => rmSync(ws, { recursive: true, force: true });
});

function runAction(inputs: Record<string, string>): Promise<{ code: number; stdout: string }> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...service.env,
    GITHUB_WORKSPACE: ws,
    GITHUB_OUTPUT: join(ws, 'outputs.txt'),
    GITHUB_STEP_SUMMARY: join(ws, 'summary.md'),
    GITHUB_REPOSITORY: 'acme/churn',
    GITHUB_SHA: 'f'.repeat(40),
    GITHUB_REF: 'refs/pull/5/merge',
    GITHUB_RUN_ID: '1234',
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  return new Promise((resolve) => {
    execFile(process.execPath, [BUNDLE], { cwd: ws, env }, (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }));
  });
}

/** Parses the `name<<delimiter` blocks @actions/core writes to GITHUB_OUTPUT. */
function outputs(): Record<string, string> {
  const text = readFileSync(join(ws, 'outputs.txt'), 'utf8');
  return Object.fromEntries([...text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)].map((m) => [m[1], m[3]]));
}

function unzipList(zip: Buffer): Promise<string[]> {
  const file = join(ws, 'artifact.zip');
  writeFileSync(file, zip);
  return new Promise((resolve, reject) =>
    execFile('unzip', ['-Z1', file], (error, stdout) => (error ? reject(error) : resolve(stdout.trim().split('\n').sort()))),
  );
}

describe('actions/train (bundled)', () => {
  it('trains one leg, sets the outputs, and uploads mlops-<model>-<leg> through @actions/artifact', async () => {
    const { code, stdout } = await runAction({
      command: `- ${process.execPath}\n- ${join(ROOT, 'scripts/train.ts')}\n- --c\n- "0.5"`,
      matrix: '{"runtime":"node","version":"24"}',
      model: 'churn',
      seed: '5',
    });
    expect(code, stdout).toBe(0);
    const out = outputs();
    expect(out['artifact-name']).toBe('mlops-churn-node-24');
    expect(out.leg).toBe('node-24');
    expect(out['model-path']).toBe(join(ws, 'model/model.onnx'));
    expect(out.metrics).toBe(join(ws, 'metrics.json'));
    const artifact = service.artifacts.get('mlops-churn-node-24');
    expect(artifact?.finalized).toBe(true);
    expect(out['artifact-id']).toBe(String(artifact!.id));
    expect(artifact!.hash).toBe(zipDigest(artifact!));
    expect(await unzipList(artifact!.content)).toEqual(['metrics.json', 'model/model.onnx', 'params.yaml', 'run.json']);
    const record = JSON.parse(readFileSync(join(ws, 'run.json'), 'utf8'));
    expect(record.params.train).toMatchObject({ C: 0.5, seed: 5 });
    expect(record.source['run-url']).toBe('https://github.com/acme/churn/actions/runs/1234');
    // The program's output sits inside a stop-commands block.
    expect(stdout).toMatch(/::stop-commands::([0-9a-f]{32})\nwrote model\/model\.onnx[^\n]*\n::\1::\n/);
    expect(readFileSync(join(ws, 'summary.md'), 'utf8')).toContain('Training: churn / node-24');
  });

  it('fails the step, shows the last output lines and uploads nothing when the command fails', async () => {
    const before = service.requests.length;
    const { code, stdout } = await runAction({ command: `${process.execPath} -e "console.log('loading'); process.exit(4)"`, model: 'churn', leg: 'broken' });
    expect(code).toBe(1);
    expect(stdout).toMatch(/::error::Invalid input: command: ".*" exited with code 4\. Last output:%0A  \| loading/);
    expect(service.requests.slice(before)).toEqual([]);
    expect(service.artifacts.has('mlops-churn-broken')).toBe(false);
  });

  it('rejects bad inputs by name before running anything', async () => {
    const { code, stdout } = await runAction({ command: 'python3 train.py > log', model: 'churn' });
    expect(code).toBe(1);
    expect(stdout).toContain('::error::Invalid input: command: "python3 train.py > log" uses ">"');
    const second = await runAction({ command: 'true', timeout: 'forever' });
    expect(second.stdout).toContain('::error::Invalid input: timeout: "forever"');
  });
});

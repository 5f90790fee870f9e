import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/tmp.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/manifests');

/** Runs the committed bundle the way the runner does: INPUT_* environment, GITHUB_OUTPUT file. */
async function runAction(inputs: Record<string, string>, fixture: string) {
  const dir = tempDir('bump-action');
  copyFileSync(join(FIXTURES, fixture), join(dir, 'inference.yaml'));
  writeFileSync(join(dir, 'output'), '');
  writeFileSync(join(dir, 'summary'), '');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, GITHUB_WORKSPACE: dir, GITHUB_OUTPUT: join(dir, 'output'), GITHUB_STEP_SUMMARY: join(dir, 'summary') };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const result = await run(process.execPath, [join(ROOT, 'actions/bump/dist/index.js')], { env, cwd: dir }).catch((e) => e);
  return { dir, stdout: String(result.stdout), code: result.code ?? 0, output: readFileSync(join(dir, 'output'), 'utf8'), file: readFileSync(join(dir, 'inference.yaml'), 'utf8') };
}

describe('actions/bump bundle', () => {
  it('bumps the manifest and sets changed and diff outputs', async () => {
    const r = await runAction(
      { manifest: 'inference.yaml', 'storage-uri': 's3://models/models/churn/sha256-abcdefabcdefabcd/', commit: 'f00d', 'run-url': 'https://github.com/o/r/actions/runs/7', 'create-missing': 'false' },
      'isvc-comments.yaml',
    );
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/changed<<\S+\ntrue\n/);
    expect(r.output).toContain('+      storageUri: s3://models/models/churn/sha256-abcdefabcdefabcd/ # bumped by CI');
    expect(r.file).toContain('mlops-actions.io/model-version: sha256-abcdefabcdefabcd   # old version');
    expect(r.file).toContain('mlops-actions.io/run-url: https://github.com/o/r/actions/runs/7');
  });

  it('fails the step with the reason and leaves the file unchanged on a refusal', async () => {
    const r = await runAction({ manifest: 'inference.yaml', image: 'kserve-container=ghcr.io/org/app:bad tag' }, 'isvc-containers.yaml');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('::error::Invalid input: image:');
    expect(r.file).toBe(readFileSync(join(FIXTURES, 'isvc-containers.yaml'), 'utf8'));
  });
});

describe('actions/bump workspace boundary', () => {
  it('refuses a manifest outside the workspace', async () => {
    const r = await runAction({ manifest: '../../etc/hosts', 'storage-uri': 's3://a/models/x/sha256-0123456789abcdef/' }, 'isvc-comments.yaml');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('::error::Invalid input: manifest: "../../etc/hosts" is outside the workspace');
  });
});

import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { publishModel } from '../../src/model/publish.ts';
import { LocalRemote } from '../../src/storage/local-remote.ts';
import { startS3Target, type S3Target } from '../helpers/s3-servers.ts';
import { tempDir } from '../helpers/tmp.ts';
import { mlops } from './mlops-cli.ts';

/**
 * Issue 10 item 4: `baseline: production` fails closed. A gate whose baseline cannot be read must not pass
 * against nothing: every way of looking in the wrong place is exit 3 naming the storageUri.
 */

const RULES = 'baseline: production\nmetrics:\n  accuracy: { min: 0.5, max-drop: 0.01 }\n';
const BUNDLE = join(import.meta.dirname, '../../actions/gate/dist/index.js');

/** A workspace whose candidate regressed from 0.95 (what production serves) to 0.80, and a store holding production. */
async function regressed() {
  const cwd = tempDir('sec-gate-ws');
  mkdirSync(join(cwd, 'model'));
  writeFileSync(join(cwd, 'model', 'weights.bin'), 'production weights\n');
  writeFileSync(join(cwd, 'prod-metrics.json'), '{"accuracy": 0.95}\n');
  const store = tempDir('sec-gate-store');
  const published = await publishModel({ modelDir: 'model', name: 'churn', metrics: 'prod-metrics.json' }, { remote: new LocalRemote(store), logger: silentLogger, cwd, env: {} });
  const uri = `s3://models/models/churn/${published.version}/`;
  writeFileSync(join(cwd, 'inference.yaml'), `apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: churn}\nspec:\n  predictor:\n    model:\n      storageUri: ${uri}\n`);
  writeFileSync(join(cwd, 'candidate.json'), '{"accuracy": 0.80}\n');
  writeFileSync(join(cwd, 'gates.yml'), RULES);
  return { cwd, store, uri, version: published.version };
}

const gate = (cwd: string, ...extra: string[]) => mlops(['gate', '--metrics', 'candidate.json', '--rules', 'gates.yml', '--manifest', 'inference.yaml', ...extra], cwd);

describe('the gate against production fails closed', () => {
  let s3: S3Target;
  beforeAll(async () => {
    s3 = await startS3Target();
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('still fails the regression when the card is found (control)', async () => {
    const { cwd, store } = await regressed();
    const r = await gate(cwd, '--remote', store);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('drop 0.15');
  });

  it('a wrong remote, a wrong prefix, a missing bucket and a refused secret are exit 3 naming the storageUri, never a pass', async () => {
    const { cwd, store, uri } = await regressed();
    const bucket = await s3.newBucket();
    const wrong: [string, string[]][] = [
      ['a remote that holds nothing', ['--remote', tempDir('sec-gate-empty')]],
      ['the wrong prefix of the right store', ['--remote', join(store, 'models')]],
      ['a bucket that does not exist', ['--remote', 's3://no-such-bucket-mlops/registry', '--endpoint', s3.endpoint]],
      ['an empty bucket', ['--remote', `s3://${bucket}/registry`, '--endpoint', s3.endpoint]],
    ];
    for (const [what, args] of wrong) {
      const r = await gate(cwd, ...args);
      expect(r.code, `${what}: ${r.stderr}`).toBe(3);
      expect(r.stderr, what).toContain(`baseline: production deploys ${uri}`);
      expect(r.stdout, what).toBe('');
    }
    const secret = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
    try {
      const r = await gate(cwd, '--remote', `s3://${bucket}/registry`, '--endpoint', s3.endpoint);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(uri);
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = secret;
    }
  });

  it('treats production as "not deployed yet" only without a storageUri, or when allowed', async () => {
    const { cwd } = await regressed();
    const empty = tempDir('sec-gate-empty');
    const allowed = await gate(cwd, '--remote', empty, '--allow-missing-baseline');
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toMatch(/does not exist: allow-missing-baseline is true/);
    writeFileSync(join(cwd, 'inference.yaml'), 'apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: churn}\nspec:\n  predictor:\n    model: {modelFormat: {name: onnx}}\n');
    const first = await gate(cwd, '--remote', empty);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('no baseline');
  });

  it('the gate action fails the step on an unreadable baseline, and passes it with allow-missing-baseline: true', async () => {
    const { cwd } = await regressed();
    const run = async (extra: Record<string, string>) => {
      const output = join(cwd, `out-${Math.random()}`);
      writeFileSync(output, '');
      const env = {
        PATH: process.env.PATH,
        GITHUB_WORKSPACE: cwd,
        GITHUB_OUTPUT: output,
        GITHUB_EVENT_NAME: 'push',
        INPUT_METRICS: 'candidate.json',
        INPUT_RULES: 'gates.yml',
        INPUT_MANIFEST: 'inference.yaml',
        INPUT_REMOTE: tempDir('sec-gate-empty'),
        INPUT_COMMENT: 'false',
        'INPUT_FAIL-ON-REGRESSION': 'true',
        ...extra,
      };
      const r = await promisify(execFile)(process.execPath, [BUNDLE], { env, cwd }).then((x) => ({ ...x, code: 0 }), (e: { stdout: string; code: number }) => e);
      return { code: r.code, stdout: r.stdout, outputs: readFileSync(output, 'utf8') };
    };
    const closed = await run({});
    expect(closed.code).toBe(1);
    expect(closed.stdout).toMatch(/::error::baseline: production deploys s3:\/\/models\/models\/churn\/sha256-[0-9a-f]{16}\//);
    expect(closed.outputs).not.toMatch(/passed<<\S+\ntrue/);
    const open = await run({ 'INPUT_ALLOW-MISSING-BASELINE': 'true' });
    expect(open.stdout).not.toContain('::error::');
    expect(open.outputs).toMatch(/passed<<\S+\ntrue/);
  });

  it.each(['__proto__', 'constructor', 'toString'])('refuses a rule named %s (exit 2) instead of dropping it or comparing with a function', async (name) => {
    const { cwd, store } = await regressed();
    writeFileSync(join(cwd, 'gates.yml'), `${RULES}  ${name}: { min: 0.5 }\n`);
    const r = await gate(cwd, '--remote', store);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`gates.yml: key "metrics.${name}" is not allowed as a metric name`);
  });
});

// What a new user trips over on the command line (issue 16): each case runs bin/mlops.js as a user's shell would.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/tmp.ts';
import { ROOT, type Run } from './installed-cli.ts';

const BIN = join(ROOT, 'bin', 'mlops.js');

function mlops(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('mlops train with a failing program', () => {
  it('exits 1 (the program said no) and its stack trace appears once, followed by one line', async () => {
    const work = tempDir('train-fails');
    writeFileSync(join(work, 'train.cjs'), "function fit() { throw new Error('loss is NaN at epoch 3') }\nfit();\n");
    const r = await mlops(['train', '--', process.execPath, 'train.cjs'], work);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.match(/Error: loss is NaN at epoch 3/g)).toHaveLength(1);
    expect(r.stderr.match(/at fit \(/g)).toHaveLength(1);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(/^error: mlops train: command: ".*node.*" exited with code 1 \(its output is above\); nothing was recorded or uploaded$/);
    expect(r.stdout).toBe('');
  });

  it('still exits 2 on bad input (a program that is not there)', async () => {
    const r = await mlops(['train', '--', 'no-such-trainer'], tempDir('train-missing'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"no-such-trainer" was not found');
  });
});

describe('mlops gate --help', () => {
  it('lists production among the --baseline values in the synopsis and in the options', async () => {
    const r = await mlops(['gate', '--help'], ROOT);
    expect(r.stdout.match(/--baseline <file\|none\|production>/g)).toHaveLength(2);
  });
});

describe('mlops publish without a run record', () => {
  async function model(): Promise<string> {
    const work = tempDir('publish-warn');
    expect((await mlops(['example', 'data', '--rows', '200'], work)).code).toBe(0);
    expect((await mlops(['example', 'train'], work)).code).toBe(0);
    return work;
  }
  const noActions = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GITHUB_')));

  it('warns that the card will carry no metrics, params, data or source, naming --run-json', async () => {
    const work = await model();
    const r = await mlops(['publish', 'model', '--name', 'churn', '--remote', 'store'], work, noActions);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: --run-json is not set: the model card will carry no metrics, params, data or source. Set --run-json to the run.json the train step wrote');
  });

  it('names only what the other options leave out, and says nothing with --run-json', async () => {
    const work = await model();
    const partial = await mlops(['publish', 'model', '--name', 'churn', '--remote', 'store', '--metrics', 'metrics.json', '--params', 'params.yaml'], work, noActions);
    expect(partial.stderr).toContain('the model card will carry no data or source.');
    mkdirSync(join(work, 'legs'));
    writeFileSync(join(work, 'run.json'), JSON.stringify({ metrics: 'metrics.json', params: { c: 1 }, data: [], source: { commit: 'c0ffee0000000000000000000000000000000000' } }));
    const full = await mlops(['publish', 'model', '--name', 'churn', '--remote', 'store2', '--run-json', 'run.json'], work, noActions);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stderr).not.toContain('warning');
  });
});

describe('S3 without credentials', () => {
  // No keys, no profile files (an empty HOME), no web identity, no instance metadata: the whole chain comes up empty.
  const bare = (home: string): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', TMPDIR: process.env.TMPDIR });

  it.each([
    ['AWS (the SDK path)', []],
    ['an S3-compatible endpoint (the lean HTTP path)', ['--endpoint', 'http://127.0.0.1:9']],
  ])('names the places the AWS chain looked and the fixes, for %s (exit 3)', async (_name, endpoint) => {
    const work = tempDir('s3-nocreds');
    const home = tempDir('s3-nocreds-home');
    expect((await mlops(['example', 'data', '--rows', '40'], work)).code).toBe(0);
    expect((await mlops(['data', 'add', 'data'], work)).code).toBe(0);
    const r = await mlops(['data', 'push', '--remote', 's3://mlops-bucket/dvc', ...endpoint], work, bare(home));
    expect(r.code, r.stderr).toBe(3);
    const message = r.stderr.split('\n').find((l) => l.includes('no AWS credentials found')) ?? '';
    expect(message, r.stderr).toContain('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: not set');
    expect(message).toContain(`profile "default", with its SSO and credential_process settings, in ${home}/.aws/credentials and ${home}/.aws/config (no such files)`);
    expect(message).toContain('AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN: not set');
    expect(message).toContain('the EC2 instance metadata service (disabled by AWS_EC2_METADATA_DISABLED)');
    for (const fix of ['aws configure', 'AWS_PROFILE', 'aws-actions/configure-aws-credentials', 'id-token: write']) expect(message).toContain(fix);
    expect(message).not.toContain('Could not load credentials from any providers');
  });

  it('says which profile it looked for when AWS_PROFILE names one that has no credentials', async () => {
    const work = tempDir('s3-profile');
    const home = tempDir('s3-profile-home');
    mkdirSync(join(home, '.aws'));
    writeFileSync(join(home, '.aws', 'config'), '[profile ml]\nregion = eu-west-1\n');
    expect((await mlops(['example', 'data', '--rows', '40'], work)).code).toBe(0);
    expect((await mlops(['data', 'add', 'data'], work)).code).toBe(0);
    const r = await mlops(['data', 'push', '--remote', 's3://mlops-bucket/dvc'], work, { ...bare(home), AWS_PROFILE: 'ml' });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('the environment (skipped: AWS_PROFILE is set)');
    expect(r.stderr).toContain(`profile "ml", with its SSO and credential_process settings, in ${home}/.aws/credentials and ${home}/.aws/config (nothing usable in ${home}/.aws/config)`);
  });
});

describe('mlops example', () => {
  it('writes the demo\'s dataset (same bytes as scripts/generate-data.ts) and trains the example model', async () => {
    const work = tempDir('example');
    const data = await mlops(['example', 'data', '--rows', '100', '--seed', '7', '--holdout-fraction', '0.2'], work);
    expect(data.stdout.trim()).toBe('wrote data/train.csv, data/holdout.csv, data/schema.json');
    const { writeDataset } = await import('../../../scripts/generate-data.ts');
    const same = writeDataset(join(work, 'copy'), { rows: 100, seed: 7, holdout: 0.2 });
    expect(readFileSync(join(work, 'data', 'train.csv'), 'utf8')).toBe(readFileSync(same.train, 'utf8'));
    expect(readFileSync(join(work, 'data', 'holdout.csv'), 'utf8').split('\n')).toHaveLength(20 + 2);
    const trained = await mlops(['example', 'train', '--c', '0.5', '--model-dir', 'out', '--json'], work, { ...process.env, MLOPS_SEED: '3' });
    expect(trained.code, trained.stderr).toBe(0);
    expect(JSON.parse(trained.stdout)).toMatchObject({ model: join(work, 'out', 'model.onnx'), metrics: { roc_auc: expect.any(Number) } });
    expect(readFileSync(join(work, 'params.yaml'), 'utf8')).toMatch(/C: 0\.5\n[\s\S]*seed: 3\n/);
  });

  it('refuses an unknown example, an option of the other example and a bad number (exit 2, one line)', async () => {
    const work = tempDir('example-bad');
    for (const [args, message] of [
      [['example', 'model'], 'action: "model" is not an example: run `mlops example data` or `mlops example train`'],
      [['example', 'data', '--holdout', '0.3'], '--holdout: is not an option of `mlops example data`; run `mlops example --help`'],
      [['example', 'train', '--rows', '5'], '--rows: is not an option of `mlops example train`; run `mlops example --help`'],
      [['example', 'data', '--rows', '3'], '--rows: "3" must be a whole number ≥ 4'],
      [['example', 'train', '--c', '0'], '--c: "0" must be a number > 0'],
    ] as const) {
      const r = await mlops([...args], work);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim()).toBe(`error: mlops example: ${message}`);
    }
  });
});

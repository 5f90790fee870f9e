// The training step writes the reference profile beside the model when given the training data, the leg's
// record and artifact carry it, and publish uploads it with the version, where drift reads it back.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeDataset } from '../../../scripts/generate-data.ts';
import { main } from '../../../src/cli/main.ts';
import { parseProfile } from '../../../src/drift/profile.ts';
import { silentLogger } from '../../../src/log.ts';
import { tempDir } from '../../helpers/tmp.ts';

const trainScript = join(import.meta.dirname, '..', '..', '..', 'scripts', 'train.ts');

async function cli(cwd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const logger = { ...silentLogger, error: (m: string) => (err += `${m}\n`) };
  const code = await main(args, { logger, out: (t) => (out += t), cwd, env: { PATH: process.env.PATH } });
  return { code, out, err };
}

const program = ['--', process.execPath, trainScript, '--train', 'data/train.csv', '--holdout', 'data/holdout.csv', '--schema', 'data/schema.json', '--model-dir', 'model', '--metrics', 'metrics.json', '--params', 'params.yaml'];

describe('mlops train --profile-data', () => {
  it('writes profile.json beside the model with the model’s outputs, lists it in run.json and the artifact, and publish uploads it', async () => {
    const dir = tempDir('drift-train');
    writeDataset(join(dir, 'data'), { rows: 800, seed: 4 });
    const trained = await cli(dir, ['train', '--model', 'churn', '--profile-data', 'data/train.csv', '--profile-categorical', 'contract,payment_method,internet_service', '--json', ...program]);
    expect(trained.err).toBe('');
    expect(trained.code).toBe(0);
    const profile = parseProfile(readFileSync(join(dir, 'profile.json'), 'utf8'), 'profile.json');
    expect(profile.rows).toBe(600);
    expect(profile.features.find((f) => f.name === 'contract')!.kind).toBe('categorical');
    expect(profile.outputs.map((o) => o.name)).toEqual(['probabilities[0]', 'probabilities[1]', 'label']);
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { outputs: { files: { path: string }[] } };
    expect(run.outputs.files.map((f) => f.path)).toContain('profile.json');
    expect(existsSync(join(dir, '.mlops/artifacts/mlops-churn-default/profile.json'))).toBe(true);

    const published = await cli(dir, ['publish', 'model', '--name', 'churn', '--remote', 'store', '--profile', 'profile.json', '--metrics', 'metrics.json', '--json']);
    expect(published.code).toBe(0);
    const { 'storage-uri': storageUri, version } = JSON.parse(published.out) as { 'storage-uri': string; version: string };
    expect(readFileSync(join(dir, 'store', 'models', 'churn', version, 'profile.json'), 'utf8')).toBe(readFileSync(join(dir, 'profile.json'), 'utf8'));
    const drift = await cli(dir, ['drift', '--profile', storageUri.replace(/^file:\/\//, ''), '--current', 'data/holdout.csv', '--rules', 'min-rows: 100\n', '--json']);
    expect(drift.err).toBe('');
    expect(JSON.parse(drift.out)).toMatchObject({ drifted: false, insufficient: false, model: 'churn', version });
  });

  it('refuses a profile inside the model folder (publish would refuse it) and a label without data', async () => {
    const dir = tempDir('drift-train-bad');
    writeDataset(join(dir, 'data'), { rows: 200, seed: 5 });
    const inside = await cli(dir, ['train', '--profile-data', 'data/train.csv', '--profile', 'model/profile.json', ...program]);
    expect(inside.code).toBe(2);
    expect(inside.err).toMatch(/profile: "model\/profile\.json" must be beside the model directory, not in it/);
    const label = await cli(dir, ['train', '--profile-label', 'label', ...program]);
    expect(label.code).toBe(2);
    expect(label.err).toMatch(/profile-label: "label" needs profile-data/);
  });
});

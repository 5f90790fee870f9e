import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { artifactName, legFromMatrix, readDataVersions, readParams, sourceFromEnv } from '../../../src/train/record.ts';
import { tempDir } from '../../helpers/tmp.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = tempDir('record');
  dirs.push(d);
  return d;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('run record pieces', () => {
  it('names artifacts mlops-<model>-<leg> with only characters GitHub accepts', () => {
    expect(artifactName('churn', 'python-3.12')).toBe('mlops-churn-python-3.12');
    expect(artifactName('my model', 'node/22: "lts"')).toBe('mlops-my-model-node-22-lts');
    expect(artifactName('', '')).toBe('mlops-model-default');
  });

  it('derives the leg from matrix values in order, flattening nested objects', () => {
    expect(legFromMatrix({ runtime: 'node', version: '24' })).toBe('node-24');
    expect(legFromMatrix({ leg: { runtime: 'python', version: 3.11 }, os: 'ubuntu' })).toBe('python-3.11-ubuntu');
    expect(legFromMatrix(null)).toBeUndefined();
    expect(legFromMatrix({})).toBeUndefined();
  });

  it("reads data versions from every .dvc file's outs, relative to the workspace, skipping node_modules", () => {
    const ws = tmp();
    mkdirSync(join(ws, 'data'));
    mkdirSync(join(ws, 'node_modules/x'), { recursive: true });
    writeFileSync(join(ws, 'data/train.dvc'), 'outs:\n- md5: 5ea40360f5b4ec688df672a4db9c17d1.dir\n  size: 6\n  nfiles: 2\n  hash: md5\n  path: train\n');
    writeFileSync(join(ws, 'holdout.csv.dvc'), '# comment\nouts:\n- md5: acbd18db4cc2f85cedef654fccc4a4d8\n  size: 3\n  hash: md5\n  path: holdout.csv\n');
    writeFileSync(join(ws, 'node_modules/x/y.dvc'), 'outs:\n- md5: ffff\n  path: z\n');
    expect(readDataVersions(ws)).toEqual([
      { path: 'data/train', md5: '5ea40360f5b4ec688df672a4db9c17d1.dir', 'dvc-file': 'data/train.dvc' },
      { path: 'holdout.csv', md5: 'acbd18db4cc2f85cedef654fccc4a4d8', 'dvc-file': 'holdout.csv.dvc' },
    ]);
  });

  it('reads params.yaml, else params.json, as DVC does', () => {
    const ws = tmp();
    expect(readParams(ws)).toEqual({ params: {} });
    writeFileSync(join(ws, 'params.json'), '{"lr": 0.1}');
    expect(readParams(ws)).toEqual({ file: 'params.json', params: { lr: 0.1 } });
    writeFileSync(join(ws, 'params.yaml'), 'train:\n  C: 1.0\n');
    expect(readParams(ws)).toEqual({ file: 'params.yaml', params: { train: { C: 1 } } });
  });

  it('builds commit, ref and run URL from the GitHub environment', () => {
    expect(
      sourceFromEnv({ GITHUB_REPOSITORY: 'acme/churn', GITHUB_SHA: 'abc', GITHUB_REF: 'refs/heads/main', GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '2', GITHUB_SERVER_URL: 'https://ghe.example' }, 'node-24'),
    ).toEqual({ repository: 'acme/churn', commit: 'abc', ref: 'refs/heads/main', 'run-url': 'https://ghe.example/acme/churn/actions/runs/42/attempts/2', leg: 'node-24' });
    expect(sourceFromEnv({}, 'x')).toEqual({ leg: 'x' });
  });
});

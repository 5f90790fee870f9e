import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { silentLogger } from '../../../src/log.ts';
import { parseModelCard } from '../../../src/model/card.ts';
import { startArtifactService, zipDigest } from '../../helpers/artifact-service.ts';
import { workspace } from './suite.ts';
import { tempDir } from '../../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '../../..');

async function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['publish', ...args], { out: (t) => out.push(t), logger: { ...silentLogger, error: (m) => err.push(m) }, cwd, env });
  return { code, out: out.join('\n'), error: err.join('\n') };
}

describe('mlops publish', () => {
  it('writes a model card with metrics, params, data versions from .dvc files, source from GITHUB_* and the ONNX signature', async () => {
    const cwd = workspace();
    const remote = tempDir('remote');
    const env = { GITHUB_REPOSITORY: 'org/churn', GITHUB_SHA: 'c0ffee0000000000000000000000000000000000', GITHUB_REF: 'refs/heads/main', GITHUB_RUN_ID: '77', GITHUB_SERVER_URL: 'https://github.com' };
    const r = await cli(['churn', '--name', 'churn', '--remote', remote, '--metrics', 'metrics.json', '--params', 'params.json', '--data', 'train.dvc', '--leg', 'node-24', '--json'], cwd, env);
    expect(r.error).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.status).toBe('published');
    expect(json['storage-uri']).toBe(`file://${remote}/models/churn/${json.version}/`);
    const card = parseModelCard(readFileSync(join(remote, 'models/churn', json.version, 'model.json')), 'model.json');
    expect(card).toMatchObject({
      name: 'churn',
      format: 'onnx',
      metrics: { accuracy: 0.93, f1: 0.9, 'latency.p99_ms': 3.5 },
      params: { C: 1.0, max_iter: 200 },
      data: [{ path: 'train', md5: '5ea40360f5b4ec688df672a4db9c17d1.dir' }],
      source: { repository: 'org/churn', commit: 'c0ffee0000000000000000000000000000000000', ref: 'refs/heads/main', 'run-url': 'https://github.com/org/churn/actions/runs/77', leg: 'node-24' },
      signature: { inputs: [{ name: 'input', dtype: 'float32', shape: [-1, 3] }], outputs: [{ name: 'probability', dtype: 'float32', shape: [-1, 1] }] },
    });
    expect(card.files.map((f) => f.path)).toEqual(['extra-weights.bin', 'model.onnx', 'tokenizer/vocab.json']);
  });

  it('takes source, params, data and metrics from run.json', async () => {
    const cwd = workspace();
    const remote = tempDir('remote');
    const r = await cli(['churn', '--name', 'churn', '--remote', remote, '--run-json', 'run.json', '--json'], cwd, { GITHUB_SHA: 'ignored' });
    expect(r.code).toBe(0);
    const card = JSON.parse(r.out)['model-card'];
    expect(card.source).toEqual({ repository: 'org/churn', commit: '0123456789abcdef0123456789abcdef01234567', ref: 'refs/heads/main', 'run-url': 'https://github.com/org/churn/actions/runs/42', leg: 'python-3.12' });
    expect(card.params).toEqual({ C: 0.5 });
    expect(card.data).toEqual([{ path: 'data/train', md5: '5ea40360f5b4ec688df672a4db9c17d1.dir' }]);
    expect(card.metrics.accuracy).toBe(0.93);
  });

  it.each([
    [['churn', '--name', 'Churn!', '--remote', 'r'], 'name: "Churn!"'],
    [['missing', '--name', 'churn', '--remote', 'r'], 'model-dir: "'],
    [['churn', '--remote', 'r'], 'name: "" is required'],
    [['churn', '--name', 'churn'], 'remote: "" is required'],
    [['churn', '--name', 'churn', '--remote', 'ftp://x/y'], 'remote: "ftp://x/y"'],
    [['churn', '--name', 'churn', '--remote', 'r', '--data', 'train'], 'data: "train" is not a .dvc file'],
    [['churn', '--name', 'churn', '--remote', 'r', '--metrics', 'run.json'], 'run.json'],
  ])('exits 2 on bad input %j', async (args, says) => {
    const cwd = workspace();
    const r = await cli(args, cwd);
    expect(r.error).toContain(says);
    expect(r.code).toBe(2);
  });

  it('the action bundle refuses paths outside the workspace, publishes, sets outputs and uploads a GitHub artifact with its digest', async () => {
    const service = await startArtifactService();
    try {
      const cwd = workspace();
      const remote = tempDir('remote');
      const output = join(cwd, 'github-output');
      writeFileSync(output, '');
      writeFileSync(join(cwd, 'summary'), '');
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        ...service.env,
        GITHUB_WORKSPACE: cwd,
        GITHUB_OUTPUT: output,
        GITHUB_STEP_SUMMARY: join(cwd, 'summary'),
        RUNNER_TEMP: tempDir('runner-temp'),
        'INPUT_MODEL-DIR': 'churn',
        INPUT_NAME: 'churn',
        INPUT_REMOTE: remote,
        INPUT_PROFILE: 'profile.json',
        'INPUT_RUN-JSON': 'run.json',
      };
      const outside = await promisify(execFile)(process.execPath, [join(ROOT, 'actions/publish/dist/index.js')], { env: { ...env, 'INPUT_MODEL-DIR': '/etc' }, cwd }).catch((e) => e);
      expect(String(outside.stdout)).toContain('::error::Invalid input: model-dir: "/etc" is outside the workspace');
      const result = await promisify(execFile)(process.execPath, [join(ROOT, 'actions/publish/dist/index.js')], { env, cwd }).catch((e) => e);
      expect(String(result.stdout)).not.toContain('::error::');
      const outputs = readFileSync(output, 'utf8');
      const value = (name: string) => new RegExp(`${name}<<(\\S+)\\n([\\s\\S]*?)\\n\\1`).exec(outputs)?.[2];
      const version = value('version') as string;
      expect(version).toMatch(/^sha256-[0-9a-f]{16}$/);
      expect(value('storage-uri')).toBe(`file://${remote}/models/churn/${version}/`);
      expect(value('status')).toBe('published');
      expect(JSON.parse(value('model-card') as string).version).toBe(version);
      const artifact = service.artifacts.get(`model-churn-${version}`);
      expect(artifact?.finalized).toBe(true);
      expect(value('artifact-id')).toBe(String(artifact?.id));
      expect(value('artifact-digest')).toBe(zipDigest(artifact as never));
    } finally {
      await service.close();
    }
  });
});

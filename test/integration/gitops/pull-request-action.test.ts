import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { basicCredential } from '../../../src/gitops/git.ts';
import { startGitHttpServer, type GitHttpServer } from '../../helpers/git-http-server.ts';
import { startGitHubPulls, type GitHubPullsStandIn } from '../../helpers/github-pulls.ts';
import { git, humanCommit, seedBareRepo, showFile } from './repos.ts';
import { tempDir } from '../../helpers/tmp.ts';

const run = promisify(execFile);
const TOKEN = 'ghs_ActionToken_9876543210_SECRET';
const V1 = 's3://models/models/churn/sha256-1111111111111111/';
const V2 = 's3://models/models/churn/sha256-2222222222222222/';

function modelCard(dir: string, version: string, accuracy: number): string {
  const file = join(dir, `model-${version}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      schema: 'mlops-actions/model/v1',
      name: 'churn',
      version,
      format: 'onnx',
      files: [{ path: 'model.onnx', sha256: 'a'.repeat(64), size: 1 }],
      params: {},
      created: '2026-11-22T07:00:00Z',
      metrics: { accuracy, f1: accuracy - 0.05 },
      data: [{ path: 'data/train', md5: '5ea40360f5b4ec688df672a4db9c17d1.dir' }],
      source: { repository: 'acme/ml', commit: 'c0ffee0000000000000000000000000000000000', 'run-url': 'https://github.com/acme/ml/actions/runs/7', leg: 'node-24' },
    }),
  );
  return file;
}

describe('actions/pull-request (bundled dist) over smart HTTP and the GitHub stand-in', () => {
  let root: string;
  let projectRoot: string;
  let bare: string;
  let gitServer: GitHttpServer;
  let api: GitHubPullsStandIn;

  beforeAll(async () => {
    root = tempDir('pr-action');
    projectRoot = join(root, 'srv');
    mkdirSync(join(projectRoot, 'acme'), { recursive: true });
    bare = seedBareRepo(join(projectRoot, 'acme'), 'gitops');
    gitServer = await startGitHttpServer({ projectRoot, user: 'x-access-token', password: TOKEN });
    api = await startGitHubPulls({ owner: 'acme', repo: 'gitops' });
  });
  afterAll(async () => {
    await gitServer.close();
    await api.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function runAction(inputs: Record<string, string>) {
    const outputFile = join(root, `output-${Math.random().toString(36).slice(2)}`);
    writeFileSync(outputFile, '');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: root,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: join(root, 'summary.md'),
      GITHUB_WORKSPACE: root,
      GITHUB_SERVER_URL: gitServer.url,
      GITHUB_API_URL: api.url,
      GITHUB_REPOSITORY: 'acme/ml',
      'INPUT_REPOSITORY': 'acme/gitops',
      'INPUT_TOKEN': TOKEN,
      'INPUT_AUTHOR-NAME': 'mlops-actions[bot]',
      'INPUT_AUTHOR-EMAIL': 'mlops-actions@users.noreply.github.com',
      'INPUT_AUTO-MERGE': 'false',
      INPUT_DRAFT: 'false',
      INPUT_FORCE: 'false',
      ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
    };
    writeFileSync(env.GITHUB_STEP_SUMMARY as string, '');
    const result = await run(process.execPath, ['actions/pull-request/dist/index.js'], { env }).catch((e: { stdout: string; stderr: string; code: number }) => e);
    const outputs: Record<string, string> = {};
    const text = readFileSync(outputFile, 'utf8');
    for (const m of text.matchAll(/^(.+?)<<(.+)\n([\s\S]*?)\n\2$/gm)) if (m[1] && m[3] !== undefined) outputs[m[1]] = m[3];
    return { stdout: result.stdout, stderr: result.stderr, outputs, code: 'code' in result ? result.code : 0 };
  }

  it('creates the PR, updates it for a new version, leaves it unchanged on a re-run, and leaks the token nowhere', async () => {
    const baseline = modelCard(root, 'sha256-1111111111111111', 0.9);
    const common = { model: 'churn', environment: 'staging', manifest: 'overlays/staging/inference.yaml', 'baseline-model-card': baseline, labels: 'mlops\ndeploy', commit: 'c0ffee0000000000000000000000000000000000', 'run-url': 'https://github.com/acme/ml/actions/runs/7' };

    const first = await runAction({ ...common, 'storage-uri': V1, 'model-card': modelCard(root, 'sha256-1111111111111111', 0.92) });
    expect(first.stdout).not.toContain('::error::');
    expect(first.outputs).toMatchObject({ operation: 'created', 'pull-request-number': '1', 'pull-request-url': 'https://github.com/acme/gitops/pull/1', branch: 'mlops/churn/staging' });
    const manifest = showFile(bare, 'mlops/churn/staging', 'overlays/staging/inference.yaml');
    expect(manifest).toContain(`storageUri: ${V1}`);
    expect(manifest).toContain('mlops-actions.io/model-version: sha256-1111111111111111');
    expect(manifest).toContain('mlops-actions.io/data: data/train:5ea40360f5b4ec688df672a4db9c17d1.dir');
    const pull = api.pulls[0];
    expect(pull?.title).toBe('Deploy churn sha256-1111111111111111 to staging');
    expect(pull?.body).toMatch(/^<!-- mlops-actions:pull-request:churn\/staging -->\n/);
    expect(pull?.body).toContain('Staging (sha256-1111111111111111)');
    expect(pull?.body).toContain(V1);
    expect(pull?.body).toContain('5ea40360f5b4ec688df672a4db9c17d1.dir');
    expect(pull?.body).toContain('https://github.com/acme/ml/actions/runs/7');
    expect(pull?.labels.map((l) => l.name)).toEqual(['mlops', 'deploy']);
    expect(git(bare, ['log', '-1', '--format=%B', 'mlops/churn/staging'])).toContain('Model-Version: sha256-1111111111111111\nStorage-URI: ' + V1);

    const second = await runAction({ ...common, 'storage-uri': V2, 'model-card': modelCard(root, 'sha256-2222222222222222', 0.95) });
    expect(second.outputs).toMatchObject({ operation: 'updated', 'pull-request-number': '1' });
    expect(api.pulls).toHaveLength(1);
    expect(api.pulls[0]?.title).toBe('Deploy churn sha256-2222222222222222 to staging');
    expect(showFile(bare, 'mlops/churn/staging', 'overlays/staging/inference.yaml')).toContain(`storageUri: ${V2}`);

    const third = await runAction({ ...common, 'storage-uri': V2, 'model-card': modelCard(root, 'sha256-2222222222222222', 0.95) });
    expect(third.outputs).toMatchObject({ operation: 'unchanged', 'pull-request-number': '1' });

    for (const r of [first, second, third]) {
      // The token shows up only in the add-mask command that tells the runner to hide it.
      const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes(TOKEN) || l.includes(basicCredential(TOKEN)));
      expect(lines).toEqual([`::add-mask::${TOKEN}`]);
    }
    expect(readFileSync(join(bare, 'config'), 'utf8')).not.toContain(TOKEN);
    expect(gitServer.requests.filter((r) => r.status !== 401).every((r) => r.headers.authorization === `basic ${basicCredential(TOKEN)}`)).toBe(true);
    expect(api.violations).toEqual([]);
  });

  it('compares with the model the manifest deploys on the base, read from the remote', async () => {
    const store = join(root, 'store');
    const deployed = join(store, 'models/churn/sha256-0000000000000000');
    mkdirSync(deployed, { recursive: true });
    writeFileSync(join(deployed, 'model.json'), readFileSync(modelCard(root, 'sha256-0000000000000000', 0.8)));
    const r = await runAction({
      model: 'churn',
      environment: 'production',
      manifest: 'overlays/production/inference-patch.yaml'.replace('inference-patch', 'inference'),
      'storage-uri': V2,
      'model-card': modelCard(root, 'sha256-2222222222222222', 0.95),
      remote: store,
      'show-metrics': 'accuracy',
    });
    expect(r.stdout).not.toContain('::error::');
    expect(r.stdout).not.toContain('::warning::');
    expect(r.outputs).toMatchObject({ operation: 'created', branch: 'mlops/churn/production' });
    const body = api.pulls.find((p) => p.head.ref === 'mlops/churn/production')?.body ?? '';
    expect(body).toContain('| Metric | Production (sha256-0000000000000000) | This model | Δ |');
    expect(body).toContain('| `accuracy` | 0.8 | 0.95 | ↑ +0.15 (+18.7%) |');
    expect(body).not.toContain('`f1`');
  });

  it('fails the step with one clear message when a person pushed to our branch', async () => {
    humanCommit(join(projectRoot, 'acme'), bare, 'mlops/churn/staging', 'overlays/staging/note.txt', 'hold\n');
    const r = await runAction({ model: 'churn', environment: 'staging', manifest: 'overlays/staging/inference.yaml', 'storage-uri': V1 });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/::error::Invalid input: force: false but mlops\/churn\/staging has 1 commit\(s\) by someone else/);
  });
});

describe('mlops pull-request (CLI)', () => {
  it('commits files changed in a checkout and writes the PR to a file, exit 0; bad input exits 2', async () => {
    const root = tempDir('pr-cli');
    try {
      const bare = seedBareRepo(root);
      const checkout = join(root, 'checkout');
      git(root, ['clone', '--quiet', `file://${bare}`, checkout]);
      writeFileSync(join(checkout, 'overlays/production/inference.yaml'), readFileSync(join(checkout, 'overlays/production/inference.yaml'), 'utf8').replace('sha256-0000000000000000', 'sha256-3333333333333333'));
      const out: string[] = [];
      const errors: string[] = [];
      const logger = { debug() {}, info() {}, notice() {}, warning() {}, error: (m: string) => errors.push(m) };
      const env = { PATH: process.env.PATH, HOME: root };
      const code = await main(
        ['pull-request', '--repository', `file://${bare}`, '--model', 'churn', '--environment', 'production', '--checkout', checkout, '--model-version', 'sha256-3333333333333333', '--pr-file', 'pr.md', '--json'],
        { cwd: root, env, logger, out: (t) => out.push(t) },
      );
      expect(errors).toEqual([]);
      expect(code).toBe(0);
      expect(JSON.parse(out.join(''))).toMatchObject({ operation: 'created', branch: 'mlops/churn/production', changedFiles: ['overlays/production/inference.yaml'] });
      const pr = readFileSync(join(root, 'pr.md'), 'utf8');
      expect(pr).toMatch(/^Title: Deploy churn sha256-3333333333333333 to production\nBranch: mlops\/churn\/production -> main\nOperation: created\nCommit: [0-9a-f]{40}\n\n<!-- mlops-actions:pull-request:churn\/production -->/);
      expect(showFile(bare, 'mlops/churn/production', 'overlays/production/inference.yaml')).toContain('sha256-3333333333333333');

      const bad = await main(['pull-request', '--repository', `file://${bare}`, '--model', 'churn/x', '--environment', 'production', '--checkout', checkout], { cwd: root, env, logger, out: () => {} });
      expect(bad).toBe(2);
      expect(errors.at(-1)).toMatch(/^mlops pull-request: model: "churn\/x" must start with a letter or digit/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

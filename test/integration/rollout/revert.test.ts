import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import type { Logger } from '../../../src/log.ts';
import { startGitHttpServer, type GitHttpServer } from '../../helpers/git-http-server.ts';
import { startGitHubApi, type GitHubApi } from '../../helpers/github-api.ts';
import { startKubeApi, type KubeApi } from '../../helpers/kube-api.ts';
import { KServeScript } from '../../helpers/kserve-controller.ts';
import { startOipServer, type OipServer } from '../../helpers/oip-server.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { git, humanCommit, seedBareRepo, showFile } from '../gitops/repos.ts';

/**
 * On failure, the revert PR: a real bare GitOps repository over git's smart HTTP, the GitHub REST stand-in
 * (checked against GitHub's OpenAPI description), the Kubernetes API stand-in with a scripted KServe whose
 * new revision cannot load its model. The workspace is a checkout of the GitOps repository at the merged
 * commit, as in templates/workflows/rollout.yml.
 */

const TOKEN = 'ghs_RolloutRevertToken_0123456789';
const MANIFEST = 'overlays/production/inference.yaml';
const OLD = 's3://models/models/churn/sha256-0000000000000000/';
const NEW = 's3://models/models/churn/sha256-1111111111111111/';
const NS = 'ml-production';

let root: string;
let bare: string;
let gitServer: GitHttpServer;
let github: GitHubApi;
let kube: KubeApi;
let oip: OipServer;

beforeAll(async () => {
  root = tempDir('rollout-revert');
  const projectRoot = join(root, 'srv');
  mkdirSync(join(projectRoot, 'acme'), { recursive: true });
  bare = seedBareRepo(join(projectRoot, 'acme'), 'gitops');
  gitServer = await startGitHttpServer({ projectRoot, user: 'x-access-token', password: TOKEN });
  github = await startGitHubApi();
  kube = await startKubeApi();
  oip = await startOipServer({ name: 'churn', inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3] }] });
});
afterAll(async () => {
  await gitServer.close();
  await github.close();
  await kube.close();
  await oip.close();
});
beforeEach(() => {
  for (const [gv, kind] of [['serving.kserve.io/v1beta1', 'InferenceService'], ['v1', 'Pod']] as const) for (const o of kube.list(gv, kind, NS)) kube.remove(gv, kind, NS, o.metadata.name);
});

/** The merge of the GitOps PR: main's production manifest now deploys NEW; returns the merged commit. */
function merge(uri: string): string {
  const text = showFile(bare, 'main', MANIFEST).replace(/storageUri: .*/, `storageUri: ${uri}`);
  return humanCommit(root, bare, 'main', MANIFEST, text);
}

/** actions/checkout of the GitOps repository at the merged commit. */
function checkout(revision: string): string {
  const dir = join(tempDir('rollout-ws'), 'gitops');
  git(root, ['clone', '--quiet', `file://${bare}`, dir]);
  git(dir, ['checkout', '--quiet', revision]);
  return dir;
}

/** A new revision of the merged spec that cannot load its model: the rollout fails fast. */
function failingRollout(): void {
  const kserve = new KServeScript(kube, { namespace: NS, name: 'churn', mode: 'Knative', url: oip.url });
  kserve.seedServing(OLD);
  // Once the verifier's watches are open, ArgoCD applies the spec and KServe fails to load it.
  const started = Date.now();
  const poll = setInterval(() => {
    if (kube.openWatches().length < 3 && Date.now() - started < 10_000) return;
    clearInterval(poll);
    kserve.applySpec(NEW);
    kserve.createRevision();
    kserve.failToLoad('RuntimeError: model.onnx: INVALID_PROTOBUF: failed to parse the model');
  }, 20);
}

async function rollout(cwd: string, args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const logger: Logger = { debug() {}, info: (m) => err.push(m), notice: (m) => err.push(`notice: ${m}`), warning: (m) => err.push(`warning: ${m}`), error: (m) => err.push(`error: ${m}`) };
  const env = { PATH: process.env.PATH, HOME: tempDir('rollout-home'), GITHUB_TOKEN: TOKEN, GITHUB_API_URL: github.url, GITHUB_SERVER_URL: gitServer.url };
  const code = await main(['rollout', '--namespace', NS, '--name', 'churn', '--manifest', MANIFEST, '--kubeconfig', kube.kubeconfigPath, '--timeout', '30s', ...args], { out: (t) => out.push(t), logger, cwd, env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('rollout on-failure', () => {
  it('revert-pr: a failed rollout opens the revert PR on mlops/churn/production-revert restoring the parent commit\'s storageUri', async () => {
    const revision = merge(NEW);
    const workspace = checkout(revision);
    failingRollout();
    const r = await rollout(workspace, ['--revision', revision, '--on-failure', 'revert-pr', '--repository', 'acme/gitops', '--environment', 'production', '--run-url', 'https://github.com/acme/gitops/actions/runs/42', '--labels', 'rollback', '--json']);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out);
    expect(json.status).toBe('failed');
    expect(json.reason).toMatch(/^KServe reports BlockedByFailedLoad: ModelLoadFailed: RuntimeError: model\.onnx: INVALID_PROTOBUF: failed to parse the model \(exit code 1 in churn-predictor-00002-/);
    expect(json.revert).toMatchObject({ operation: 'created', branch: 'mlops/churn/production-revert', restored: OLD, number: 1, url: 'https://github.com/acme/gitops/pull/1' });

    // The branch: one commit on main restoring OLD, with the trailers.
    const manifest = showFile(bare, 'mlops/churn/production-revert', MANIFEST);
    expect(manifest).toContain(`storageUri: ${OLD}`);
    expect(manifest).toContain('mlops-actions.io/model-version: sha256-0000000000000000');
    expect(git(bare, ['rev-parse', 'mlops/churn/production-revert^']).trim()).toBe(revision);
    const message = git(bare, ['log', '-1', '--format=%B', 'mlops/churn/production-revert']);
    expect(message.split('\n')[0]).toBe('Revert churn in production: sha256-1111111111111111 did not roll out');
    expect(message).toContain(`Reverts-Storage-URI: ${NEW}\nRollout-Of: ${revision}\nRun-URL: https://github.com/acme/gitops/actions/runs/42`);

    // The pull request: title, base, labels, and a body with the reason, the checks and the timeline.
    const pull = github.state.repo('acme', 'gitops').pulls.get(1);
    expect(pull).toMatchObject({ state: 'open', title: 'Revert churn in production to sha256-0000000000000000', head: { ref: 'mlops/churn/production-revert' }, base: { ref: 'main' }, labels: ['rollback'] });
    const body = pull?.body ?? '';
    expect(body.split('\n')[0]).toBe('<!-- mlops-actions:revert:churn/production -->');
    expect(body).toContain(`The rollout of \`${NEW}\`, merged in [${revision.slice(0, 12)}](${gitServer.url}/acme/gitops/commit/${revision}), **failed**:`);
    expect(body).toContain('> KServe reports BlockedByFailedLoad: ModelLoadFailed: RuntimeError: model.onnx: INVALID_PROTOBUF');
    expect(body).toContain(`This pull request restores \`${OLD}\``);
    expect(body).toMatch(/\| spec \| ✅ \| generation 2 serves s3:\/\/models\/models\/churn\/sha256-1111111111111111\/ \|/);
    expect(body).toMatch(/<details><summary>Timeline of conditions \(\d+\)<\/summary>/);
    expect(body).toContain('targetModelState FailedToLoad');
    expect(github.violations).toEqual([]);
    expect(kube.violations).toEqual([]);
    expect(`${r.out}\n${r.err}`).not.toContain(TOKEN);
  });

  it('fail: the same failure opens no pull request and pushes no branch', async () => {
    const revision = merge('s3://models/models/churn/sha256-2222222222222222/');
    const workspace = checkout(revision);
    const before = github.requests.length;
    const branches = git(bare, ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads/']);
    const kserve = new KServeScript(kube, { namespace: NS, name: 'churn', mode: 'Knative', url: oip.url });
    kserve.seedServing(OLD);
    kserve.applySpec('s3://models/models/churn/sha256-2222222222222222/');
    kserve.createRevision();
    kserve.failToLoad('RuntimeError: no model found');
    const r = await rollout(workspace, ['--revision', revision, '--on-failure', 'fail']);
    expect(r.code).toBe(1);
    expect(r.out.split('\n')[0]).toMatch(/^failed: KServe reports BlockedByFailedLoad: ModelLoadFailed: RuntimeError: no model found/);
    expect(r.out).not.toContain('revert:');
    expect(github.requests.length).toBe(before);
    expect(git(bare, ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads/'])).toBe(branches);
  });

  it('revert-pr does nothing when main no longer deploys the failed version', async () => {
    const revision = merge('s3://models/models/churn/sha256-3333333333333333/');
    const workspace = checkout(revision);
    // A fix merged meanwhile.
    merge('s3://models/models/churn/sha256-4444444444444444/');
    const kserve = new KServeScript(kube, { namespace: NS, name: 'churn', mode: 'Knative', url: oip.url });
    kserve.seedServing(OLD);
    kserve.applySpec('s3://models/models/churn/sha256-3333333333333333/');
    kserve.createRevision();
    kserve.failToLoad('RuntimeError: no model found');
    const pulls = github.state.repo('acme', 'gitops').pulls.size;
    const r = await rollout(workspace, ['--revision', revision, '--on-failure', 'revert-pr', '--repository', 'acme/gitops', '--environment', 'production', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).revert).toEqual({
      operation: 'skipped',
      branch: 'mlops/churn/production-revert',
      reason: 'the base no longer deploys s3://models/models/churn/sha256-3333333333333333/ (it deploys s3://models/models/churn/sha256-4444444444444444/): nothing to revert',
    });
    expect(github.state.repo('acme', 'gitops').pulls.size).toBe(pulls);
  });
});

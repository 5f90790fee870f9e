import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgoCDScript } from '../../helpers/argocd-controller.ts';
import { startKubeApi, type KubeApi } from '../../helpers/kube-api.ts';
import { KServeScript } from '../../helpers/kserve-controller.ts';
import { startOipServer, type OipServer } from '../../helpers/oip-server.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** actions/rollout as GitHub runs it: the committed bundle, INPUT_* variables, outputs and the job summary. */

const NS = 'ml-production';
const OLD = 's3://models/models/churn/sha256-0000000000000000/';
const NEW = 's3://models/models/churn/sha256-1111111111111111/';
const REV_OLD = 'a'.repeat(40);
const REV_NEW = 'b'.repeat(40);
const ROOT = join(import.meta.dirname, '../../..');

let api: KubeApi;
let oip: OipServer;

beforeAll(async () => {
  api = await startKubeApi();
  oip = await startOipServer({ name: 'churn', inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3] }] });
});
afterAll(async () => {
  await api.close();
  await oip.close();
});

function runAction(inputs: Record<string, string>) {
  const dir = tempDir('rollout-action');
  const output = join(dir, 'output');
  const summary = join(dir, 'summary.md');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_WORKSPACE: dir,
    GITHUB_REPOSITORY: 'acme/gitops',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '7',
    'INPUT_ARGOCD-NAMESPACE': 'argocd',
    INPUT_TIMEOUT: '20s',
    INPUT_CLUSTER: 'kubernetes',
    'INPUT_ON-FAILURE': 'fail',
    'INPUT_FAIL-ON-NOT-SERVING': 'true',
    'INPUT_AUTHOR-NAME': 'mlops-actions[bot]',
    'INPUT_AUTHOR-EMAIL': 'mlops-actions@users.noreply.github.com',
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
  };
  const child = spawn(process.execPath, [join(ROOT, 'actions/rollout/dist/index.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stdout += b.toString()));
  return new Promise<{ code: number | null; stdout: string; outputs: Record<string, string>; summary: string }>((resolve) => {
    child.on('close', (code) => {
      const outputs: Record<string, string> = {};
      for (const m of readFileSync(output, 'utf8').matchAll(/^(.+?)<<(.+)\n([\s\S]*?)\n\2$/gm)) if (m[1] && m[3] !== undefined) outputs[m[1]] = m[3];
      resolve({ code, stdout, outputs, summary: readFileSync(summary, 'utf8') });
    });
  });
}

async function until(condition: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('actions/rollout (bundled dist)', () => {
  it('serving: outputs status, reason, revision and a job summary with the checks and the timeline of conditions', async () => {
    const kserve = new KServeScript(api, { namespace: NS, name: 'churn', mode: 'Knative', url: oip.url });
    kserve.seedServing(OLD);
    const argo = new ArgoCDScript(api, { name: 'churn-production', destinationNamespace: NS });
    argo.seed(REV_OLD);
    const running = runAction({ namespace: NS, name: 'churn', 'storage-uri': NEW, application: 'churn-production', revision: REV_NEW, kubeconfig: api.kubeconfigPath });
    await until(() => api.openWatches().length === 4);
    argo.startSync(REV_NEW);
    kserve.applySpec(NEW);
    argo.finishSync(REV_NEW);
    kserve.createRevision();
    kserve.podsReady();
    kserve.revisionReady();
    argo.reconcile('Healthy');
    const r = await running;
    expect(r.stdout).not.toContain('::error::');
    expect(r.code).toBe(0);
    expect(r.outputs).toMatchObject({ status: 'serving', revision: 'churn-predictor-00002', version: 'sha256-1111111111111111', 'revert-pull-request-url': '' });
    expect(r.outputs.reason).toMatch(/^churn serves s3:\/\/models\/models\/churn\/sha256-1111111111111111\/ \(churn-predictor-00002\)/);
    expect(r.summary).toMatch(/^### ✅ rollout churn: serving\n/);
    expect(r.summary).toContain('| argocd-health | ✅ |');
    expect(r.summary).toContain('| pods | ✅ | 1/1 pods of revision churn-predictor-00002 ready, serving s3://models/models/churn/sha256-1111111111111111/ |');
    expect(r.summary).toMatch(/<details><summary>Timeline \(\d+ changes\)<\/summary>/);
    expect(r.summary).toContain('latestReadyRevision churn-predictor-00002');
    for (const o of api.list('v1', 'Pod', NS)) api.remove('v1', 'Pod', NS, o.metadata.name);
    api.remove('serving.kserve.io/v1beta1', 'InferenceService', NS, 'churn');
    api.remove('argoproj.io/v1alpha1', 'Application', 'argocd', 'churn-production');
  });

  it('failed: the step fails with the reason and the outputs say failed; on-failure fail opens nothing', async () => {
    const kserve = new KServeScript(api, { namespace: NS, name: 'churn', mode: 'Standard', url: oip.url });
    kserve.seedServing(OLD);
    kserve.applySpec(NEW);
    kserve.rollDeployment();
    kserve.deploymentObserved();
    kserve.crashLoop('');
    const r = await runAction({ namespace: NS, name: 'churn', 'storage-uri': NEW, kubeconfig: api.kubeconfigPath });
    expect(r.code).toBe(1);
    expect(r.outputs.status).toBe('failed');
    expect(r.outputs.reason).toMatch(/^pod churn-predictor-\S+: container kserve-container is in CrashLoopBackOff/);
    expect(r.outputs['revert-pull-request-url']).toBe('');
    expect(r.stdout).toMatch(/^::error::Rollout failed: pod churn-predictor-\S+: container kserve-container is in CrashLoopBackOff/m);
    expect(r.summary).toMatch(/^### ❌ rollout churn: failed\n/);
  });

  it('bad input fails the step naming the input, before touching the cluster', async () => {
    const before = api.requests.length;
    const r = await runAction({ namespace: NS, name: 'churn', 'storage-uri': NEW, kubeconfig: api.kubeconfigPath, 'on-failure': 'revert-pr', repository: 'acme/gitops', environment: '' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('::error::Invalid input: environment: "" is required');
    expect(r.outputs.status).toBeUndefined();
    expect(api.requests.length).toBe(before);
  });
});

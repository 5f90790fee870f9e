import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, loadKubeConfig } from '../../../src/kube/index.ts';
import type { Logger } from '../../../src/log.ts';
import { runRollout, type RolloutResult } from '../../../src/rollout/run.ts';
import type { RolloutSettings } from '../../../src/rollout/settings.ts';
import { ArgoCDScript } from '../../helpers/argocd-controller.ts';
import { startKubeApi, type KubeApi } from '../../helpers/kube-api.ts';
import { KServeScript } from '../../helpers/kserve-controller.ts';
import { startOipServer, type OipServer } from '../../helpers/oip-server.ts';
import { tempDir } from '../../helpers/tmp.ts';

/**
 * rollout against the Kubernetes API stand-in, with scripted KServe and ArgoCD controllers moving the objects
 * step by step, and a model server on loopback as the InferenceService's endpoint. Each "not yet" is asserted
 * while the verifier is running: it must not say serving on any stale or partial state.
 */

const NS = 'ml-production';
const NAME = 'churn';
const APP = 'churn-production';
const OLD = 's3://models/models/churn/sha256-0000000000000000/';
const NEW = 's3://models/models/churn/sha256-1111111111111111/';
const REV_OLD = 'a1'.repeat(20);
const REV_NEW = 'b2'.repeat(20);

let api: KubeApi;
let client: KubeClient;
let oip: OipServer;
const logs: string[] = [];
const logger: Logger = { debug() {}, info: (m) => logs.push(m), notice: (m) => logs.push(m), warning: (m) => logs.push(`warning: ${m}`), error: (m) => logs.push(`error: ${m}`) };

beforeAll(async () => {
  api = await startKubeApi();
  client = new KubeClient(loadKubeConfig({ kubeconfig: api.kubeconfigPath }).config);
  oip = await startOipServer({ name: NAME, inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3] }] });
});
afterAll(async () => {
  await api.close();
  await oip.close();
});
const running = new Set<{ stop: AbortController; run: Promise<unknown> }>();
afterEach(async () => {
  for (const r of running) {
    r.stop.abort();
    await r.run.catch(() => {});
  }
  running.clear();
  await until(() => api.openWatches().length === 0);
  for (const [gv, kind, ns] of [['serving.kserve.io/v1beta1', 'InferenceService', NS], ['v1', 'Pod', NS], ['apps/v1', 'Deployment', NS], ['argoproj.io/v1alpha1', 'Application', 'argocd']] as const) {
    for (const o of api.list(gv, kind, ns)) api.remove(gv, kind, ns, o.metadata.name);
  }
  const violations = api.violations.splice(0);
  expect(violations).toEqual([]);
  oip.requests.length = 0;
});

/** The verifier's run, whether it has ended, and a promise that its watches are all open (its first lists are in). */
function verify(overrides: Partial<RolloutSettings> = {}): { run: Promise<RolloutResult>; settled: () => boolean; watching: () => Promise<void> } {
  const settings: RolloutSettings = {
    cluster: 'kubernetes',
    namespace: NS,
    name: NAME,
    storageUri: NEW,
    argocdNamespace: 'argocd',
    timeoutMs: 20_000,
    onFailure: 'fail',
    cwd: tempDir('rollout-cwd'),
    tuning: { stallMs: 5000, backoffMs: 20, probeIntervalMs: 50, probeTimeoutMs: 2000 },
    ...overrides,
  };
  let done = false;
  const stop = new AbortController();
  const run = runRollout(settings, { kubeClient: client, logger, signal: stop.signal }).finally(() => (done = true));
  running.add({ stop, run });
  const watches = settings.application ? 4 : 3;
  return { run, settled: () => done, watching: () => until(() => api.openWatches().length === watches) };
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Long enough for every watch event of the last write to reach the verifier and be judged. */
const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));

function check(result: RolloutResult, name: string) {
  return result.checks.find((c) => c.name === name);
}

describe('rollout on Kubernetes: Knative mode', () => {
  it('serves once ArgoCD synced the merged revision with fresh health and the new revision is ready with the traffic (a stale health asks for a refresh)', async () => {
    const kserve = new KServeScript(api, { namespace: NS, name: NAME, mode: 'Knative', url: oip.url, replicas: 2 });
    kserve.seedServing(OLD);
    const argo = new ArgoCDScript(api, { name: APP, destinationNamespace: NS });
    argo.seed(REV_OLD);
    argo.answerRefreshes(() => (kserve.revisions === 2 && kserve.isvc().status.components.predictor.latestReadyRevision === kserve.revision ? 'Healthy' : 'Progressing'));
    const { run, settled, watching } = verify({ application: APP, revision: REV_NEW });
    await watching();
    expect(settled()).toBe(false);
    argo.startSync(REV_NEW);
    kserve.applySpec(NEW);
    argo.finishSync(REV_NEW);
    // Health was the old revision's: refreshed, and now Progressing.
    await until(() => argo.refreshes === 1);
    const refresh = api.requests.find((r) => r.method === 'PATCH' && r.path === `/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/${APP}`);
    expect(refresh?.contentType).toBe('application/merge-patch+json');
    expect(argo.application().status.health.status).toBe('Progressing');
    expect(settled()).toBe(false);

    kserve.createRevision();
    await settle();
    expect(settled()).toBe(false);
    kserve.podsReady();
    await settle();
    expect(settled()).toBe(false);
    kserve.revisionReady();
    await settle();
    expect(settled()).toBe(false);
    argo.reconcile('Healthy');

    const result = await run;
    argo.stop();
    expect(result).toMatchObject({ status: 'serving', revision: 'churn-predictor-00002', storageUri: NEW, version: 'sha256-1111111111111111' });
    expect(result.reason).toMatch(/^churn serves s3:\/\/models\/models\/churn\/sha256-1111111111111111\/ \(churn-predictor-00002\): one 1-row inference \(the model metadata at \/v2\/models\/churn\) answered label, probabilities in/);
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ['argocd-sync', true],
      ['argocd-health', true],
      ['spec', true],
      ['ready', true],
      ['revision', true],
      ['traffic', true],
      ['pods', true],
      ['endpoint', true],
      ['inference', true],
    ]);
    expect(check(result, 'pods')?.detail).toBe(`2/2 pods of revision churn-predictor-00002 ready, serving ${NEW}`);
    const changes = result.timeline.map((e) => `${e.subject}: ${e.change}`);
    expect(changes).toContainEqual(expect.stringMatching(/^InferenceService ml-production\/churn: .*latestCreatedRevision churn-predictor-00002/));
    expect(changes).toContainEqual(expect.stringMatching(/Ready True → Unknown \(RevisionMissing\)/));
    expect(changes).toContainEqual(expect.stringMatching(/health older than the sync: asked ArgoCD for a refresh/));
    expect(changes.at(-1)).toBe('rollout: serving');
    // The smoke inference followed the server's own metadata.
    const infer = oip.requests.find((r) => r.path === '/v2/models/churn/infer');
    expect(infer).toMatchObject({ status: 200, body: { inputs: [{ name: 'input', shape: [1, 3], datatype: 'FP32', data: [0, 0, 0] }] } });
  });

  it('does not pass on a Ready=True left over from the previous generation, nor on an observedGeneration copied from the child', async () => {
    const kserve = new KServeScript(api, { namespace: NS, name: NAME, mode: 'Knative', url: oip.url });
    kserve.seedServing(OLD);
    const { run, settled, watching } = verify();
    await watching();
    kserve.applySpec(NEW);
    // kserve#6081: the Knative Service's counter equals metadata.generation by chance; Ready is still the old revision's.
    kserve.copyObservedGeneration();
    const isvc = kserve.isvc();
    expect(isvc.status.observedGeneration).toBe(isvc.metadata.generation);
    expect(isvc.status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True');
    await settle(600);
    expect(settled()).toBe(false);

    kserve.createRevision();
    kserve.podsReady();
    kserve.revisionReady();
    const result = await run;
    expect(result.status).toBe('serving');
    const early = result.timeline.find((e) => e.subject === 'check revision');
    expect(early?.change).toBe(`does not hold: the latest created revision churn-predictor-00001 serves ${OLD}: KServe has not created a revision for this spec yet`);
    expect(result.timeline.some((e) => e.change.includes("status.observedGeneration 2 (the child's counter, not trusted)"))).toBe(true);
  });

  it('gives the canary revision the share canaryTrafficPercent asks for, beside the previous rolled-out revision', async () => {
    const kserve = new KServeScript(api, { namespace: NS, name: NAME, mode: 'Knative', url: oip.url });
    kserve.seedServing(OLD, { canaryTrafficPercent: 10 });
    const { run, watching } = verify();
    await watching();
    kserve.applySpec(NEW);
    kserve.createRevision();
    kserve.podsReady();
    kserve.revisionReady();
    const result = await run;
    expect(result.status).toBe('serving');
    expect(check(result, 'traffic')?.detail).toBe('10% of traffic goes to churn-predictor-00002 (the spec asks for 10%)');
    expect(result.timeline.some((e) => e.change.includes('traffic churn-predictor-00002 10% (latest), churn-predictor-00001 90% (prev)'))).toBe(true);
  });

  it('fails fast with KServe\'s words on FailedToLoad with lastFailureInfo', async () => {
    const kserve = new KServeScript(api, { namespace: NS, name: NAME, mode: 'Knative', url: oip.url });
    kserve.seedServing(OLD);
    const started = Date.now();
    const { run, watching } = verify({ timeoutMs: 60_000 });
    await watching();
    kserve.applySpec(NEW);
    kserve.createRevision();
    kserve.failToLoad('RuntimeError: Failed to fetch model. No model found in s3://models/models/churn/sha256-1111111111111111/');
    const result = await run;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(
      /^KServe reports BlockedByFailedLoad: ModelLoadFailed: RuntimeError: Failed to fetch model\. No model found in s3:\/\/models\/models\/churn\/sha256-1111111111111111\/ \(exit code 1 in churn-predictor-00002-deployment-[a-z0-9]+-p[0-9a-z]+\)$/,
    );
    expect(result.timeline.at(-1)?.change).toBe(`failed: ${result.reason}`);
  });

  it('survives a watch ended by 410 Gone mid-wait (in-stream and as a status) and a stalled watch, seeing what changed meanwhile', async () => {
    const kserve = new KServeScript(api, { namespace: NS, name: NAME, mode: 'Knative', url: oip.url });
    kserve.seedServing(OLD);
    const { run, settled, watching } = verify({ tuning: { stallMs: 400, backoffMs: 20, probeIntervalMs: 50 } });
    await watching();
    kserve.applySpec(NEW);
    expect(api.expireWatches()).toBeGreaterThanOrEqual(3);
    kserve.createRevision();
    await settle();
    // Now the watches go silent, and meanwhile history is compacted: the re-list after the stall must find the rest.
    api.stallWatches();
    api.compact();
    api.expiredAs = 'status';
    try {
      kserve.podsReady();
      kserve.revisionReady();
      expect(settled()).toBe(false);
      const result = await run;
      expect(result.status).toBe('serving');
      const watch = result.timeline.filter((e) => e.subject.startsWith('watch ')).map((e) => `${e.subject}: ${e.change.split(':')[0]}`);
      expect(watch).toContain('watch inferenceservices: listed again after 410 Gone (Expired)');
      expect(watch).toContain('watch inferenceservices: listed again after a stall');
    } finally {
      api.expiredAs = 'event';
    }
  });
});

describe('rollout on Kubernetes: Standard mode', () => {
  it('serves once the predictor Deployment rolled out its own generation and every serving pod carries the new source URI', async () => {
    const card = join(tempDir('rollout-card'), 'model.json');
    writeFileSync(
      card,
      JSON.stringify({
        schema: 'mlops-actions/model/v1',
        name: 'churn',
        version: 'sha256-1111111111111111',
        format: 'onnx',
        files: [{ path: 'model.onnx', sha256: 'a'.repeat(64), size: 1 }],
        metrics: {},
        params: {},
        data: [],
        source: {},
        signature: { inputs: [{ name: 'input', dtype: 'float32', shape: [-1, 3] }], outputs: [{ name: 'label', dtype: 'int64', shape: [-1] }, { name: 'probabilities', dtype: 'float32', shape: [-1, 2] }] },
        created: '2026-11-22T10:00:00Z',
      }),
    );
    const kserve = new KServeScript(api, { namespace: NS, name: NAME, mode: 'Standard', url: oip.url, replicas: 2 });
    kserve.seedServing(OLD);
    const { run, settled, watching } = verify({ modelCard: card });
    await watching();
    await settle();
    kserve.applySpec(NEW);
    await settle();
    expect(settled()).toBe(false);
    kserve.rollDeployment();
    await settle();
    expect(settled()).toBe(false);
    kserve.deploymentObserved();
    await settle();
    expect(settled()).toBe(false);
    kserve.newPodsReady();
    const result = await run;
    expect(result.status).toBe('serving');
    expect(result.revision).toMatch(/^churn-predictor-[a-z0-9]+$/);
    expect(check(result, 'deployment')?.detail).toMatch(/^churn-predictor rolled out generation 2: 2\/2 updated and available$/);
    expect(check(result, 'inference')?.detail).toMatch(/^one 1-row inference \(the signature in churn sha256-1111111111111111's model card\) answered label, probabilities in/);
    const stages = result.timeline.filter((e) => e.subject === 'check pods' || e.subject === 'check deployment').map((e) => `${e.subject} ${e.change.split(':')[0]}`);
    expect(stages).toEqual(['check deployment holds', 'check pods does not hold', 'check deployment does not hold', 'check pods holds', 'check deployment holds']);
  });

  it('fails fast on a serving pod of the new spec in CrashLoopBackOff, naming the pod, the container and its last exit', async () => {
    const kserve = new KServeScript(api, { namespace: NS, name: NAME, mode: 'Standard', url: oip.url });
    kserve.seedServing(OLD);
    const { run, watching } = verify({ timeoutMs: 60_000 });
    await watching();
    kserve.applySpec(NEW);
    kserve.rollDeployment();
    kserve.deploymentObserved();
    kserve.crashLoop('');
    const result = await run;
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/^pod churn-predictor-[a-z0-9]+-p[0-9a-z]+: container kserve-container is in CrashLoopBackOff: back-off 1m20s restarting failed container=kserve-container pod=churn-predictor-\S+ \(last exit 137 OOMKilled\)$/);
  });
});

describe('rollout on Kubernetes: ArgoCD and the deadline', () => {
  it('does not pass while ArgoCD is Synced at an older revision, and times out saying so', async () => {
    const kserve = new KServeScript(api, { namespace: NS, name: NAME, mode: 'Knative', url: oip.url });
    kserve.seedServing(NEW);
    new ArgoCDScript(api, { name: APP, destinationNamespace: NS }).seed(REV_OLD);
    const started = Date.now();
    const result = await verify({ application: APP, revision: REV_NEW, timeoutMs: 1500 }).run;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.status).toBe('timeout');
    expect(result.reason).toBe(`not serving after 1.5 s: argocd-sync: Synced at ${REV_OLD.slice(0, 12)}, not yet at ${REV_NEW.slice(0, 12)}`);
    expect(result.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['argocd-sync', 'endpoint', 'inference']);
  });

  it('waits out health that is older than the sync (refresh asked once, not answered) and serves when ArgoCD reconciles', async () => {
    const kserve = new KServeScript(api, { namespace: NS, name: NAME, mode: 'Knative', url: oip.url });
    kserve.seedServing(OLD);
    const argo = new ArgoCDScript(api, { name: APP, destinationNamespace: NS });
    argo.seed(REV_OLD);
    argo.startSync(REV_NEW);
    kserve.applySpec(NEW);
    kserve.createRevision();
    kserve.podsReady();
    kserve.revisionReady();
    argo.finishSync(REV_NEW);
    const mark = api.requests.length;
    const { run, settled } = verify({ application: APP, revision: REV_NEW });
    await settle(600);
    expect(settled()).toBe(false);
    const patches = api.requests.slice(mark).filter((r) => r.method === 'PATCH' && r.path.endsWith(`/applications/${APP}`));
    expect(patches).toHaveLength(1);
    expect(argo.application().metadata.annotations).toEqual({ 'argocd.argoproj.io/refresh': 'normal' });
    argo.reconcile('Healthy');
    const result = await run;
    expect(result.status).toBe('serving');
    expect(result.timeline.find((e) => e.subject === 'check argocd-health')?.change).toMatch(/^does not hold: health \(Healthy\) is stale: reconciled at .* before the sync finished at /);
  });

  it('times out at the deadline when nothing moves, with the first check that does not hold', async () => {
    const started = Date.now();
    const result = await verify({ timeoutMs: 1000 }).run;
    expect(Date.now() - started).toBeLessThan(8000);
    expect(result).toMatchObject({ status: 'timeout', reason: `not serving after 1 s: spec: InferenceService ${NS}/${NAME} does not exist`, revision: undefined });
  });
});

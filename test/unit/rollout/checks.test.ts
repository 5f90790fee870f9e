import { describe, expect, it } from 'vitest';
import type { Application } from '../../../src/kube/argocd.ts';
import type { InferenceService } from '../../../src/kube/kserve.ts';
import type { Deployment, Pod } from '../../../src/kube/types.ts';
import { checkApplication, sameRevision } from '../../../src/rollout/argocd-check.ts';
import { checkInferenceService } from '../../../src/rollout/isvc-check.ts';

const NEW = 's3://m/models/churn/sha256-1111111111111111/';
const OLD = 's3://m/models/churn/sha256-0000000000000000/';
const REV = 'c'.repeat(40);
const expected = { namespace: 'ml', name: 'churn', storageUri: NEW };

function app(status: Application['status']): Application {
  return { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'churn', namespace: 'argocd' }, status };
}

const synced = (extra: Partial<NonNullable<Application['status']>> = {}): Application['status'] => ({
  sync: { status: 'Synced', revision: REV },
  operationState: { phase: 'Succeeded', finishedAt: '2026-11-22T10:00:05Z', syncResult: { revision: REV } },
  health: { status: 'Healthy' },
  reconciledAt: '2026-11-22T10:00:06Z',
  ...extra,
});

describe('checkApplication', () => {
  const verdict = (a: Application | undefined) => checkApplication(a, { namespace: 'argocd', name: 'churn', revision: REV });

  it('holds when synced at the revision by a succeeded operation, with health reconciled after it', () => {
    expect(verdict(app(synced()))).toEqual({
      checks: [
        { name: 'argocd-sync', ok: true, detail: `Synced at ${REV.slice(0, 12)}; the operation succeeded at 2026-11-22T10:00:05Z` },
        { name: 'argocd-health', ok: true, detail: 'Healthy, reconciled at 2026-11-22T10:00:06Z' },
      ],
    });
  });

  it('health reconciled before the sync finished is stale: it fails and asks for a refresh keyed by finishedAt', () => {
    const result = verdict(app(synced({ reconciledAt: '2026-11-22T10:00:04Z' })));
    expect(result.refresh).toBe('2026-11-22T10:00:05Z');
    expect(result.checks[1]).toEqual({ name: 'argocd-health', ok: false, detail: 'health (Healthy) is stale: reconciled at 2026-11-22T10:00:04Z, before the sync finished at 2026-11-22T10:00:05Z' });
    expect(verdict(app(synced({ reconciledAt: undefined }))).refresh).toBe('2026-11-22T10:00:05Z');
  });

  it('fails on an older revision, OutOfSync, a running or failed operation, and non-Healthy health', () => {
    const old = 'a'.repeat(40);
    expect(verdict(app(synced({ sync: { status: 'Synced', revision: old }, operationState: { phase: 'Succeeded', finishedAt: '2026-11-22T10:00:05Z', syncResult: { revision: old } } }))).checks[0]?.detail).toBe(`Synced at ${old.slice(0, 12)}, not yet at ${REV.slice(0, 12)}`);
    expect(verdict(app(synced({ sync: { status: 'OutOfSync', revision: REV } }))).checks[0]?.detail).toBe(`sync status is OutOfSync (at ${REV.slice(0, 12)}, want ${REV.slice(0, 12)})`);
    expect(verdict(app(synced({ operationState: { phase: 'Running', syncResult: { revision: REV } } }))).checks[0]).toMatchObject({ ok: false, detail: 'the sync operation is Running' });
    expect(verdict(app(synced({ operationState: { phase: 'Failed', message: 'one or more objects failed to apply', finishedAt: '2026-11-22T10:00:05Z' } }))).checks[0]?.detail).toBe('the sync operation is Failed: one or more objects failed to apply');
    expect(verdict(app(synced({ health: { status: 'Progressing', message: 'Waiting for InferenceService to report status...' } }))).checks[1]?.detail).toBe('health is Progressing: Waiting for InferenceService to report status...');
    expect(verdict(undefined).checks.map((c) => c.detail)).toEqual(['Application argocd/churn does not exist', 'Application argocd/churn does not exist']);
  });

  it('takes the revision from sync.revisions or syncResult (multi-source), and an abbreviation of at least 7 hex digits', () => {
    expect(verdict(app(synced({ sync: { status: 'Synced', revisions: ['d'.repeat(40), REV] } }))).checks[0]?.ok).toBe(true);
    expect(sameRevision(REV, REV.slice(0, 7))).toBe(true);
    expect(sameRevision(REV, REV.slice(0, 6))).toBe(false);
    expect(sameRevision(REV.toUpperCase(), REV)).toBe(true);
    expect(sameRevision(undefined, REV)).toBe(false);
  });
});

function isvc(uri: string, status: InferenceService['status'], extra: Partial<InferenceService['spec']> = {}): InferenceService {
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name: 'churn', namespace: 'ml', generation: 2, annotations: { 'serving.kserve.io/deploymentMode': 'Serverless' } },
    spec: { predictor: { model: { storageUri: uri } }, ...extra },
    status,
  };
}

const ready = [
  { type: 'Ready', status: 'True' },
  { type: 'PredictorReady', status: 'True' },
];

function pod(name: string, uri: string, labels: Record<string, string>, options: { ready?: boolean; waiting?: string; terminating?: boolean } = {}): Pod {
  return {
    metadata: { name, namespace: 'ml', labels: { 'serving.kserve.io/inferenceservice': 'churn', ...labels }, annotations: { 'internal.serving.kserve.io/storage-initializer-sourceuri': uri }, ...(options.terminating ? { deletionTimestamp: '2026-11-22T10:00:00Z' } : {}) },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
      containerStatuses: [{ name: 'kserve-container', ready: options.ready !== false, restartCount: 0, ...(options.waiting ? { state: { waiting: { reason: options.waiting, message: 'Back-off pulling image "ghcr.io/acme/server:bad"' } } } : {}) }],
    },
  };
}

describe('checkInferenceService, Knative mode', () => {
  const rev = (r: string) => ({ 'serving.knative.dev/revision': r });
  const knative = (created: string, readyRev: string, traffic = [{ revisionName: readyRev, latestRevision: true, percent: 100 }], rolledOut = readyRev) =>
    ({ observedGeneration: 2, url: 'http://churn.ml.example.com', conditions: ready, components: { predictor: { latestCreatedRevision: created, latestReadyRevision: readyRev, latestRolledoutRevision: rolledOut, traffic } } }) as InferenceService['status'];

  it('a Ready=True and an observedGeneration equal to the generation prove nothing while the latest revision is the old spec\'s', () => {
    const result = checkInferenceService({ isvc: isvc(NEW, knative('churn-predictor-00001', 'churn-predictor-00001')), pods: [pod('p1', OLD, rev('churn-predictor-00001'))], deployments: [] }, expected);
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([['spec', true], ['ready', true], ['revision', false], ['traffic', false], ['pods', false]]);
    expect(result.revision).toBeUndefined();
    expect(result.failure).toBeUndefined();
  });

  it('holds when the revision made for this spec is the latest ready with the whole traffic, its pods ready', () => {
    const result = checkInferenceService(
      { isvc: isvc(NEW, knative('churn-predictor-00002', 'churn-predictor-00002')), pods: [pod('p1', OLD, rev('churn-predictor-00001'), { terminating: true }), pod('p2', NEW, rev('churn-predictor-00002'))], deployments: [] },
      expected,
    );
    expect(result.checks.every((c) => c.ok)).toBe(true);
    expect(result).toMatchObject({ revision: 'churn-predictor-00002', url: 'http://churn.ml.example.com' });
  });

  it('a canary share: what canaryTrafficPercent asks while a previous rolled-out revision exists; 0 never holds', () => {
    const split = [
      { revisionName: 'churn-predictor-00002', latestRevision: true, percent: 25, tag: 'latest' },
      { revisionName: 'churn-predictor-00001', latestRevision: false, percent: 75, tag: 'prev' },
    ];
    const canary = (p: number, traffic = split) => checkInferenceService({ isvc: isvc(NEW, knative('churn-predictor-00002', 'churn-predictor-00002', traffic, 'churn-predictor-00001'), { predictor: { canaryTrafficPercent: p, model: { storageUri: NEW } } }), pods: [pod('p2', NEW, rev('churn-predictor-00002'))], deployments: [] }, expected).checks.find((c) => c.name === 'traffic');
    expect(canary(25)).toEqual({ name: 'traffic', ok: true, detail: '25% of traffic goes to churn-predictor-00002 (the spec asks for 25%)' });
    // With tag routing, the smoke inference goes to the canary's own URL.
    const tagged = [{ ...split[0]!, url: 'http://latest-churn-predictor.ml.example.com' }, split[1]!];
    expect(checkInferenceService({ isvc: isvc(NEW, knative('churn-predictor-00002', 'churn-predictor-00002', tagged, 'churn-predictor-00001'), { predictor: { canaryTrafficPercent: 25, model: { storageUri: NEW } } }), pods: [pod('p2', NEW, rev('churn-predictor-00002'))], deployments: [] }, expected).url).toBe('http://latest-churn-predictor.ml.example.com');
    expect(canary(50)).toEqual({ name: 'traffic', ok: false, detail: '25% of traffic goes to churn-predictor-00002 (the spec asks for 50%)' });
    expect(canary(0, [{ ...split[0]!, percent: 0 }, { ...split[1]!, percent: 100 }])?.ok).toBe(false);
  });

  it('fails fast on KServe\'s failure states and on a new pod stuck in ImagePullBackOff, never on an old pod', () => {
    const failing = knative('churn-predictor-00002', 'churn-predictor-00001');
    failing!.modelStatus = { transitionStatus: 'InvalidSpec', lastFailureInfo: { reason: 'NoSupportingRuntime', message: 'No runtime found to support predictor with model type: {onnx 99}' } };
    expect(checkInferenceService({ isvc: isvc(NEW, failing), pods: [], deployments: [] }, expected).failure).toBe('KServe reports InvalidSpec: NoSupportingRuntime: No runtime found to support predictor with model type: {onnx 99}');

    const pulling = checkInferenceService({ isvc: isvc(NEW, knative('churn-predictor-00002', 'churn-predictor-00001')), pods: [pod('p1', OLD, rev('churn-predictor-00001'), { waiting: 'ImagePullBackOff' }), pod('p2', NEW, rev('churn-predictor-00002'), { ready: false, waiting: 'ImagePullBackOff' })], deployments: [] }, expected);
    expect(pulling.failure).toBe('pod p2: container kserve-container is in ImagePullBackOff: Back-off pulling image "ghcr.io/acme/server:bad"');
    const oldOnly = checkInferenceService({ isvc: isvc(NEW, knative('churn-predictor-00001', 'churn-predictor-00001')), pods: [pod('p1', OLD, rev('churn-predictor-00001'), { waiting: 'CrashLoopBackOff' })], deployments: [] }, expected);
    expect(oldOnly.failure).toBeUndefined();
    // A spec that does not serve the expected URI yet is never failed for its status.
    expect(checkInferenceService({ isvc: isvc(OLD, failing), pods: [], deployments: [] }, expected).failure).toBeUndefined();
  });
});

describe('checkInferenceService, Standard mode', () => {
  const standard = (uri: string) => {
    const i = isvc(uri, { observedGeneration: 7, url: 'http://churn.ml.example.com', conditions: ready, deploymentMode: 'Standard' });
    i.metadata.annotations = {};
    return i;
  };
  const deployment = (generation: number, observed: number, updated: number, available: number): Deployment => ({
    metadata: { name: 'churn-predictor', namespace: 'ml', generation, labels: { component: 'predictor' } },
    spec: { replicas: 2, selector: { matchLabels: { app: 'isvc.churn-predictor' } } },
    status: { observedGeneration: observed, replicas: 2, updatedReplicas: updated, availableReplicas: available },
  });
  const labels = (hash: string) => ({ app: 'isvc.churn-predictor', 'pod-template-hash': hash });

  it('waits for the Deployment to observe and roll out its own generation, and for every serving pod to carry the URI', () => {
    const lagging = checkInferenceService({ isvc: standard(NEW), pods: [pod('a', OLD, labels('h1')), pod('b', OLD, labels('h1'))], deployments: [deployment(4, 3, 2, 2)] }, expected);
    expect(lagging.checks.find((c) => c.name === 'deployment')?.detail).toBe('churn-predictor has not observed its generation 4 yet (observed 3)');
    const rolling = checkInferenceService({ isvc: standard(NEW), pods: [pod('a', OLD, labels('h1')), pod('c', NEW, labels('h2'))], deployments: [deployment(4, 4, 1, 2)] }, expected);
    expect(rolling.checks.filter((c) => !c.ok).map((c) => c.detail)).toEqual(['churn-predictor: 1 updated, 2 available, 2 replicas of 2', `pod a of churn-predictor serves ${OLD}, not ${NEW}`]);
    const done = checkInferenceService({ isvc: standard(NEW), pods: [pod('a', OLD, labels('h1'), { terminating: true }), pod('c', NEW, labels('h2')), pod('d', NEW, labels('h2'))], deployments: [deployment(4, 4, 2, 2)] }, expected);
    expect(done.checks.every((c) => c.ok)).toBe(true);
    expect(done.revision).toBe('churn-predictor-h2');
  });

  it('says ModelMesh is not verified', () => {
    const mesh = standard(NEW);
    mesh.status!.deploymentMode = 'ModelMesh';
    expect(checkInferenceService({ isvc: mesh, pods: [], deployments: [] }, expected).failure).toMatch(/ModelMesh/);
  });
});

import { CustomObjectsApi, KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiError, KubeClient, loadKubeConfig, Pods, resourceType, type KubeObject, type WatchEnd, type WatchEvent } from '../../../src/kube/index.ts';
import { startKubeApi, type KubeApi, type Obj } from '../../helpers/kube-api.ts';

/** The Kubernetes API stand-in's own behaviour, through @kubernetes/client-node over HTTPS. */

const ISVC = resourceType('serving.kserve.io/v1beta1', 'InferenceService', 'inferenceservices');
const APP = resourceType('argoproj.io/v1alpha1', 'Application', 'applications');
const JOB = resourceType('batch/v1', 'Job', 'jobs');

let api: KubeApi;
let client: KubeClient;

function isvc(name: string, storageUri = 's3://models/churn/sha256-0000000000000000/', labels: Record<string, string> = {}): Obj {
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name, namespace: 'ml', labels },
    spec: { predictor: { model: { modelFormat: { name: 'onnx' }, storageUri } } },
  };
}

function pod(name: string, containers = ['main'], owner?: Obj): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ml', ...(owner ? { ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true }] } : {}) },
    spec: { containers: containers.map((c) => ({ name: c, image: 'ghcr.io/acme/trainer:1.0' })) },
  };
}

/** Collects a watch's events until it ends. */
function collect<T extends KubeObject>(handle: { done: Promise<WatchEnd> }, events: WatchEvent<T>[]) {
  return { events, done: handle.done };
}

async function until(condition: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  api = await startKubeApi();
  client = new KubeClient(loadKubeConfig({ kubeconfig: api.kubeconfigPath }).config);
});
afterAll(() => api.close());
afterEach(() => {
  const violations = api.violations.splice(0);
  for (const o of api.list('serving.kserve.io/v1beta1', 'InferenceService')) api.remove('serving.kserve.io/v1beta1', 'InferenceService', o.metadata.namespace, o.metadata.name);
  for (const o of api.list('v1', 'Pod')) api.remove('v1', 'Pod', o.metadata.namespace, o.metadata.name);
  for (const o of api.list('batch/v1', 'Job')) api.remove('batch/v1', 'Job', o.metadata.namespace, o.metadata.name);
  expect(violations).toEqual([]);
});

describe('Kubernetes API stand-in: list and watch', () => {
  it('list carries the resourceVersion a watch resumes from; a watch without one starts with ADDED for every object', async () => {
    api.create(isvc('a'));
    const list = await client.list<Obj & KubeObject>(ISVC, 'ml');
    expect(list.items.map((i) => i.metadata.name)).toEqual(['a']);
    expect(list.items[0]).toMatchObject({ apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService' });
    expect(list.resourceVersion).toBe(api.resourceVersion());

    const fromList: WatchEvent<Obj & KubeObject>[] = [];
    const exact = client.watch<Obj & KubeObject>(ISVC, 'ml', { resourceVersion: list.resourceVersion }, (e) => fromList.push(e));
    const fresh: WatchEvent<Obj & KubeObject>[] = [];
    const all = client.watch<Obj & KubeObject>(ISVC, 'ml', {}, (e) => fresh.push(e));
    await until(() => api.openWatches().length === 2);
    api.create(isvc('b'));
    await until(() => fromList.length === 1 && fresh.length === 2);
    expect(fromList.map((e) => e.type === 'BOOKMARK' ? e.type : `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED b']);
    expect(fresh.map((e) => e.type === 'BOOKMARK' ? e.type : `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED a', 'ADDED b']);
    exact.stop();
    all.stop();
    expect(await exact.done).toEqual({ reason: 'stopped' });
    const watchRequest = api.requests.find((r) => r.query.get('watch') === 'true');
    expect(watchRequest?.query.get('allowWatchBookmarks')).toBe('true');
  });

  it('a watch from a compacted version gets 410 Expired: in-stream ERROR by default, an HTTP 410 when configured', async () => {
    api.create(isvc('a'));
    const old = api.resourceVersion();
    api.create(isvc('b'));
    api.compact();
    const inStream = await client.watch(ISVC, 'ml', { resourceVersion: old }, () => {}).done;
    expect(inStream).toMatchObject({ reason: 'expired', status: { code: 410, reason: 'Expired' } });
    expect(api.requests.at(-1)?.status).toBe(200);

    api.expiredAs = 'status';
    try {
      const asStatus = await client.watch(ISVC, 'ml', { resourceVersion: old }, () => {}).done;
      expect(asStatus).toEqual({ reason: 'expired' });
      expect(api.requests.at(-1)?.status).toBe(410);
    } finally {
      api.expiredAs = 'event';
    }
  });

  it('expireWatches ends open watches with an in-stream 410; dropWatches breaks them; stallWatches silences them', async () => {
    const expired = client.watch(ISVC, 'ml', {}, () => {});
    await until(() => api.openWatches().length === 1);
    expect(api.expireWatches()).toBe(1);
    expect(await expired.done).toMatchObject({ reason: 'expired', status: { reason: 'Expired' } });

    const dropped = client.watch(ISVC, 'ml', {}, () => {});
    await until(() => api.openWatches().length === 1);
    api.dropWatches();
    expect((await dropped.done).reason).toMatch(/error|closed/);
    await until(() => api.openWatches().length === 0);

    const events: WatchEvent<KubeObject>[] = [];
    const stalled = client.watch(ISVC, 'ml', { stallMs: 300 }, (e) => events.push(e));
    await until(() => api.openWatches().length === 1);
    api.stallWatches();
    api.create(isvc('c'));
    expect(await stalled.done).toEqual({ reason: 'stalled' });
    expect(events).toEqual([]);
  });

  it('sends bookmarks only to watches that ask, and ends a watch after timeoutSeconds', async () => {
    const asked: WatchEvent<KubeObject>[] = [];
    const silent: WatchEvent<KubeObject>[] = [];
    const a = client.watch(ISVC, 'ml', { allowWatchBookmarks: true, timeoutSeconds: 1 }, (e) => asked.push(e));
    const b = client.watch(ISVC, 'ml', { allowWatchBookmarks: false }, (e) => silent.push(e));
    await until(() => api.openWatches().length === 2);
    expect(api.bookmark()).toBe(1);
    await until(() => asked.length === 1);
    expect(asked).toEqual([{ type: 'BOOKMARK', resourceVersion: api.resourceVersion() }]);
    const started = Date.now();
    expect(await a.done).toEqual({ reason: 'closed' });
    expect(Date.now() - started).toBeLessThan(1500);
    b.stop();
    expect(silent).toEqual([]);
  });

  it('selectors filter lists and watches; an object leaving the selection is a DELETED event', async () => {
    api.create(isvc('a', undefined, { tier: 'gold' }));
    api.create(isvc('b', undefined, { tier: 'silver' }));
    expect((await client.list(ISVC, 'ml', { labelSelector: 'tier in (gold,bronze)' })).items.map((i) => i.metadata.name)).toEqual(['a']);
    expect((await client.list(ISVC, 'ml', { labelSelector: 'tier!=gold' })).items.map((i) => i.metadata.name)).toEqual(['b']);
    expect((await client.list(ISVC, 'ml', { fieldSelector: 'metadata.name=b' })).items.map((i) => i.metadata.name)).toEqual(['b']);
    await expect(client.list(ISVC, 'ml', { fieldSelector: 'spec.predictor=x' })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('field label not supported: spec.predictor') });

    const events: WatchEvent<KubeObject>[] = [];
    const watch = client.watch(ISVC, 'ml', { labelSelector: 'tier=gold' }, (e) => events.push(e));
    await until(() => events.length === 1);
    api.update('serving.kserve.io/v1beta1', 'InferenceService', 'ml', 'a', (o) => (o.metadata.labels.tier = 'silver'));
    api.update('serving.kserve.io/v1beta1', 'InferenceService', 'ml', 'b', (o) => (o.metadata.labels.tier = 'gold'));
    await until(() => events.length === 3);
    expect(events.map((e) => (e.type === 'BOOKMARK' ? e.type : `${e.type} ${e.object.metadata.name}`))).toEqual(['ADDED a', 'DELETED a', 'ADDED b']);
    watch.stop();
  });
});

describe('Kubernetes API stand-in: writes', () => {
  it('generation moves on spec writes only, resourceVersion on every write; status is a subresource for InferenceService', async () => {
    const created = await client.create<Obj & KubeObject>(ISVC, 'ml', { ...isvc('a'), status: { url: 'http://dropped' } } as unknown as Obj & KubeObject);
    expect(created.metadata).toMatchObject({ generation: 1, resourceVersion: api.resourceVersion() });
    expect(created.status).toBeUndefined();

    const labelled = await client.patch<Obj & KubeObject>(ISVC, 'ml', 'a', { metadata: { labels: { x: 'y' } } });
    expect(labelled.metadata.generation).toBe(1);
    expect(Number(labelled.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));

    const status = await client.patch<Obj & KubeObject>(ISVC, 'ml', 'a', { status: { url: 'http://a.ml' }, spec: { predictor: { minReplicas: 4 } } }, { subresource: 'status' });
    expect(status.metadata.generation).toBe(1);
    expect(status.status).toEqual({ url: 'http://a.ml' });
    expect(status.spec.predictor.minReplicas).toBeUndefined();

    const spec = await client.patch<Obj & KubeObject>(ISVC, 'ml', 'a', { spec: { predictor: { minReplicas: 2 } }, status: { url: 'http://ignored' } });
    expect(spec.metadata.generation).toBe(2);
    expect(spec.status).toEqual({ url: 'http://a.ml' });

    const again = await client.patch<Obj & KubeObject>(ISVC, 'ml', 'a', { spec: { predictor: { minReplicas: 2 } } });
    expect(again.metadata.resourceVersion).toBe(spec.metadata.resourceVersion);
  });

  it('ArgoCD\'s Application has no status subresource: a status write is a whole-object write that moves generation', async () => {
    const app = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'churn-production', namespace: 'argocd' },
      spec: { project: 'default', destination: { server: 'https://kubernetes.default.svc', namespace: 'ml' }, source: { repoURL: 'https://github.com/acme/gitops.git', path: 'overlays/production', targetRevision: 'main' } },
    };
    await client.create(APP, 'argocd', app as Obj & KubeObject);
    const synced = await client.patch<Obj & KubeObject>(APP, 'argocd', 'churn-production', { status: { sync: { status: 'Synced', revision: 'a'.repeat(40) } } });
    expect(synced.status.sync.status).toBe('Synced');
    expect(synced.metadata.generation).toBe(2);
    await expect(client.patch(APP, 'argocd', 'churn-production', { status: {} }, { subresource: 'status' })).rejects.toMatchObject({ status: 404 });
    expect(api.violations.splice(0)).toEqual(['PATCH /apis/argoproj.io/v1alpha1/namespaces/argocd/applications/churn-production/status: the API serves no such path']);
    api.remove('argoproj.io/v1alpha1', 'Application', 'argocd', 'churn-production');
  });

  it('takes JSON and merge patches with their content types; strategic merge on core kinds only; anything else is 415', async () => {
    api.create(isvc('a'));
    api.create(pod('p', ['main', 'sidecar']));
    const merged = await client.patch<Obj & KubeObject>(ISVC, 'ml', 'a', { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } }, { type: 'merge' });
    expect(merged.metadata.annotations).toEqual({ 'argocd.argoproj.io/refresh': 'normal' });
    const json = await client.patch<Obj & KubeObject>(ISVC, 'ml', 'a', [{ op: 'replace', path: '/spec/predictor/model/storageUri', value: 's3://models/churn/sha256-1111111111111111/' }], { type: 'json' });
    expect(json.spec.predictor.model.storageUri).toBe('s3://models/churn/sha256-1111111111111111/');
    const strategic = await client.patch<Obj & KubeObject>(Pods, 'ml', 'p', { spec: { containers: [{ name: 'sidecar', image: 'ghcr.io/acme/proxy:2' }] } }, { type: 'strategic' });
    expect(strategic.spec.containers.map((c: Obj) => `${c.name}=${c.image}`)).toEqual(['main=ghcr.io/acme/trainer:1.0', 'sidecar=ghcr.io/acme/proxy:2']);
    await expect(client.patch(ISVC, 'ml', 'a', { spec: {} }, { type: 'strategic' })).rejects.toMatchObject({ status: 415, reason: 'UnsupportedMediaType' });

    // @kubernetes/client-node's generated API sends application/json-patch+json unless told otherwise: an object is not a JSON patch.
    const generated = loadKubeConfig({ kubeconfig: api.kubeconfigPath }).config.makeApiClient(CustomObjectsApi);
    await expect(
      generated.patchNamespacedCustomObject({ group: 'serving.kserve.io', version: 'v1beta1', namespace: 'ml', plural: 'inferenceservices', name: 'a', body: { spec: {} } }),
    ).rejects.toMatchObject({ code: 422 });
    expect(api.requests.at(-1)).toMatchObject({ method: 'PATCH', contentType: 'application/json-patch+json', status: 422 });
  });

  it('validates every write against the real schemas: a wrong field or type fails with 422 naming it, a wrong path with 404', async () => {
    const typo = isvc('typo');
    typo.spec.predictor.model.storageURI = typo.spec.predictor.model.storageUri;
    await expect(client.create(ISVC, 'ml', typo as Obj & KubeObject)).rejects.toMatchObject({ status: 422, reason: 'Invalid', message: expect.stringContaining('spec.predictor.model.storageURI: unknown field') });
    const badType = isvc('bad');
    badType.spec.predictor.canaryTrafficPercent = '10';
    await expect(client.create(ISVC, 'ml', badType as Obj & KubeObject)).rejects.toMatchObject({ status: 422, message: expect.stringContaining('spec.predictor.canaryTrafficPercent: must be an integer') });
    const badPod = pod('x');
    badPod.spec.containers[0].imagePullPolicyy = 'Always';
    await expect(client.create(Pods, 'ml', badPod as Obj & KubeObject)).rejects.toMatchObject({ status: 422, message: expect.stringContaining('spec.containers[0].imagePullPolicyy: unknown field') });
    const badPort = pod('y');
    badPort.spec.containers[0].ports = [{ containerPort: 'http' }];
    await expect(client.create(Pods, 'ml', badPort as Obj & KubeObject)).rejects.toMatchObject({ status: 422, message: expect.stringContaining('spec.containers.0.ports.0.containerPort: must be integer') });
    await expect(client.create(Pods, 'ml', { ...pod('Upper'), metadata: { name: 'Upper' } } as Obj & KubeObject)).rejects.toMatchObject({ status: 422, message: expect.stringContaining('RFC 1123') });
    api.create(isvc('a'));
    await expect(client.patch(ISVC, 'ml', 'a', { status: { modelStatus: { transitionStatus: 'Done' } } }, { subresource: 'status' })).rejects.toMatchObject({ status: 422, message: expect.stringContaining('status.modelStatus.transitionStatus: "Done" is not one of') });

    const v1 = resourceType('serving.kserve.io/v1', 'InferenceService', 'inferenceservices');
    await expect(client.list(v1, 'ml')).rejects.toMatchObject({ status: 404 });
    expect(api.violations.splice(0)).toEqual(['GET /apis/serving.kserve.io/v1/namespaces/ml/inferenceservices: the API serves no such path']);
    expect(api.list('v1', 'Pod')).toEqual([]);
  });

  it('serves discovery, so @kubernetes/client-node\'s KubernetesObjectApi finds plurals and scopes by itself', async () => {
    const objects = KubernetesObjectApi.makeApiClient(loadKubeConfig({ kubeconfig: api.kubeconfigPath }).config);
    await objects.create(isvc('found') as never);
    const read: Obj = await objects.read({ apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: 'found', namespace: 'ml' } });
    expect(read.spec.predictor.model.storageUri).toBe('s3://models/churn/sha256-0000000000000000/');
    const pods = await objects.list('v1', 'Pod', 'ml');
    expect(pods.items).toEqual([]);
  });

  it('create is 409 when the name exists, replace is 409 on a stale resourceVersion, a wrong token is 401', async () => {
    const first = api.create(isvc('a'));
    await expect(client.create(ISVC, 'ml', isvc('a') as Obj & KubeObject)).rejects.toMatchObject({ status: 409, reason: 'AlreadyExists' });
    api.update('serving.kserve.io/v1beta1', 'InferenceService', 'ml', 'a', (o) => (o.spec.predictor.minReplicas = 3));
    await expect(client.replace(ISVC, 'ml', 'a', first as Obj & KubeObject)).rejects.toMatchObject({ status: 409, reason: 'Conflict' });
    const wrong = new KubeClient(loadKubeConfig({ kubeconfig: api.writeKubeconfig(`${api.kubeconfigPath}-wrong`, { token: 'nope' }) }).config);
    const error = await wrong.get(ISVC, 'ml', 'a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).status).toBe(401);
  });

  it('delete: Foreground marks the owner, deletes its dependents, then the owner; Orphan keeps them without the reference', async () => {
    const job = api.create({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'train', namespace: 'ml' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'ghcr.io/acme/trainer:1.0' }] } } } });
    api.create(pod('train-abc', ['main'], job));
    const seen: string[] = [];
    const off = api.onChange((c) => seen.push(`${c.type} ${c.object.kind} ${c.object.metadata.name}${c.object.metadata.deletionTimestamp ? ' (deleting)' : ''}`));
    expect(await client.delete(JOB, 'ml', 'train', { propagationPolicy: 'Foreground' })).toBe(true);
    off();
    expect(seen).toEqual(['MODIFIED Job train (deleting)', 'DELETED Pod train-abc', 'DELETED Job train (deleting)']);
    expect(api.deletions).toContainEqual({ kind: 'Job', namespace: 'ml', name: 'train', propagationPolicy: 'Foreground' });
    expect(await client.delete(JOB, 'ml', 'train')).toBe(false);

    const kept = api.create({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'keep', namespace: 'ml' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'ghcr.io/acme/trainer:1.0' }] } } } });
    api.create(pod('keep-abc', ['main'], kept));
    await client.delete(JOB, 'ml', 'keep', { propagationPolicy: 'Orphan' });
    expect(api.get('v1', 'Pod', 'ml', 'keep-abc')?.metadata.ownerReferences).toEqual([]);
  });
});

describe('Kubernetes API stand-in: pod logs', () => {
  it('streams a followed log as lines arrive, with timestamps, from sinceTime, and names the container when the pod has several', async () => {
    api.create(pod('train-0', ['main', 'sidecar']));
    const t0 = new Date('2026-11-22T10:00:00.000Z');
    api.appendLog('ml', 'train-0', 'epoch 1', { container: 'main', time: t0 });
    api.appendLog('ml', 'train-0', 'epoch 2', { container: 'main', time: new Date(t0.getTime() + 1000) });
    await expect(client.logs('ml', 'train-0').next()).rejects.toMatchObject({ status: 400, message: expect.stringContaining('choose one of: [main sidecar]') });

    const lines: string[] = [];
    const done = (async () => {
      for await (const line of client.logs('ml', 'train-0', { container: 'main', follow: true, timestamps: true, sinceTime: '2026-11-22T10:00:01Z' })) lines.push(line);
    })();
    await until(() => lines.length === 1);
    api.appendLog('ml', 'train-0', 'epoch 3', { container: 'main', time: new Date(t0.getTime() + 2000) });
    await until(() => lines.length === 2);
    api.endLog('ml', 'train-0', 'main');
    await done;
    expect(lines).toEqual(['2026-11-22T10:00:01.000000000Z epoch 2', '2026-11-22T10:00:02.000000000Z epoch 3']);

    const dropped: string[] = [];
    api.create(pod('train-1'));
    api.appendLog('ml', 'train-1', 'start');
    const broken = (async () => {
      for await (const line of client.logs('ml', 'train-1', { follow: true })) dropped.push(line);
    })().catch((e: unknown) => e);
    await until(() => dropped.length === 1);
    expect(api.dropLogStreams()).toBe(1);
    const error = await broken;
    expect(dropped).toEqual(['start']);
    expect(error === undefined || (error as Error).name === 'KubeUnreachableError').toBe(true);
  });
});

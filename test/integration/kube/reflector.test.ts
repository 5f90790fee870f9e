import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceServices, KubeClient, KubeUnreachableError, loadKubeConfig, Reflector, type KubeObject, type ReflectorEvent } from '../../../src/kube/index.ts';
import { startKubeApi, type KubeApi, type Obj } from '../../helpers/kube-api.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** The list-then-watch loop against the stand-in: every way a watch ends is recovered within the deadline. */

let api: KubeApi;
let client: KubeClient;
const GV = 'serving.kserve.io/v1beta1';

function isvc(name: string, minReplicas = 1): Obj {
  return { apiVersion: GV, kind: 'InferenceService', metadata: { name, namespace: 'ml' }, spec: { predictor: { minReplicas, model: { modelFormat: { name: 'onnx' }, storageUri: 's3://models/churn/sha256-0000000000000000/' } } } };
}

async function until(condition: () => boolean, ms = 4000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function start(options: ConstructorParameters<typeof Reflector>[2] = {}) {
  const reflector = new Reflector<KubeObject & Obj>(client, InferenceServices, { namespace: 'ml', stallMs: 2000, backoff: { initialMs: 20, maxMs: 100 }, ...options });
  const events: ReflectorEvent<KubeObject & Obj>[] = [];
  reflector.subscribe((e) => events.push(e));
  const controller = new AbortController();
  const running = reflector.run(controller.signal);
  const lists = () => api.requests.filter((r) => r.method === 'GET' && r.path === '/apis/serving.kserve.io/v1beta1/namespaces/ml/inferenceservices' && r.query.get('watch') === null).length;
  const describe = () => events.map((e) => ('object' in e ? `${e.type} ${e.object.metadata.name}` : e.type === 'RELISTED' ? `RELISTED ${e.reason}` : e.type));
  return { reflector, events, describe, stop: () => controller.abort(), running, lists };
}

beforeAll(async () => {
  api = await startKubeApi();
  client = new KubeClient(loadKubeConfig({ kubeconfig: api.kubeconfigPath }).config);
});
afterAll(() => api.close());

describe('Reflector', () => {
  it('lists, then follows events; a watch the server ends (timeoutSeconds) resumes from the last version without listing again', async () => {
    api.create(isvc('a'));
    const r = start({ timeoutSeconds: 1 });
    await until(() => r.reflector.synced);
    api.create(isvc('b'));
    api.update(GV, 'InferenceService', 'ml', 'a', (o) => (o.spec.predictor.minReplicas = 2));
    await until(() => r.events.length === 4);
    expect(r.describe()).toEqual(['ADDED a', 'SYNCED', 'ADDED b', 'MODIFIED a']);
    const listsBefore = r.lists();
    await until(() => api.requests.filter((q) => q.query.get('watch') === 'true').length >= 2, 3000);
    api.remove(GV, 'InferenceService', 'ml', 'b');
    await until(() => r.events.length === 5);
    expect(r.describe().at(-1)).toBe('DELETED b');
    expect(r.lists()).toBe(listsBefore);
    const resumed = api.requests.filter((q) => q.query.get('watch') === 'true')[1];
    expect(resumed?.query.get('resourceVersion')).not.toBe('');
    expect(r.reflector.items().map((i) => i.metadata.name)).toEqual(['a']);
    r.stop();
    await r.running;
    api.remove(GV, 'InferenceService', 'ml', 'a');
  });

  it('re-lists after an in-stream 410 Expired, a stall and a dropped connection, seeing what changed meanwhile', async () => {
    api.create(isvc('a'));
    const r = start({ stallMs: 300 });
    try {
      await until(() => r.reflector.synced && api.openWatches().length === 1);
      expect(api.expireWatches()).toBe(1);
      await until(() => r.describe().includes('RELISTED expired') && api.openWatches().length === 1);

      // What happens while the watch is stalled is found by the re-list the stall triggers.
      expect(api.stallWatches()).toBe(1);
      api.update(GV, 'InferenceService', 'ml', 'a', (o) => (o.spec.predictor.minReplicas = 3));
      await until(() => r.describe().includes('RELISTED stalled'));
      expect(r.reflector.get('a')?.spec.predictor.minReplicas).toBe(3);

      await until(() => api.openWatches().length === 1 && !api.openWatches()[0]?.stalled);
      expect(api.dropWatches()).toBe(1);
      api.update(GV, 'InferenceService', 'ml', 'a', (o) => (o.spec.predictor.minReplicas = 4));
      await until(() => r.reflector.get('a')?.spec.predictor.minReplicas === 4);
      expect(r.describe().filter((e) => e.startsWith('RELISTED'))).toEqual(['RELISTED expired', 'RELISTED stalled', 'RELISTED error']);
    } finally {
      r.stop();
      await r.running;
      api.remove(GV, 'InferenceService', 'ml', 'a');
    }
  });

  it('re-lists when the watch it resumes after a server close is refused with an HTTP 410', async () => {
    api.create(isvc('a'));
    const r = start({ timeoutSeconds: 1 });
    try {
      await until(() => r.reflector.synced && api.openWatches().length === 1);
      // The change never reaches the open watch, and its history is gone when the watch is resumed.
      api.stallWatches();
      api.update(GV, 'InferenceService', 'ml', 'a', (o) => (o.spec.predictor.minReplicas = 5));
      api.compact();
      api.expiredAs = 'status';
      await until(() => r.describe().includes('RELISTED expired'), 4000);
      expect(r.reflector.get('a')?.spec.predictor.minReplicas).toBe(5);
      expect(api.requests.filter((q) => q.query.get('watch') === 'true').map((q) => q.status)).toContain(410);
    } finally {
      api.expiredAs = 'event';
      r.stop();
      await r.running;
      api.remove(GV, 'InferenceService', 'ml', 'a');
    }
  });

  it('stops promptly at the deadline, even while backing off', async () => {
    api.failNext({ path: /inferenceservices$/, status: 503, reason: 'ServiceUnavailable', times: 3 });
    const r = start({ backoff: { initialMs: 5000, maxMs: 5000 } });
    await until(() => api.requests.some((q) => q.status === 503));
    const stopped = Date.now();
    r.stop();
    await r.running;
    expect(Date.now() - stopped).toBeLessThan(500);
    expect(r.reflector.synced).toBe(false);
  });

  it('gives up on 403 at once, and on an unreachable API after maxConsecutiveFailures lists', async () => {
    api.failNext({ path: /inferenceservices$/, status: 403, reason: 'Forbidden', message: 'inferenceservices.serving.kserve.io is forbidden: User "ci" cannot list resource' });
    const forbidden = start();
    await expect(forbidden.running).rejects.toMatchObject({ status: 403, message: expect.stringContaining('cannot list resource') });

    // A port with nothing listening: take one, then free it.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const config = loadKubeConfig({ kubeconfig: api.writeKubeconfig(`${tempDir('kube-refl')}/kubeconfig`, { server: `https://127.0.0.1:${port}` }) }).config;
    const unreachable = new Reflector(new KubeClient(config), InferenceServices, { namespace: 'ml', backoff: { initialMs: 10, maxMs: 20 }, maxConsecutiveFailures: 3 });
    const error = await unreachable.run(new AbortController().signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeUnreachableError);
    expect((error as Error).message).toMatch(new RegExp(`cannot reach the Kubernetes API at https://127.0.0.1:${port}: .*ECONNREFUSED`));
  });
});

// The rollout verifier's CPU per watch event, over 500 InferenceServices moving through KServe's Knative
// sequence (`npm run bench -- rollout`), side by side in the same run with two peers on the same stream:
// @kubernetes/client-node's informer (list + watch into its cache, no work per event) and its bare Watch
// (JSON parse only, the floor). Ours does what rollout does per event: the Reflector's cache, the timeline's
// diff of conditions and every InferenceService check. The Kubernetes API stand-in runs in a child process
// (this file with --server), so the figures are the client's CPU only.
// Size: BENCH_ROLLOUT_SERVICES (500) InferenceServices x 6 events.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVICES = Number(process.env.BENCH_ROLLOUT_SERVICES ?? 500);
const NEW = 's3://models/models/churn/sha256-1111111111111111/';
const GV = 'serving.kserve.io/v1beta1';

type Message = { kind: 'ready'; kubeconfig: string } | { kind: 'watching'; count: number } | { kind: 'done'; writes: number };

if (process.argv[2] === '--server') await server();
else await bench();

/** The stand-in, driven over IPC: `{kind: 'run', namespace}` writes the whole sequence into that namespace. */
async function server(): Promise<void> {
  const { startKubeApi } = await import('../test/helpers/kube-api.ts');
  const { removeTempDirs } = await import('../test/helpers/tmp.ts');
  const api = await startKubeApi();
  const send = (m: Message) => process.send?.(m);
  process.on('disconnect', () => {
    void api.close().finally(() => {
      removeTempDirs();
      process.exit(0);
    });
  });
  process.on('message', async (m: { kind: string; namespace: string }) => {
    if (m.kind === 'wait-watch') {
      const watching = () => api.openWatches().filter((w) => w.path.includes(`/namespaces/${m.namespace}/`)).length;
      while (watching() === 0) await new Promise((r) => setTimeout(r, 5));
      return send({ kind: 'watching', count: api.openWatches().length });
    }
    const ns = m.namespace;
    let writes = 0;
    const at = (s: number) => new Date(Date.parse('2026-11-22T10:00:00Z') + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    const conditions = (status: string, s: number) => ['IngressReady', 'PredictorReady', 'Ready'].map((type) => ({ type, status: type === 'IngressReady' ? 'True' : status, lastTransitionTime: at(s) }));
    const names = Array.from({ length: SERVICES }, (_, i) => `model-${String(i).padStart(4, '0')}`);
    for (const name of names) {
      api.create({ apiVersion: GV, kind: 'InferenceService', metadata: { name, namespace: ns, annotations: { 'serving.kserve.io/deploymentMode': 'Serverless' } }, spec: { predictor: { model: { modelFormat: { name: 'onnx' }, protocolVersion: 'v2', storageUri: NEW } } } });
      writes++;
    }
    const steps: ((o: Record<string, any>, name: string) => void)[] = [
      (o, name) => (o.status = { observedGeneration: 1, deploymentMode: 'Serverless', conditions: conditions('Unknown', 1), components: { predictor: { latestCreatedRevision: `${name}-predictor-00001` } }, modelStatus: { transitionStatus: 'InProgress', states: { activeModelState: 'Pending', targetModelState: 'Loading' } } }),
      (o) => (o.status.modelStatus.states.activeModelState = 'Loading'),
      (o) => (o.status.conditions = conditions('False', 3)),
      (o, name) => Object.assign(o.status.components.predictor, { latestReadyRevision: `${name}-predictor-00001`, latestRolledoutRevision: `${name}-predictor-00001`, traffic: [{ revisionName: `${name}-predictor-00001`, latestRevision: true, percent: 100 }] }),
      (o, name) => Object.assign(o.status, { url: `http://${name}.${ns}.example.com`, conditions: conditions('True', 5), modelStatus: { transitionStatus: 'UpToDate', states: { activeModelState: 'Loaded', targetModelState: 'Loaded' } } }),
    ];
    for (const step of steps) {
      for (const name of names) {
        api.updateStatus(GV, 'InferenceService', ns, name, (o) => step(o, name));
        writes++;
      }
      await new Promise((r) => setImmediate(r));
    }
    send({ kind: 'done', writes });
  });
  send({ kind: 'ready', kubeconfig: api.kubeconfigPath });
}

async function bench(): Promise<void> {
  const { KubeConfig, Watch, makeInformer, CustomObjectsApi } = await import('@kubernetes/client-node');
  const { KubeClient } = await import('../src/kube/client.ts');
  const { Reflector } = await import('../src/kube/reflector.ts');
  const { InferenceServices } = await import('../src/kube/resources.ts');
  const { checkInferenceService } = await import('../src/rollout/isvc-check.ts');
  const { Timeline } = await import('../src/rollout/timeline.ts');

  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <K extends Message['kind']>(kind: K) => new Promise<Extract<Message, { kind: K }>>((resolve) => {
    const on = (m: Message) => {
      if (m.kind !== kind) return;
      child.off('message', on);
      resolve(m as Extract<Message, { kind: K }>);
    };
    child.on('message', on);
  });
  const { kubeconfig } = await next('ready');
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const expected = SERVICES * 6;

  interface Run {
    name: string;
    events: number;
    cpuUs: number;
    wallMs: number;
  }

  /** Starts `client` on a fresh namespace, then has the server write the sequence; CPU from the first write to the last event. */
  async function measure(name: string, namespace: string, client: (ns: string, onEvent: () => void) => Promise<() => void>): Promise<Run> {
    let events = 0;
    let finish!: () => void;
    const all = new Promise<void>((resolve) => (finish = resolve));
    const stop = await client(namespace, () => {
      if (++events === expected) finish();
    });
    child.send({ kind: 'wait-watch', namespace });
    await next('watching');
    const cpu = process.cpuUsage();
    const started = performance.now();
    child.send({ kind: 'run', namespace });
    await all;
    const used = process.cpuUsage(cpu);
    const wallMs = performance.now() - started;
    stop();
    await next('done');
    return { name, events, cpuUs: used.user + used.system, wallMs };
  }

  const ours = () =>
    measure('rollout (Reflector + timeline + checks)', 'bench-ours', async (ns, onEvent) => {
      const reflector = new Reflector<import('../src/kube/kserve.ts').InferenceService>(new KubeClient(config), InferenceServices, { namespace: ns, stallMs: 120_000 });
      const timelines = new Map<string, InstanceType<typeof Timeline>>();
      reflector.subscribe((event) => {
        if (!('object' in event) || event.type === 'DELETED') return;
        const name = event.object.metadata.name;
        let timeline = timelines.get(name);
        if (!timeline) timelines.set(name, (timeline = new Timeline(Date.now())));
        timeline.inferenceService(event.previous, event.object);
        timeline.checks(checkInferenceService({ isvc: event.object, pods: [], deployments: [] }, { namespace: ns, name, storageUri: NEW }).checks);
        onEvent();
      });
      const controller = new AbortController();
      const running = reflector.run(controller.signal);
      return () => {
        controller.abort();
        void running;
      };
    });

  const informer = () =>
    measure('client-node informer (cache only)', 'bench-informer', async (ns, onEvent) => {
      const api = config.makeApiClient(CustomObjectsApi);
      const path = `/apis/${GV}/namespaces/${ns}/inferenceservices`;
      const inf = makeInformer(config, path, () => api.listNamespacedCustomObject({ group: 'serving.kserve.io', version: 'v1beta1', namespace: ns, plural: 'inferenceservices' }) as never);
      inf.on('add', onEvent);
      inf.on('update', onEvent);
      await inf.start();
      return () => void inf.stop();
    });

  const watch = (namespace = 'bench-watch') =>
    measure('client-node Watch (JSON parse only)', namespace, async (ns, onEvent) => {
      const controller = await new Watch(config).watch(`/apis/${GV}/namespaces/${ns}/inferenceservices`, {}, () => onEvent(), () => {});
      return () => controller.abort();
    });

  // Warm-up run (JIT, TLS session), not reported.
  await watch('bench-warm-up');
  const runs = [await ours(), await informer(), await watch()];
  child.disconnect();

  const floor = runs.find((r) => r.name.startsWith('client-node informer'))!;
  process.stdout.write(`${SERVICES} InferenceServices, ${expected} watch events each run (ADDED + 5 status writes per service), client CPU only\n`);
  process.stdout.write('client                                     events   CPU µs/event   events/s   CPU ratio vs informer\n');
  for (const r of runs) {
    const perEvent = r.cpuUs / r.events;
    process.stdout.write(`${r.name.padEnd(42)} ${String(r.events).padStart(6)}   ${perEvent.toFixed(1).padStart(12)}   ${((r.events / r.wallMs) * 1000).toFixed(0).padStart(8)}   ${(perEvent / (floor.cpuUs / floor.events)).toFixed(2).padStart(8)}\n`);
  }
  process.stdout.write('(events/s is bounded by the stand-in writing and validating each object against the 2 MB KServe CRD in its own process)\n');
}

/**
 * A scripted KServe controller for the Kubernetes API stand-in: the test calls each step, and the objects move
 * the way KServe, Knative and the Deployment controller move them (../shared/reference/rollout-facts.md §1–2):
 *
 * Knative mode: a spec change leaves the status as it was (Ready=True of the old revision, which keeps
 * serving); `createRevision()` makes `<name>-predictor-0000N` the latest created revision with its pods
 * initialising and Ready/PredictorReady Unknown; `podsReady()`; `revisionReady()` makes it the latest ready,
 * gives it the traffic (the whole, or `canaryTrafficPercent` beside the previous rolled-out revision) and
 * deletes the old pods. Standard mode: `rollDeployment()` updates the predictor Deployment's template (its
 * generation moves, observedGeneration lags), `deploymentObserved()`, `newPodsReady()` replaces the pods.
 * Failures: `failToLoad()` (the storage initializer crash-loops; FailedToLoad, BlockedByFailedLoad and
 * lastFailureInfo), `crashLoop()` (the model server container), `copyObservedGeneration()` (kserve#6081).
 * Every object is written through the stand-in, so it is validated against the CRD and kubernetes-models.
 */
import type { KubeApi, Obj } from './kube-api.ts';

const GV = 'serving.kserve.io/v1beta1';
const SOURCE = 'internal.serving.kserve.io/storage-initializer-sourceuri';
const ISVC_LABEL = 'serving.kserve.io/inferenceservice';

export interface KServeScriptOptions {
  namespace: string;
  name: string;
  mode: 'Knative' | 'Standard';
  /** What status.url says: the endpoint the verifier smoke-tests by default. */
  url: string;
  replicas?: number;
}

export class KServeScript {
  readonly api: KubeApi;
  readonly namespace: string;
  readonly name: string;
  readonly mode: 'Knative' | 'Standard';
  readonly url: string;
  readonly replicas: number;
  /** Knative revisions made so far. */
  revisions = 0;
  private clock = Date.parse('2026-11-22T10:00:00Z');
  private podNumber = 0;
  private hashes = 0;

  constructor(api: KubeApi, options: KServeScriptOptions) {
    this.api = api;
    this.namespace = options.namespace;
    this.name = options.name;
    this.mode = options.mode;
    this.url = options.url;
    this.replicas = options.replicas ?? 1;
  }

  get revision(): string {
    return `${this.name}-predictor-${String(this.revisions).padStart(5, '0')}`;
  }

  private time(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString().replace(/\.\d+Z$/, 'Z');
  }

  isvc(): Obj {
    const found = this.api.get(GV, 'InferenceService', this.namespace, this.name);
    if (!found) throw new Error('kserve-script: no InferenceService yet');
    return found;
  }

  storageUri(): string {
    return this.isvc().spec.predictor.model.storageUri;
  }

  /** The InferenceService at generation 1, fully serving `storageUri`, with its pods (and Deployment). */
  seedServing(storageUri: string, spec: { canaryTrafficPercent?: number } = {}): void {
    this.api.create({
      apiVersion: GV,
      kind: 'InferenceService',
      metadata: { name: this.name, namespace: this.namespace, annotations: { 'serving.kserve.io/deploymentMode': this.mode === 'Knative' ? 'Serverless' : 'Standard' } },
      spec: { predictor: { minReplicas: this.replicas, ...(spec.canaryTrafficPercent !== undefined ? { canaryTrafficPercent: spec.canaryTrafficPercent } : {}), model: { modelFormat: { name: 'onnx' }, protocolVersion: 'v2', storageUri } } },
    });
    if (this.mode === 'Knative') {
      this.createRevision();
      this.podsReady();
      this.revisionReady();
    } else {
      this.api.create(this.deploymentObject(storageUri));
      this.deploymentObserved();
      this.newPodsReady();
    }
  }

  /** What ArgoCD's sync does: the new spec (generation + 1); KServe has not reacted yet, so status is unchanged. */
  applySpec(storageUri: string, spec: { canaryTrafficPercent?: number | null } = {}): void {
    this.api.update(GV, 'InferenceService', this.namespace, this.name, (o) => {
      o.spec.predictor.model.storageUri = storageUri;
      if (spec.canaryTrafficPercent === null) delete o.spec.predictor.canaryTrafficPercent;
      else if (spec.canaryTrafficPercent !== undefined) o.spec.predictor.canaryTrafficPercent = spec.canaryTrafficPercent;
    });
  }

  /** kserve#6081: status.observedGeneration takes the child's counter, which happens to equal metadata.generation. */
  copyObservedGeneration(): void {
    const generation = this.isvc().metadata.generation;
    this.api.updateStatus(GV, 'InferenceService', this.namespace, this.name, (o) => (o.status.observedGeneration = generation));
  }

  // ---------------------------------------------------------------- Knative

  /** A new revision for the current spec: latest created, pods initialising, Ready Unknown while the old one serves. */
  createRevision(): string {
    this.revisions++;
    const revision = this.revision;
    const uri = this.storageUri();
    for (let i = 0; i < this.replicas; i++) this.api.create(this.pod(`${revision}-deployment-${this.hash()}-${this.suffix()}`, { 'serving.knative.dev/revision': revision, 'serving.knative.dev/service': `${this.name}-predictor`, app: revision }, uri));
    this.api.updateStatus(GV, 'InferenceService', this.namespace, this.name, (o) => {
      const first = !o.status;
      o.status ??= {};
      // The Knative Service's counter, not the InferenceService's generation.
      o.status.observedGeneration = this.revisions;
      o.status.deploymentMode = 'Serverless';
      const predictor = (o.status.components ??= {}).predictor ?? {};
      o.status.components.predictor = { ...predictor, latestCreatedRevision: revision };
      o.status.conditions = this.conditions(first ? { Ready: 'False', PredictorReady: 'False' } : { Ready: 'Unknown', PredictorReady: 'Unknown', PredictorConfigurationReady: 'Unknown', LatestDeploymentReady: 'Unknown' }, o.status.conditions, 'RevisionMissing');
      o.status.modelStatus = { ...(o.status.modelStatus ?? {}), transitionStatus: 'InProgress', states: { activeModelState: first ? 'Pending' : 'Loaded', targetModelState: 'Loading' }, copies: { failedCopies: 0, totalCopies: this.replicas } };
    });
    return revision;
  }

  /** The pods of the latest revision (Knative) or of the new ReplicaSet (Standard) are Running and Ready. */
  podsReady(): void {
    for (const pod of this.currentPods()) this.api.updateStatus('v1', 'Pod', this.namespace, pod.metadata.name, (p) => (p.status = this.runningStatus()));
  }

  /** The latest created revision is the latest ready: traffic moves to it (or its canary share), the old pods go. */
  revisionReady(): void {
    const revision = this.revision;
    this.api.updateStatus(GV, 'InferenceService', this.namespace, this.name, (o) => {
      const predictor = o.status.components.predictor;
      const canary = o.spec.predictor.canaryTrafficPercent as number | undefined;
      const previous = predictor.latestRolledoutRevision as string | undefined;
      const split = canary !== undefined && previous && previous !== revision && canary < 100;
      predictor.latestReadyRevision = revision;
      predictor.traffic = split
        ? [
            { revisionName: revision, latestRevision: true, percent: canary, tag: 'latest', url: this.url },
            { revisionName: previous, latestRevision: false, percent: 100 - canary, tag: 'prev' },
          ]
        : [{ revisionName: revision, latestRevision: true, percent: 100 }];
      if (!split) {
        if (previous && previous !== revision) predictor.previousRolledoutRevision = previous;
        predictor.latestRolledoutRevision = revision;
      }
      predictor.url = this.url;
      o.status.url = this.url;
      o.status.address = { url: `http://${this.name}-predictor.${this.namespace}.svc.cluster.local` };
      o.status.conditions = this.conditions({ Ready: 'True', PredictorReady: 'True', IngressReady: 'True', PredictorConfigurationReady: 'True', PredictorRouteReady: 'True', LatestDeploymentReady: 'True', RoutesReady: 'True' }, o.status.conditions);
      o.status.modelStatus = { transitionStatus: 'UpToDate', states: { activeModelState: 'Loaded', targetModelState: 'Loaded' }, copies: { failedCopies: 0, totalCopies: this.replicas } };
    });
    const canary = this.isvc().spec.predictor.canaryTrafficPercent;
    const keep = this.isvc().status.components.predictor.traffic.map((t: Obj) => t.revisionName);
    if (canary === undefined || keep.length === 1) for (const pod of this.podsNotOf(revision)) this.api.remove('v1', 'Pod', this.namespace, pod.metadata.name);
  }

  // ---------------------------------------------------------------- Standard

  private deploymentObject(storageUri: string): Obj {
    const app = `isvc.${this.name}-predictor`;
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `${this.name}-predictor`, namespace: this.namespace, labels: { [ISVC_LABEL]: this.name, component: 'predictor', app } },
      spec: {
        replicas: this.replicas,
        selector: { matchLabels: { app } },
        template: {
          metadata: { labels: { app, [ISVC_LABEL]: this.name, component: 'predictor' }, annotations: { [SOURCE]: storageUri } },
          spec: { containers: [{ name: 'kserve-container', image: 'nvcr.io/nvidia/tritonserver:24.08-py3' }] },
        },
      },
    };
  }

  /** KServe rewrites the predictor Deployment for the new spec: its generation moves, the controller has not observed it. */
  rollDeployment(): void {
    const uri = this.storageUri();
    this.api.update('apps/v1', 'Deployment', this.namespace, `${this.name}-predictor`, (d) => (d.spec.template.metadata.annotations[SOURCE] = uri));
    this.api.updateStatus(GV, 'InferenceService', this.namespace, this.name, (o) => {
      o.status.conditions = this.conditions({ PredictorReady: 'Unknown', Ready: 'Unknown' }, o.status.conditions, 'ReplicaSetUpdated');
      o.status.modelStatus = { ...o.status.modelStatus, transitionStatus: 'InProgress', states: { activeModelState: 'Loaded', targetModelState: 'Loading' } };
    });
  }

  /** The Deployment controller observes the generation and starts the new ReplicaSet's pods. */
  deploymentObserved(): void {
    const deployment = this.api.get('apps/v1', 'Deployment', this.namespace, `${this.name}-predictor`) as Obj;
    const uri = deployment.spec.template.metadata.annotations[SOURCE];
    const hash = this.hash();
    for (let i = 0; i < this.replicas; i++) this.api.create(this.pod(`${this.name}-predictor-${hash}-${this.suffix()}`, { app: `isvc.${this.name}-predictor`, 'pod-template-hash': hash }, uri));
    this.api.updateStatus('apps/v1', 'Deployment', this.namespace, deployment.metadata.name, (d) => {
      const old = this.podsOf((p) => p.metadata.labels['pod-template-hash'] !== hash).length;
      d.status = {
        observedGeneration: d.metadata.generation,
        replicas: old + this.replicas,
        updatedReplicas: 0,
        readyReplicas: old,
        availableReplicas: old,
        ...(old > 0 ? {} : { unavailableReplicas: this.replicas }),
        conditions: [
          { type: 'Available', status: old > 0 ? 'True' : 'False', reason: old > 0 ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable' },
          { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${this.name}-predictor-${hash}" is progressing.` },
        ],
      };
    });
  }

  /** The new ReplicaSet's pods are ready, the old ones are gone, the Deployment and the InferenceService say so. */
  newPodsReady(): void {
    const deployment = this.api.get('apps/v1', 'Deployment', this.namespace, `${this.name}-predictor`) as Obj;
    const newest = this.podsOf(() => true).map((p) => p.metadata.labels['pod-template-hash']).at(-1);
    for (const pod of this.podsOf((p) => p.metadata.labels['pod-template-hash'] === newest)) this.api.updateStatus('v1', 'Pod', this.namespace, pod.metadata.name, (p) => (p.status = this.runningStatus()));
    for (const pod of this.podsOf((p) => p.metadata.labels['pod-template-hash'] !== newest)) this.api.remove('v1', 'Pod', this.namespace, pod.metadata.name);
    const observed = deployment.metadata.generation;
    this.api.updateStatus('apps/v1', 'Deployment', this.namespace, deployment.metadata.name, (d) => {
      d.status = {
        observedGeneration: observed,
        replicas: this.replicas,
        updatedReplicas: this.replicas,
        readyReplicas: this.replicas,
        availableReplicas: this.replicas,
        conditions: [
          { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
          { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${this.name}-predictor-${newest}" has successfully progressed.` },
        ],
      };
    });
    this.api.updateStatus(GV, 'InferenceService', this.namespace, this.name, (o) => {
      o.status ??= {};
      // The Deployment's counter, not the InferenceService's (kserve#6081).
      o.status.observedGeneration = observed;
      o.status.deploymentMode = 'Standard';
      o.status.url = this.url;
      o.status.address = { url: `http://${this.name}-predictor.${this.namespace}.svc.cluster.local` };
      o.status.components = { predictor: { url: this.url } };
      o.status.conditions = this.conditions({ IngressReady: 'True', PredictorReady: 'True', Ready: 'True' }, o.status.conditions);
      o.status.modelStatus = { transitionStatus: 'UpToDate', states: { activeModelState: 'Loaded', targetModelState: 'Loaded' }, copies: { failedCopies: 0, totalCopies: this.replicas } };
    });
  }

  // ---------------------------------------------------------------- failures

  /** The storage initializer of the new pods cannot load the model: it crash-loops and KServe says FailedToLoad. */
  failToLoad(message: string, exitCode = 1): void {
    const pods = this.currentPods();
    for (const pod of pods) {
      this.api.updateStatus('v1', 'Pod', this.namespace, pod.metadata.name, (p) => {
        p.status = {
          phase: 'Pending',
          conditions: [{ type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized' }, { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
          initContainerStatuses: [
            {
              name: 'storage-initializer',
              ready: false,
              restartCount: 3,
              image: 'kserve/storage-initializer:v0.20.0',
              imageID: '',
              state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 40s restarting failed container=storage-initializer pod=${pod.metadata.name}` } },
              lastState: { terminated: { exitCode, reason: 'Error', message } },
            },
          ],
          containerStatuses: this.containerNames().map((name) => ({ name, ready: false, restartCount: 0, image: 'nvcr.io/nvidia/tritonserver:24.08-py3', imageID: '', state: { waiting: { reason: 'PodInitializing' } } })),
        };
      });
    }
    this.api.updateStatus(GV, 'InferenceService', this.namespace, this.name, (o) => {
      o.status.modelStatus = {
        transitionStatus: 'BlockedByFailedLoad',
        states: { activeModelState: this.mode === 'Knative' ? 'Loaded' : 'Pending', targetModelState: 'FailedToLoad' },
        lastFailureInfo: { location: pods[0]?.metadata.name, reason: 'ModelLoadFailed', message, exitCode, ...(this.mode === 'Knative' ? { modelRevisionName: this.revision } : {}), time: this.time() },
        copies: { failedCopies: this.replicas, totalCopies: this.replicas },
      };
    });
  }

  /** The model server container of the new pods crash-loops (KServe has said nothing yet). */
  crashLoop(message: string): void {
    for (const pod of this.currentPods()) {
      this.api.updateStatus('v1', 'Pod', this.namespace, pod.metadata.name, (p) => {
        p.status = this.runningStatus();
        p.status.conditions = [{ type: 'Initialized', status: 'True' }, { type: 'ContainersReady', status: 'False' }, { type: 'Ready', status: 'False' }];
        p.status.containerStatuses[0] = {
          ...p.status.containerStatuses[0],
          ready: false,
          restartCount: 4,
          state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 1m20s restarting failed container=kserve-container pod=${pod.metadata.name}` } },
          lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
        };
      });
    }
  }

  // ---------------------------------------------------------------- objects

  /** Pods of the latest revision (Knative) or the newest ReplicaSet (Standard). */
  currentPods(): Obj[] {
    if (this.mode === 'Knative') return this.podsOf((p) => p.metadata.labels['serving.knative.dev/revision'] === this.revision);
    const newest = this.podsOf(() => true).map((p) => p.metadata.labels['pod-template-hash']).at(-1);
    return this.podsOf((p) => p.metadata.labels['pod-template-hash'] === newest);
  }

  private podsNotOf(revision: string): Obj[] {
    return this.podsOf((p) => p.metadata.labels['serving.knative.dev/revision'] !== revision);
  }

  private podsOf(filter: (pod: Obj) => boolean): Obj[] {
    return this.api
      .list('v1', 'Pod', this.namespace)
      .filter((p) => p.metadata.labels?.[ISVC_LABEL] === this.name)
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
      .filter(filter);
  }

  private containerNames(): string[] {
    return this.mode === 'Knative' ? ['kserve-container', 'queue-proxy'] : ['kserve-container'];
  }

  private pod(name: string, labels: Record<string, string>, storageUri: string): Obj {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: this.namespace, labels: { [ISVC_LABEL]: this.name, component: 'predictor', ...labels }, annotations: { [SOURCE]: storageUri } },
      spec: {
        initContainers: [{ name: 'storage-initializer', image: 'kserve/storage-initializer:v0.20.0', args: [storageUri, '/mnt/models'] }],
        containers: this.containerNames().map((c) => ({ name: c, image: c === 'queue-proxy' ? 'gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1.16' : 'nvcr.io/nvidia/tritonserver:24.08-py3' })),
      },
    };
  }

  private runningStatus(): Obj {
    const at = this.time();
    return {
      phase: 'Running',
      conditions: ['Initialized', 'ContainersReady', 'Ready', 'PodScheduled'].map((type) => ({ type, status: 'True', lastTransitionTime: at })),
      initContainerStatuses: [{ name: 'storage-initializer', ready: true, restartCount: 0, image: 'kserve/storage-initializer:v0.20.0', imageID: '', state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
      containerStatuses: this.containerNames().map((name) => ({ name, ready: true, restartCount: 0, image: 'nvcr.io/nvidia/tritonserver:24.08-py3', imageID: '', state: { running: { startedAt: at } } })),
    };
  }

  private conditions(set: Record<string, string>, existing: Obj[] | undefined, reason?: string): Obj[] {
    const at = this.time();
    const byType = new Map<string, Obj>((existing ?? []).map((c) => [c.type, c]));
    for (const [type, status] of Object.entries(set)) byType.set(type, { type, status, lastTransitionTime: at, ...(status !== 'True' && reason ? { reason } : {}) });
    return [...byType.values()].sort((a, b) => a.type.localeCompare(b.type));
  }

  private hash(): string {
    return (0x5d4f8c7b + ++this.hashes * 7919).toString(36).slice(0, 9).replace(/[^a-z0-9]/g, 'x');
  }

  private suffix(): string {
    return `p${(++this.podNumber).toString(36).padStart(4, '0')}`;
  }
}

/**
 * A scripted ArgoCD application controller for the Kubernetes API stand-in. ArgoCD's operation reconciler and
 * its health reconciler are separate (akuity/kargo#2196, argo-cd#23578): right after a sync, `status.sync` says
 * Synced at the new revision while `status.health` is still what the previous reconcile saw, with a
 * `reconciledAt` older than `operationState.finishedAt`. The test calls the steps:
 * `seed()` (synced and healthy at a revision), `startSync()` (OutOfSync, operation Running), `finishSync()`
 * (Synced, operation Succeeded, health left stale), `reconcile(health)` (health and reconciledAt now), and
 * `answerRefreshes(health)`: from then on, setting `argocd.argoproj.io/refresh` on the Application makes the
 * controller reconcile with that health and remove the annotation, as ArgoCD does.
 */
import type { KubeApi, Obj } from './kube-api.ts';

const GV = 'argoproj.io/v1alpha1';
const REFRESH = 'argocd.argoproj.io/refresh';

export class ArgoCDScript {
  readonly api: KubeApi;
  readonly namespace: string;
  readonly name: string;
  /** Refresh requests the controller answered. */
  refreshes = 0;
  private clock = Date.parse('2026-11-22T10:00:00Z');
  private unsubscribe: (() => void) | undefined;

  constructor(api: KubeApi, options: { namespace?: string; name: string; destinationNamespace: string }) {
    this.api = api;
    this.namespace = options.namespace ?? 'argocd';
    this.name = options.name;
    this.api.create({
      apiVersion: GV,
      kind: 'Application',
      metadata: { name: this.name, namespace: this.namespace },
      spec: {
        project: 'default',
        source: { repoURL: 'https://github.com/acme/gitops.git', path: 'overlays/production', targetRevision: 'main' },
        destination: { server: 'https://kubernetes.default.svc', namespace: options.destinationNamespace },
        syncPolicy: { automated: { prune: true, selfHeal: true } },
      },
    });
  }

  private time(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString().replace(/\.\d+Z$/, 'Z');
  }

  application(): Obj {
    return this.api.get(GV, 'Application', this.namespace, this.name) as Obj;
  }

  private write(mutate: (status: Obj) => void): void {
    this.api.updateStatus(GV, 'Application', this.namespace, this.name, (o) => {
      o.status ??= {};
      mutate(o.status);
    });
  }

  /** Synced and Healthy at `revision`, reconciled after the sync finished. */
  seed(revision: string): void {
    const started = this.time();
    const finished = this.time();
    const reconciled = this.time();
    this.write((s) => {
      s.sync = { status: 'Synced', revision, comparedTo: { source: { repoURL: 'https://github.com/acme/gitops.git', path: 'overlays/production', targetRevision: 'main' }, destination: { server: 'https://kubernetes.default.svc' } } };
      s.health = { status: 'Healthy', lastTransitionTime: reconciled };
      s.operationState = { phase: 'Succeeded', message: 'successfully synced (all tasks run)', startedAt: started, finishedAt: finished, operation: { sync: { revision } }, syncResult: { revision } };
      s.reconciledAt = reconciled;
    });
  }

  /** The new commit is seen: OutOfSync, and the automated sync's operation is Running. */
  startSync(revision: string): void {
    const started = this.time();
    this.write((s) => {
      s.sync = { ...s.sync, status: 'OutOfSync', revision };
      s.operationState = { phase: 'Running', message: 'one or more tasks are running', startedAt: started, operation: { sync: { revision } } };
    });
  }

  /** The sync succeeded; the health reconciler has not run since, so health and reconciledAt are stale. */
  finishSync(revision: string): void {
    const finished = this.time();
    this.write((s) => {
      s.sync = { ...s.sync, status: 'Synced', revision };
      s.operationState = { ...s.operationState, phase: 'Succeeded', message: 'successfully synced (all tasks run)', finishedAt: finished, syncResult: { revision } };
    });
  }

  /** The health reconciler runs now. */
  reconcile(health: string, message?: string): void {
    const at = this.time();
    this.write((s) => {
      s.health = { status: health, ...(message ? { message } : {}), lastTransitionTime: at };
      s.reconciledAt = at;
    });
  }

  /** Reconciles with `health()` whenever the refresh annotation is set, then removes the annotation. */
  answerRefreshes(health: () => string): void {
    this.unsubscribe?.();
    this.unsubscribe = this.api.onChange((change) => {
      if (change.object.kind !== 'Application' || change.object.metadata.name !== this.name) return;
      if (!change.object.metadata.annotations?.[REFRESH] || change.old?.metadata.annotations?.[REFRESH]) return;
      // After the write that set it, as the controller's next loop would.
      queueMicrotask(() => {
        if (!this.application().metadata.annotations?.[REFRESH]) return;
        this.refreshes++;
        this.reconcile(health());
        this.api.update(GV, 'Application', this.namespace, this.name, (o) => delete o.metadata.annotations[REFRESH]);
      });
    });
  }

  stop(): void {
    this.unsubscribe?.();
  }
}

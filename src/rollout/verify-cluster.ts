import { Applications, Deployments, InferenceServices, Pods } from '../kube/resources.ts';
import { REFRESH_ANNOTATION, type Application } from '../kube/argocd.ts';
import type { KubeClient } from '../kube/client.ts';
import { KubeApiError } from '../kube/errors.ts';
import { ISVC_LABEL, type InferenceService } from '../kube/kserve.ts';
import { Reflector, type ReflectorEvent } from '../kube/reflector.ts';
import type { Deployment, KubeObject, Pod } from '../kube/types.ts';
import { silentLogger, type Logger } from '../log.ts';
import { checkApplication } from './argocd-check.ts';
import { allOk, firstFailing, type Check, type ClusterVerdict } from './check.ts';
import { probeEndpoint, type EndpointExpectation, type Probe, type Protocol } from './endpoint.ts';
import { checkInferenceService } from './isvc-check.ts';
import type { RolloutOutcome } from './outcome.ts';
import { Timeline } from './timeline.ts';

export interface ClusterRolloutSettings {
  namespace: string;
  /** The InferenceService, which is also the model's name on its endpoint. */
  name: string;
  storageUri: string;
  /** Check this ArgoCD Application too. */
  application?: { namespace: string; name: string; revision: string };
  /** The endpoint to smoke-test; default the InferenceService's status.url. */
  endpoint?: string;
  /** Default: what the spec's `protocolVersion` says (v1 when it says nothing, as KServe). */
  protocol?: Protocol;
  timeoutMs: number;
  endpointExpectation: Omit<EndpointExpectation, 'requireVersion'>;
  tuning?: ClusterTuning;
}

export interface ClusterTuning {
  /** A watch silent this long is re-listed (default 30 s). */
  stallMs?: number;
  /** First wait after a failed list or watch (default 250 ms, doubling to 10 s). */
  backoffMs?: number;
  /** Between endpoint probes while the cluster checks hold (default 2 s). */
  probeIntervalMs?: number;
  /** Per endpoint request (default 10 s). */
  probeTimeoutMs?: number;
}

export interface ClusterRolloutDeps {
  client: KubeClient;
  logger?: Logger;
  now?: () => number;
  fetch?: typeof fetch;
  /** Stops the check before a verdict (SIGINT, SIGTERM): it then throws. */
  signal?: AbortSignal;
}

/** The endpoint answered nothing at all by the deadline while the cluster said it serves: exit 3, not a verdict. */
export class EndpointUnreachableError extends Error {
  override name = 'EndpointUnreachableError';
}

/**
 * Watches the InferenceService, its pods and predictor Deployments, and the ArgoCD Application, and decides
 * each time any of them changes, from one consistent snapshot, whether every check holds; when the cluster
 * checks hold it probes the endpoint, and `serving` needs the cluster checks to hold again once the probe has
 * answered. KServe's and the kubelet's failure states end it at once (`failed`); the deadline ends it with
 * `timeout` and the first check that did not hold. Watches re-list on 410, stalls and errors within the deadline.
 */
export async function verifyCluster(settings: ClusterRolloutSettings, deps: ClusterRolloutDeps): Promise<RolloutOutcome> {
  const logger = deps.logger ?? silentLogger;
  const now = deps.now ?? Date.now;
  const started = now();
  const timeline = new Timeline(started, now);
  const tuning = settings.tuning ?? {};
  const controller = new AbortController();
  const reflectorOptions = { stallMs: tuning.stallMs ?? 30_000, backoff: { initialMs: tuning.backoffMs ?? 250, maxMs: 10_000 }, logger };
  const isvcs = new Reflector<InferenceService>(deps.client, InferenceServices, { ...reflectorOptions, namespace: settings.namespace, fieldSelector: `metadata.name=${settings.name}` });
  const pods = new Reflector<Pod>(deps.client, Pods, { ...reflectorOptions, namespace: settings.namespace, labelSelector: `${ISVC_LABEL}=${settings.name}` });
  const deployments = new Reflector<Deployment>(deps.client, Deployments, { ...reflectorOptions, namespace: settings.namespace, labelSelector: `${ISVC_LABEL}=${settings.name}` });
  const app = settings.application;
  const apps = app ? new Reflector<Application>(deps.client, Applications, { ...reflectorOptions, namespace: app.namespace, fieldSelector: `metadata.name=${app.name}` }) : undefined;
  const reflectors: Reflector<KubeObject>[] = [isvcs, pods, deployments, ...(apps ? [apps] : [])] as Reflector<KubeObject>[];

  let settle!: (outcome: RolloutOutcome | Error) => void;
  const finished = new Promise<RolloutOutcome | Error>((resolve) => (settle = resolve));
  let done = false;
  let lastCluster: ClusterVerdict = { checks: [] };
  const waiting: Check[] = [
    { name: 'endpoint', ok: false, detail: 'waiting for the cluster checks' },
    { name: 'inference', ok: false, detail: 'waiting for the cluster checks' },
  ];
  let endpointChecks: Check[] = waiting;
  let lastProbe: Probe | undefined;
  let reachedOnce = false;
  let probing = false;
  let probeTimer: NodeJS.Timeout | undefined;
  let refreshedFor: string | undefined;
  let scheduled = false;

  const finish = (outcome: RolloutOutcome | Error) => {
    if (done) return;
    done = true;
    clearTimeout(probeTimer);
    controller.abort();
    settle(outcome);
  };
  const outcome = (status: RolloutOutcome['status'], reason: string): RolloutOutcome => ({
    status,
    reason,
    revision: lastCluster.revision,
    checks: [...lastCluster.checks, ...endpointChecks],
    timeline: timeline.entries(),
    seconds: (now() - started) / 1000,
  });

  const verdict = (): ClusterVerdict => {
    const argocd = app && apps ? checkApplication(apps.get(app.name), app) : { checks: [] };
    const isvc = checkInferenceService({ isvc: isvcs.get(settings.name), pods: pods.items(), deployments: deployments.items() }, settings);
    return {
      checks: [...argocd.checks, ...isvc.checks],
      ...(isvc.failure ? { failure: isvc.failure } : {}),
      ...('refresh' in argocd && argocd.refresh ? { refresh: argocd.refresh } : {}),
      ...(isvc.revision ? { revision: isvc.revision } : {}),
      ...(isvc.url ? { url: isvc.url } : {}),
    };
  };

  const evaluate = () => {
    scheduled = false;
    if (done || !reflectors.every((r) => r.synced)) return;
    lastCluster = verdict();
    timeline.checks(lastCluster.checks);
    if (lastCluster.failure) {
      timeline.add('rollout', `failed: ${lastCluster.failure}`);
      return finish(outcome('failed', lastCluster.failure));
    }
    if (lastCluster.refresh && lastCluster.refresh !== refreshedFor && app) {
      refreshedFor = lastCluster.refresh;
      void requestRefresh(app);
    }
    if (allOk(lastCluster.checks)) {
      if (!probing && !probeTimer) void probe();
    } else if (endpointChecks !== waiting) {
      endpointChecks = waiting;
      clearTimeout(probeTimer);
      probeTimer = undefined;
    }
  };
  const schedule = () => {
    if (scheduled || done) return;
    scheduled = true;
    queueMicrotask(evaluate);
  };

  const requestRefresh = async (target: NonNullable<typeof app>) => {
    timeline.add(`Application ${target.namespace}/${target.name}`, `health older than the sync: asked ArgoCD for a refresh (${REFRESH_ANNOTATION}: normal)`);
    try {
      await deps.client.patch(Applications, target.namespace, target.name, { metadata: { annotations: { [REFRESH_ANNOTATION]: 'normal' } } }, { type: 'merge', signal: controller.signal });
    } catch (error) {
      if (done) return;
      logger.warning(`could not ask ArgoCD to refresh ${target.namespace}/${target.name} (${(error as Error).message}); waiting for its next reconcile. Grant "patch" on applications.argoproj.io to refresh at once.`);
    }
  };

  const probe = async () => {
    probeTimer = undefined;
    const url = settings.endpoint ?? lastCluster.url;
    if (!url) {
      endpointChecks = [{ name: 'endpoint', ok: false, detail: 'the InferenceService reports no status.url: give the endpoint' }, waiting[1] as Check];
      timeline.checks(endpointChecks);
      probeTimer = setTimeout(() => void probe(), tuning.probeIntervalMs ?? 2000);
      return;
    }
    probing = true;
    try {
      lastProbe = await probeEndpoint(
        { url, model: settings.name, protocol: settings.protocol ?? protocolOf(isvcs.get(settings.name)) },
        { ...settings.endpointExpectation, requireVersion: false },
        { fetch: deps.fetch, timeoutMs: tuning.probeTimeoutMs ?? 10_000, signal: controller.signal },
      );
    } catch (error) {
      if (!done) finish(error as Error);
      return;
    } finally {
      probing = false;
    }
    if (done) return;
    reachedOnce ||= lastProbe.reached;
    endpointChecks = lastProbe.reached ? lastProbe.checks : [{ name: 'endpoint', ok: false, detail: `cannot reach ${url}: ${lastProbe.error}` }, waiting[1] as Check];
    timeline.checks(endpointChecks);
    // Everything at the same moment: the cluster again, now that the endpoint has answered.
    lastCluster = verdict();
    timeline.checks(lastCluster.checks);
    if (allOk(endpointChecks) && allOk(lastCluster.checks) && !lastCluster.failure) {
      const reason = `${settings.name} serves ${settings.storageUri}${lastCluster.revision ? ` (${lastCluster.revision})` : ''}: ${endpointChecks.find((c) => c.name === 'inference')?.detail}`;
      timeline.add('rollout', 'serving');
      return finish(outcome('serving', reason));
    }
    if (allOk(lastCluster.checks)) probeTimer = setTimeout(() => void probe(), tuning.probeIntervalMs ?? 2000);
    else schedule();
  };

  const observe = <T extends KubeObject>(reflector: Reflector<T>, record: (previous: T | undefined, next: T | undefined) => void) =>
    reflector.subscribe((event: ReflectorEvent<T>) => {
      if (event.type === 'RELISTED') timeline.add(`watch ${reflector.type.plural}`, `listed again after ${event.reason === 'expired' ? '410 Gone (Expired)' : event.reason === 'stalled' ? 'a stall' : 'an error'}: ${event.detail}`);
      else if (event.type !== 'SYNCED') record(event.previous, event.type === 'DELETED' ? undefined : event.object);
      schedule();
    });
  observe(isvcs, (p, n) => timeline.inferenceService(p, n));
  observe(pods, (p, n) => timeline.pod(p, n));
  observe(deployments, (p, n) => timeline.deployment(p, n));
  if (apps) observe(apps, (p, n) => timeline.application(p, n));

  const deadline = setTimeout(() => {
    if (done) return;
    const checks = [...lastCluster.checks, ...endpointChecks];
    if (!reflectors.every((r) => r.synced)) return finish(new Error(`the Kubernetes API did not answer the first list within ${settings.timeoutMs / 1000} s`));
    if (allOk(lastCluster.checks) && lastProbe && !lastProbe.reached && !reachedOnce) {
      return finish(new EndpointUnreachableError(`the cluster serves ${settings.storageUri}, but the endpoint never answered: ${lastProbe.error}`));
    }
    const reason = `not serving after ${formatSeconds(settings.timeoutMs)}: ${firstFailing(checks) ?? 'the checks did not all hold at once'}`;
    timeline.add('rollout', 'timed out');
    finish(outcome('timeout', reason));
  }, settings.timeoutMs);

  const stop = () => finish(new Error('the rollout check was stopped before a verdict'));
  if (deps.signal?.aborted) stop();
  deps.signal?.addEventListener('abort', stop, { once: true });
  const runs = reflectors.map((r) =>
    r.run(controller.signal).catch((error: unknown) => {
      finish(explain(error, r.type.plural));
    }),
  );
  const result = await finished;
  deps.signal?.removeEventListener('abort', stop);
  clearTimeout(deadline);
  controller.abort();
  await Promise.all(runs);
  if (result instanceof Error) throw result;
  return result;
}

/** KServe's predictors speak v1 unless the spec asks for v2 (`protocolVersion: v2` or `grpc-v2`). */
function protocolOf(isvc: InferenceService | undefined): Protocol {
  const version = isvc?.spec?.predictor?.model?.protocolVersion;
  return version === 'v2' || version === 'grpc-v2' ? 'v2' : 'v1';
}

function explain(error: unknown, plural: string): Error {
  if (error instanceof KubeApiError && error.status === 404 && plural === 'inferenceservices') {
    return new Error(`${error.message}: the cluster does not serve serving.kserve.io/v1beta1 InferenceServices (is KServe installed?)`);
  }
  if (error instanceof KubeApiError && error.status === 404 && plural === 'applications') {
    return new Error(`${error.message}: the cluster does not serve argoproj.io/v1alpha1 Applications here (is ArgoCD installed, and is argocd-namespace right?)`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  if (s >= 60 && s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

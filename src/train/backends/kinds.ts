import { UsageError } from '../../errors.ts';
import { loadKubeConfig } from '../../kube/config.ts';
import { KubeClient } from '../../kube/client.ts';
import { Jobs, resourceType } from '../../kube/resources.ts';
import type { Condition, KubeObject, Pod } from '../../kube/types.ts';
import { clusterBackend, type ClusterDeps, type ClusterKind } from './cluster.ts';
import { CONTAINER, TRAINJOB_CONTAINER, TRAINJOB_REPLICATED_JOB, buildJob, buildTrainJob } from './manifests.ts';
import { runId } from './names.ts';
import { s3OutputStore } from './outputs.ts';
import type { RemoteSettings } from './settings.ts';
import type { TrainBackend } from './types.ts';

export const TrainJobs = resourceType('trainer.kubeflow.org/v1alpha1', 'TrainJob', 'trainjobs');
export const ClusterTrainingRuntimes = resourceType('trainer.kubeflow.org/v1alpha1', 'ClusterTrainingRuntime', 'clustertrainingruntimes', false);

const conditionTrue = (object: KubeObject, type: string): Condition | undefined =>
  ((object as { status?: { conditions?: Condition[] } }).status?.conditions ?? []).find((c) => c.type === type && c.status === 'True');

/** batch/v1 Job: `Complete` or `Failed` (BackoffLimitExceeded, DeadlineExceeded, …); pods carry `job-name`. */
export const jobKind: ClusterKind = {
  backend: 'kubernetes',
  type: Jobs,
  build: buildJob,
  outcome(object) {
    if (conditionTrue(object, 'Complete')) return { state: 'complete' };
    const failed = conditionTrue(object, 'Failed');
    return failed ? { state: 'failed', reason: failed.reason ?? 'Failed', message: failed.message ?? '' } : undefined;
  },
  podSelector: (name) => `job-name=${name}`,
  // backoffLimit 0 makes one pod; a pod replaced after a node loss is newer: follow the newest.
  primary: (pods) => newest(pods),
  container: CONTAINER,
};

/**
 * Kubeflow Trainer v2 TrainJob: `Complete`/`Failed` conditions (copied from its JobSet), pods selected by
 * `jobset.sigs.k8s.io/jobset-name`, and rank 0 is the `node` replicated job's job 0, completion index 0.
 */
export const trainJobKind: ClusterKind = {
  backend: 'kubeflow',
  type: TrainJobs,
  build: buildTrainJob,
  outcome(object) {
    if (conditionTrue(object, 'Complete')) return { state: 'complete' };
    const failed = conditionTrue(object, 'Failed');
    return failed ? { state: 'failed', reason: failed.reason ?? 'Failed', message: failed.message ?? '' } : undefined;
  },
  podSelector: (name) => `jobset.sigs.k8s.io/jobset-name=${name}`,
  primary: (pods) =>
    newest(
      pods.filter((p) => {
        const labels = p.metadata.labels ?? {};
        const index = p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'] ?? labels['batch.kubernetes.io/job-completion-index'];
        return labels['jobset.sigs.k8s.io/replicatedjob-name'] === TRAINJOB_REPLICATED_JOB && labels['jobset.sigs.k8s.io/job-index'] === '0' && index === '0';
      }),
    ),
  container: TRAINJOB_CONTAINER,
  async preflight(client, run) {
    const runtime = await client.get(ClusterTrainingRuntimes, undefined, run.remote.runtime);
    if (!runtime) throw new UsageError(`runtime: ${JSON.stringify(run.remote.runtime)} is not a ClusterTrainingRuntime of this cluster: install it (Kubeflow Trainer's manifests/base/runtimes) or name one that exists`);
  },
};

function newest(pods: Pod[]): Pod | undefined {
  return [...pods].sort((a, b) => ((a.metadata.creationTimestamp ?? '') < (b.metadata.creationTimestamp ?? '') ? -1 : 1)).at(-1);
}

export interface BackendOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The CLI's --run-id; in Actions the run id and attempt. */
  runId?: string;
  /** Tests shorten the waits. */
  tuning?: Pick<ClusterDeps, 'pollMs' | 'reconnectMs' | 'stallMs' | 'graceMs' | 'signals'>;
}

/** The backend for `backend: kubernetes|kubeflow`: the kubeconfig (never the silent localhost fallback), the client, the output store. */
export function createBackend(remote: RemoteSettings, options: BackendOptions): TrainBackend {
  const loaded = loadKubeConfig({ ...(remote.kubeconfig && { kubeconfig: remote.kubeconfig }), env: options.env, cwd: options.cwd });
  const client = new KubeClient(loaded.config);
  const deps: ClusterDeps = {
    client,
    namespace: loaded.namespace ?? 'default',
    runId: runId(options.env, options.runId),
    env: options.env,
    outputs: (url) => s3OutputStore(url, { ...(remote.endpoint && { endpoint: remote.endpoint }) }),
    ...options.tuning,
  };
  return clusterBackend(remote.backend === 'kubeflow' ? trainJobKind : jobKind, remote, deps);
}

import type { TrainSettings } from '../train.ts';
import { ANNOTATIONS, LABELS, MANAGED_BY, labelValue } from './names.ts';
import type { EnvVar, RemoteSettings } from './settings.ts';

/** What both manifests are built from: the leg, its cluster settings, and where it runs. */
export interface RemoteRun {
  settings: TrainSettings;
  remote: RemoteSettings;
  name: string;
  namespace: string;
  runId: string;
  /** `<output-uri>/<name>/`: MLOPS_OUTPUT_URI. */
  outputUri: string;
  /** Provenance from the Actions environment (annotations). */
  source: { repository?: string; commit?: string; 'run-url'?: string };
}

/** A finished Job is deleted by Kubernetes this long after it ends; the leg has downloaded its outputs by then. */
export const TTL_SECONDS_AFTER_FINISHED = 24 * 3600;
export const CONTAINER = 'train';

export function labels(run: RemoteRun): Record<string, string> {
  return {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.runId]: labelValue(run.runId),
    [LABELS.model]: labelValue(run.settings.model),
    [LABELS.leg]: labelValue(run.settings.leg),
  };
}

function annotations(run: RemoteRun): Record<string, string> {
  return {
    [ANNOTATIONS.leg]: run.settings.leg,
    ...(run.source.repository && { [ANNOTATIONS.repository]: run.source.repository }),
    ...(run.source.commit && { [ANNOTATIONS.commit]: run.source.commit }),
    ...(run.source['run-url'] && { [ANNOTATIONS.runUrl]: run.source['run-url'] }),
  };
}

/** The program's environment in the pod: what a local leg gets (seeds, leg, paths, params) plus MLOPS_OUTPUT_URI, then the user's. */
export function containerEnv(run: RemoteRun): EnvVar[] {
  const { settings } = run;
  return [
    { name: 'MLOPS_SEED', value: String(settings.seed) },
    { name: 'PYTHONHASHSEED', value: String(settings.seed) },
    { name: 'MLOPS_LEG', value: settings.leg },
    { name: 'MLOPS_MODEL_DIR', value: settings.modelDir },
    { name: 'MLOPS_METRICS', value: settings.metrics },
    { name: 'MLOPS_OUTPUT_URI', value: run.outputUri },
    { name: 'MLOPS_RUN_ID', value: run.runId },
    ...(settings.params ? [{ name: 'MLOPS_PARAMS', value: JSON.stringify(settings.params) }] : []),
    ...run.remote.env,
  ];
}

function resources(run: RemoteRun): Record<string, Record<string, string>> {
  const { requests, limits } = run.remote.resources;
  return { ...(requests && { requests }), ...(limits && { limits }) };
}

function podPlacement(run: RemoteRun): Record<string, unknown> {
  const { remote } = run;
  return {
    ...(remote.serviceAccount && { serviceAccountName: remote.serviceAccount }),
    ...(Object.keys(remote.nodeSelector).length > 0 && { nodeSelector: remote.nodeSelector }),
    ...(remote.tolerations.length > 0 && { tolerations: remote.tolerations }),
  };
}

/**
 * One pod, no retry (`backoffLimit: 0`: a failed training is reported, not re-run behind the user's back),
 * the leg's timeout as `activeDeadlineSeconds`, cleaned up a day after it ends, and no ownerReference.
 */
export function buildJob(run: RemoteRun): Record<string, unknown> {
  const meta = { name: run.name, namespace: run.namespace, labels: labels(run), annotations: annotations(run) };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta,
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: Math.max(1, Math.ceil(run.settings.timeoutMs / 1000)),
      ttlSecondsAfterFinished: TTL_SECONDS_AFTER_FINISHED,
      template: {
        metadata: { labels: labels(run), annotations: annotations(run) },
        spec: {
          restartPolicy: 'Never',
          ...podPlacement(run),
          containers: [
            {
              name: CONTAINER,
              image: run.remote.image,
              command: run.settings.command,
              env: containerEnv(run),
              resources: resources(run),
              // The message the pod's status shows on failure: the program's /dev/termination-log, else its last log lines.
              terminationMessagePolicy: 'FallbackToLogsOnError',
            },
          ],
        },
      },
    },
  };
}

/** Kubeflow Trainer's replicated job and container that `spec.trainer` targets in the torch runtimes. */
export const TRAINJOB_REPLICATED_JOB = 'node';
export const TRAINJOB_CONTAINER = 'node';
export const RUNTIME_PATCH_MANAGER = 'mlops-actions.io/train';

/**
 * A Kubeflow Trainer v2 TrainJob on a ClusterTrainingRuntime: `spec.trainer` takes the image, the command
 * (argv), env, `numNodes` and `resourcesPerNode`; the service account, node selector and tolerations go
 * through a runtime patch on the `node` replicated job's pod template (the only place the API allows them).
 */
export function buildTrainJob(run: RemoteRun): Record<string, unknown> {
  const placement = podPlacement(run);
  return {
    apiVersion: 'trainer.kubeflow.org/v1alpha1',
    kind: 'TrainJob',
    metadata: { name: run.name, namespace: run.namespace, labels: labels(run), annotations: annotations(run) },
    spec: {
      runtimeRef: { name: run.remote.runtime },
      activeDeadlineSeconds: Math.max(1, Math.ceil(run.settings.timeoutMs / 1000)),
      trainer: {
        image: run.remote.image,
        command: run.settings.command,
        env: containerEnv(run),
        numNodes: run.remote.numNodes,
        resourcesPerNode: resources(run),
      },
      ...(Object.keys(placement).length > 0 && {
        runtimePatches: [
          {
            manager: RUNTIME_PATCH_MANAGER,
            trainingRuntimeSpec: {
              template: { spec: { replicatedJobs: [{ name: TRAINJOB_REPLICATED_JOB, template: { spec: { template: { spec: placement } } } }] } },
            },
          },
        ],
      }),
    },
  };
}

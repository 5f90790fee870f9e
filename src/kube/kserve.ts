import { FRAMEWORKS } from '../manifests/bump.ts';
import type { Condition, KubeObject } from './types.ts';

export interface TrafficTarget {
  revisionName?: string;
  /** Knative's "the latest ready revision". */
  latestRevision?: boolean;
  percent?: number;
  tag?: string;
  url?: string;
}

export interface ComponentStatus {
  latestCreatedRevision?: string;
  latestReadyRevision?: string;
  latestRolledoutRevision?: string;
  previousRolledoutRevision?: string;
  traffic?: TrafficTarget[];
  url?: string;
  restUrl?: string;
}

export interface ModelStatus {
  transitionStatus?: '' | 'UpToDate' | 'InProgress' | 'BlockedByFailedLoad' | 'InvalidSpec';
  states?: { activeModelState?: string; targetModelState?: string };
  lastFailureInfo?: { location?: string; reason?: string; message?: string; modelRevisionName?: string; time?: string; exitCode?: number };
  copies?: { failedCopies?: number; totalCopies?: number };
}

/** `serving.kserve.io/v1beta1` InferenceService: the fields rollout and canary read (pkg/apis/serving/v1beta1). */
export interface InferenceService extends KubeObject {
  spec?: {
    predictor?: {
      model?: { storageUri?: string; protocolVersion?: string; modelFormat?: { name?: string } };
      canaryTrafficPercent?: number;
      [framework: string]: unknown;
    };
    canary?: { predictor?: { name?: string }; trafficPercent?: number }[];
  };
  status?: {
    /** The child's counter, not this object's generation (kserve#6081): never compare it with metadata.generation. */
    observedGeneration?: number;
    url?: string;
    address?: { url?: string };
    conditions?: Condition[];
    components?: Record<string, ComponentStatus | undefined>;
    modelStatus?: ModelStatus;
    deploymentMode?: string;
  };
}

export type DeploymentMode = 'Knative' | 'Standard' | 'ModelMesh';

/** Pods of an InferenceService carry this label, and the storage initializer's source in the annotation below. */
export const ISVC_LABEL = 'serving.kserve.io/inferenceservice';
export const SOURCE_URI_ANNOTATION = 'internal.serving.kserve.io/storage-initializer-sourceuri';
export const KNATIVE_REVISION_LABEL = 'serving.knative.dev/revision';

/**
 * The mode KServe runs it in: `status.deploymentMode`, else the `serving.kserve.io/deploymentMode`
 * annotation, else KServe's default (Standard). The legacy names Serverless and RawDeployment are normalised.
 */
export function deploymentMode(isvc: InferenceService): DeploymentMode {
  const raw = isvc.status?.deploymentMode || isvc.metadata.annotations?.['serving.kserve.io/deploymentMode'] || 'Standard';
  if (raw === 'Serverless' || raw === 'Knative') return 'Knative';
  if (raw === 'ModelMesh') return 'ModelMesh';
  return 'Standard';
}

/** The predictor's storageUri, in the `model` form or a framework key. */
export function predictorStorageUri(isvc: InferenceService): string | undefined {
  const predictor = isvc.spec?.predictor;
  if (!predictor) return undefined;
  const uri = predictor.model?.storageUri ?? FRAMEWORKS.map((f) => (predictor[f] as { storageUri?: unknown } | undefined)?.storageUri).find((u) => typeof u === 'string');
  return typeof uri === 'string' ? uri : undefined;
}

export function findCondition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

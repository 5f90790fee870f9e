import type { Condition, KubeObject } from './types.ts';

/** `argoproj.io/v1alpha1` Application: the status fields rollout reads (pkg/apis/application/v1alpha1/types.go). */
export interface Application extends KubeObject {
  spec?: { project?: string; source?: { repoURL?: string; path?: string; targetRevision?: string } };
  status?: {
    sync?: { status?: 'Synced' | 'OutOfSync' | 'Unknown' | string; revision?: string; revisions?: string[] };
    health?: { status?: 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown' | string; message?: string; lastTransitionTime?: string };
    operationState?: {
      phase?: 'Running' | 'Terminating' | 'Failed' | 'Error' | 'Succeeded' | string;
      message?: string;
      startedAt?: string;
      finishedAt?: string;
      retryCount?: number;
      syncResult?: { revision?: string; revisions?: string[] };
    };
    /** When the controller last compared live state and health; older than operationState.finishedAt = stale health. */
    reconciledAt?: string;
    conditions?: Condition[];
  };
}

/** Setting it asks the controller to refresh the Application now; the controller removes it afterwards. */
export const REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh';

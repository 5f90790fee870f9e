import type { Check } from './check.ts';
import type { TimelineEntry } from './timeline.ts';

export type RolloutStatus = 'serving' | 'failed' | 'timeout';

/** What a verification concluded: the verdict, why, and the account of how. */
export interface RolloutOutcome {
  status: RolloutStatus;
  reason: string;
  /** What serves: the Knative revision, the Standard-mode ReplicaSet, or (endpoint only) the model version. */
  revision: string | undefined;
  checks: Check[];
  timeline: TimelineEntry[];
  seconds: number;
}

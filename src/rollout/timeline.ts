import type { Application } from '../kube/argocd.ts';
import { KNATIVE_REVISION_LABEL, predictorStorageUri, type InferenceService } from '../kube/kserve.ts';
import type { Condition, Deployment, Pod } from '../kube/types.ts';
import { short, type Check } from './check.ts';
import { podState, sourceUri } from './pods.ts';

export interface TimelineEntry {
  /** ISO time. */
  at: string;
  /** Seconds since the rollout check started. */
  seconds: number;
  /** `InferenceService ml/churn`, `pod churn-predictor-00002-…`, `check revision`, `watch pods`. */
  subject: string;
  change: string;
}

/**
 * What changed, when, in the objects the rollout watches and in its own checks: the job summary's and the
 * revert PR's account of what happened. Only transitions are kept (a status written again unchanged adds
 * nothing), up to `limit` entries (then the last one says how many were left out).
 */
export class Timeline {
  private readonly list: TimelineEntry[] = [];
  private dropped = 0;
  private readonly started: number;
  private readonly now: () => number;
  private readonly limit: number;
  private readonly checkState = new Map<string, boolean>();

  constructor(started: number, now: () => number = Date.now, limit = 400) {
    this.started = started;
    this.now = now;
    this.limit = limit;
  }

  entries(): TimelineEntry[] {
    return this.dropped > 0 ? [...this.list, { ...(this.list.at(-1) as TimelineEntry), subject: 'timeline', change: `${this.dropped} later change(s) left out` }] : [...this.list];
  }

  add(subject: string, change: string): void {
    if (this.list.length >= this.limit) {
      this.dropped++;
      return;
    }
    const t = this.now();
    this.list.push({ at: new Date(t).toISOString(), seconds: Math.round((t - this.started) / 100) / 10, subject, change });
  }

  /** Records the checks whose verdict changed (every check the first time it is seen failing or passing). */
  checks(checks: readonly Check[]): void {
    for (const check of checks) {
      if (this.checkState.get(check.name) === check.ok) continue;
      this.checkState.set(check.name, check.ok);
      this.add(`check ${check.name}`, `${check.ok ? 'holds' : 'does not hold'}: ${check.detail}`);
    }
  }

  inferenceService(previous: InferenceService | undefined, next: InferenceService | undefined): void {
    if (!next) {
      if (previous) this.add(subjectOf(previous), 'deleted');
      return;
    }
    const subject = subjectOf(next);
    const changes: string[] = [];
    if (previous?.metadata.generation !== next.metadata.generation) changes.push(`generation ${next.metadata.generation} serves ${predictorStorageUri(next) ?? 'no storageUri'}`);
    if (previous?.status?.observedGeneration !== next.status?.observedGeneration && next.status?.observedGeneration !== undefined) {
      changes.push(`status.observedGeneration ${next.status.observedGeneration} (the child's counter, not trusted)`);
    }
    changes.push(...conditionChanges(previous?.status?.conditions, next.status?.conditions));
    const p = previous?.status?.components?.predictor;
    const n = next.status?.components?.predictor;
    for (const field of ['latestCreatedRevision', 'latestReadyRevision', 'latestRolledoutRevision'] as const) {
      if (p?.[field] !== n?.[field] && n?.[field] !== undefined) changes.push(`${field} ${n[field]}`);
    }
    const traffic = (c: typeof n) => (c?.traffic ?? []).map((t) => `${t.revisionName ?? (t.latestRevision ? 'latest' : '?')} ${t.percent ?? 0}%${t.tag ? ` (${t.tag})` : ''}`).join(', ');
    if (traffic(p) !== traffic(n) && traffic(n)) changes.push(`traffic ${traffic(n)}`);
    const pm = previous?.status?.modelStatus;
    const nm = next.status?.modelStatus;
    if (pm?.transitionStatus !== nm?.transitionStatus && nm?.transitionStatus) changes.push(`transitionStatus ${nm.transitionStatus}`);
    if (pm?.states?.targetModelState !== nm?.states?.targetModelState && nm?.states?.targetModelState) changes.push(`targetModelState ${nm.states.targetModelState}`);
    const failure = (m: typeof nm) => (m?.lastFailureInfo ? `${m.lastFailureInfo.reason ?? ''}: ${m.lastFailureInfo.message ?? ''}` : '');
    if (failure(pm) !== failure(nm) && failure(nm)) changes.push(`lastFailureInfo ${failure(nm)}`);
    if (changes.length > 0) this.add(subject, changes.join('; '));
  }

  application(previous: Application | undefined, next: Application | undefined): void {
    if (!next) {
      if (previous) this.add(subjectOf(previous), 'deleted');
      return;
    }
    const p = previous?.status;
    const n = next.status;
    const changes: string[] = [];
    if (p?.sync?.status !== n?.sync?.status || p?.sync?.revision !== n?.sync?.revision) changes.push(`sync ${n?.sync?.status ?? 'unknown'} at ${short(n?.sync?.revision)}`);
    const op = (s: typeof n) => `${s?.operationState?.phase ?? ''} ${s?.operationState?.syncResult?.revision ?? ''}`;
    if (op(p) !== op(n) && n?.operationState?.phase) changes.push(`operation ${n.operationState.phase}${n.operationState.syncResult?.revision ? ` at ${short(n.operationState.syncResult.revision)}` : ''}${n.operationState.finishedAt ? `, finished ${n.operationState.finishedAt}` : ''}`);
    if (p?.health?.status !== n?.health?.status) changes.push(`health ${n?.health?.status ?? 'unknown'}${n?.health?.message ? ` (${n.health.message})` : ''}`);
    if (p?.reconciledAt !== n?.reconciledAt && n?.reconciledAt) changes.push(`reconciled at ${n.reconciledAt}`);
    if (changes.length > 0) this.add(subjectOf(next), changes.join('; '));
  }

  deployment(previous: Deployment | undefined, next: Deployment | undefined): void {
    if (!next) {
      if (previous) this.add(`Deployment ${previous.metadata.name}`, 'deleted');
      return;
    }
    const describe = (d: Deployment | undefined) =>
      d ? `generation ${d.metadata.generation ?? 0} (observed ${d.status?.observedGeneration ?? 0}): ${d.status?.updatedReplicas ?? 0} updated, ${d.status?.availableReplicas ?? 0} available of ${d.spec?.replicas ?? 1}` : '';
    if (describe(previous) !== describe(next)) this.add(`Deployment ${next.metadata.name}`, describe(next));
  }

  pod(previous: Pod | undefined, next: Pod | undefined): void {
    const pod = next ?? previous;
    if (!pod) return;
    const subject = `pod ${pod.metadata.name}`;
    if (!next) return this.add(subject, 'deleted');
    if (!previous) {
      const revision = next.metadata.labels?.[KNATIVE_REVISION_LABEL] ?? next.metadata.labels?.['pod-template-hash'];
      return this.add(subject, `${revision ? `${revision}, ` : ''}serves ${sourceUri(next) ?? 'no source URI'}; ${podState(next)}`);
    }
    if (podState(previous) !== podState(next)) this.add(subject, podState(next));
  }
}

function subjectOf(object: InferenceService | Application): string {
  return `${object.kind ?? 'object'} ${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

function conditionChanges(previous: Condition[] | undefined, next: Condition[] | undefined): string[] {
  const changes: string[] = [];
  for (const condition of next ?? []) {
    const before = previous?.find((c) => c.type === condition.type);
    if (before?.status === condition.status && before?.reason === condition.reason) continue;
    changes.push(`${condition.type} ${before ? `${before.status} → ` : ''}${condition.status}${condition.reason ? ` (${condition.reason})` : ''}`);
  }
  return changes;
}

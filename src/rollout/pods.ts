import { SOURCE_URI_ANNOTATION } from '../kube/kserve.ts';
import type { ContainerStatus, Pod } from '../kube/types.ts';

/** Container states that do not heal by waiting: the rollout fails at once with the kubelet's words. */
export const STUCK_REASONS = new Set(['ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'CrashLoopBackOff', 'CreateContainerConfigError']);

export function sourceUri(pod: Pod): string | undefined {
  return pod.metadata.annotations?.[SOURCE_URI_ANNOTATION];
}

export function isTerminating(pod: Pod): boolean {
  return Boolean(pod.metadata.deletionTimestamp) || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function matchesLabels(pod: Pod, labels: Record<string, string> | undefined): boolean {
  if (!labels || Object.keys(labels).length === 0) return false;
  return Object.entries(labels).every(([k, v]) => pod.metadata.labels?.[k] === v);
}

/** The first init or main container stuck in a state that needs a fix, described for the reason line. */
export function stuckContainer(pod: Pod): string | undefined {
  const statuses: [kind: string, ContainerStatus][] = [
    ...(pod.status?.initContainerStatuses ?? []).map((s) => ['init container', s] as [string, ContainerStatus]),
    ...(pod.status?.containerStatuses ?? []).map((s) => ['container', s] as [string, ContainerStatus]),
  ];
  for (const [kind, status] of statuses) {
    const waiting = status.state?.waiting;
    if (!waiting?.reason || !STUCK_REASONS.has(waiting.reason)) continue;
    const last = status.lastState?.terminated;
    const lastWords = last ? ` (last exit ${last.exitCode}${last.reason ? ` ${last.reason}` : ''}${last.message ? `: ${last.message.trim()}` : ''})` : '';
    return `pod ${pod.metadata.name}: ${kind} ${status.name} is in ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}${lastWords}`;
  }
  return undefined;
}

/** The pod's phase and readiness in a few words, for the timeline. */
export function podState(pod: Pod): string {
  if (pod.metadata.deletionTimestamp) return 'terminating';
  const waiting = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((s) => s.state?.waiting?.reason)?.state?.waiting?.reason;
  return [pod.status?.phase ?? 'Pending', isReady(pod) ? 'ready' : 'not ready', waiting].filter(Boolean).join(', ');
}

import type { Pod } from '../../kube/types.ts';

/** A Kubernetes Event, as far as the diagnosis reads it. */
export interface PodEvent {
  type?: string;
  reason?: string;
  message?: string;
  lastTimestamp?: string;
  eventTime?: string;
  metadata?: { creationTimestamp?: string };
}

/** Waiting reasons that will not fix themselves: report them now instead of waiting for the deadline. */
const FATAL_WAITING = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/**
 * Why a pod cannot run, or undefined while it may still: an image that cannot be pulled, a container that
 * cannot be created (a missing Secret or ConfigMap), or a pod no node can take (naming the resource that is
 * short). The newest Warning event's text is added, since the kubelet's own words are more exact. A pod
 * the cluster autoscaler is making room for (TriggeredScaleUp) is left to wait.
 */
export function podProblem(pod: Pod, events: readonly PodEvent[]): string | undefined {
  const name = pod.metadata.name;
  const warning = newest(events.filter((e) => e.type === 'Warning'));
  const eventText = (reasons: string[]) => {
    const e = newest(events.filter((x) => x.type === 'Warning' && reasons.includes(x.reason ?? '')));
    return e?.message ? `; event ${e.reason}: ${e.message}` : '';
  };
  for (const status of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const waiting = status.state?.waiting;
    if (waiting?.reason && FATAL_WAITING.has(waiting.reason)) {
      const image = status.image ? ` (image ${status.image})` : '';
      const extra = waiting.reason.startsWith('Create') || waiting.reason === 'RunContainerError' ? eventText(['Failed']) : eventText(['Failed', 'BackOff', 'InspectFailed']);
      return `pod ${name}: container ${status.name} ${waiting.reason}${image}${waiting.message ? `: ${waiting.message}` : ''}${extra}`;
    }
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    if (events.some((e) => e.reason === 'TriggeredScaleUp') && !events.some((e) => e.reason === 'NotTriggerScaleUp')) return undefined;
    const message = scheduled.message ?? warning?.message ?? '';
    return `pod ${name} cannot be scheduled: ${shortResources(message) ?? message}${message && shortResources(message) ? ` (scheduler: ${message})` : ''}`;
  }
  return undefined;
}

/**
 * "0/3 nodes are available: 3 Insufficient nvidia.com/gpu, 1 node(s) had untolerated taint …" →
 * "0/3 nodes have enough nvidia.com/gpu": the resources the scheduler found short, or undefined.
 */
export function shortResources(message: string): string | undefined {
  const total = /(\d+)\/(\d+) nodes are available/.exec(message);
  const short = [...message.matchAll(/(\d+) Insufficient ([\w./-]+)/g)].map((m) => m[2] as string);
  if (short.length === 0) return undefined;
  const nodes = total ? `${total[1]}/${total[2]} nodes` : 'no node';
  return `${nodes} have enough ${[...new Set(short)].join(', ')}`;
}

function newest(events: readonly PodEvent[]): PodEvent | undefined {
  const when = (e: PodEvent) => e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '';
  return [...events].sort((a, b) => (when(a) < when(b) ? -1 : when(a) > when(b) ? 1 : 0)).at(-1);
}

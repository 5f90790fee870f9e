import { setTimeout as sleep } from 'node:timers/promises';
import { allOk, firstFailing, type Check } from './check.ts';
import { probeEndpoint, type EndpointExpectation, type Probe } from './endpoint.ts';
import type { RolloutOutcome } from './outcome.ts';
import { Timeline } from './timeline.ts';
import { EndpointUnreachableError, formatSeconds } from './verify-cluster.ts';

export interface EndpointRolloutSettings {
  endpoint: string;
  /** The model's name on the endpoint. */
  name: string;
  storageUri: string;
  /** The version the endpoint must report in its v2 model metadata. */
  version: string;
  timeoutMs: number;
  endpointExpectation: Omit<EndpointExpectation, 'requireVersion' | 'version'>;
  /** Between probes (default 1 s, growing to 5 s). */
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
}

export interface EndpointRolloutDeps {
  now?: () => number;
  fetch?: typeof fetch;
  /** Stops the check before a verdict: it then throws. */
  signal?: AbortSignal;
}

/**
 * `--cluster none`: the endpoint alone (serving that is not on Kubernetes, and the demo). Ready, serving the
 * version in the storage URI, and answering one smoke inference, probed until the deadline. Never answering at
 * all is EndpointUnreachableError (exit 3); answering but not serving is `timeout`.
 */
export async function verifyEndpoint(settings: EndpointRolloutSettings, deps: EndpointRolloutDeps = {}): Promise<RolloutOutcome> {
  const now = deps.now ?? Date.now;
  const started = now();
  const deadline = started + settings.timeoutMs;
  const timeline = new Timeline(started, now);
  const stopped = () => {
    if (deps.signal?.aborted) throw new Error('the rollout check was stopped before a verdict');
  };
  let interval = settings.probeIntervalMs ?? 1000;
  let checks: Check[] = [];
  let last: Probe | undefined;
  /** What the server last said: the reason at the deadline even if the very last probe was cut short. */
  let lastAnswer: Check[] | undefined;
  while (true) {
    last = await probeEndpoint(
      { url: settings.endpoint, model: settings.name, protocol: 'v2' },
      { ...settings.endpointExpectation, version: settings.version, requireVersion: true },
      { fetch: deps.fetch, timeoutMs: Math.max(250, Math.min(settings.probeTimeoutMs ?? 10_000, deadline - now())), ...(deps.signal ? { signal: deps.signal } : {}) },
    );
    stopped();
    if (last.reached) lastAnswer = last.checks;
    checks = last.reached ? last.checks : [{ name: 'endpoint', ok: false, detail: `cannot reach ${settings.endpoint}: ${last.error}` }, { name: 'inference', ok: false, detail: 'waiting for the endpoint' }];
    timeline.checks(checks);
    if (allOk(checks)) {
      timeline.add('rollout', 'serving');
      const reason = `${settings.endpoint} serves ${settings.name} ${settings.version}: ${checks.find((c) => c.name === 'inference')?.detail}`;
      return { status: 'serving', reason, revision: settings.version, checks, timeline: timeline.entries(), seconds: (now() - started) / 1000 };
    }
    const left = deadline - now();
    if (left <= 0) break;
    await sleep(Math.min(interval, left), undefined, { signal: deps.signal }).catch(() => {});
    stopped();
    interval = Math.min(interval * 1.5, 5000);
  }
  if (!lastAnswer && last && !last.reached) throw new EndpointUnreachableError(`cannot reach ${settings.endpoint} within ${formatSeconds(settings.timeoutMs)}: ${last.error}`);
  if (lastAnswer) checks = lastAnswer;
  timeline.add('rollout', 'timed out');
  return {
    status: 'timeout',
    reason: `not serving after ${formatSeconds(settings.timeoutMs)}: ${firstFailing(checks) ?? 'the checks did not all hold at once'}`,
    revision: undefined,
    checks,
    timeline: timeline.entries(),
    seconds: (now() - started) / 1000,
  };
}

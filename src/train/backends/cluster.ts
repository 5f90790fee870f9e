import { randomBytes } from 'node:crypto';
import { UsageError } from '../../errors.ts';
import type { KubeClient } from '../../kube/client.ts';
import { KubeApiError } from '../../kube/errors.ts';
import { Reflector } from '../../kube/reflector.ts';
import { Events, Nodes, Pods, type ResourceType } from '../../kube/resources.ts';
import type { KubeObject, Pod } from '../../kube/types.ts';
import type { Logger } from '../../log.ts';
import { sourceFromEnv } from '../record.ts';
import { LegFailed } from './errors.ts';
import { followLogs } from './log-stream.ts';
import type { RemoteRun } from './manifests.ts';
import { LABELS, labelValue, remoteName } from './names.ts';
import { collectOutputs, type OutputStore } from './outputs.ts';
import { gpuFromLabels, imageDigest } from './placement.ts';
import { podProblem, type PodEvent } from './pod-problems.ts';
import type { RemoteSettings } from './settings.ts';
import type { BackendRequest, BackendRun, ClusterPlacement, TrainBackend } from './types.ts';

/** How one kind of cluster object (a Job, a TrainJob) is created, read and found in its pods. */
export interface ClusterKind {
  backend: BackendRun['backend'];
  type: ResourceType;
  build(run: RemoteRun): Record<string, unknown>;
  /** Its end, from its conditions; undefined while it runs. */
  outcome(object: KubeObject): { state: 'complete' } | { state: 'failed'; reason: string; message: string } | undefined;
  /** The label selector of its pods. */
  podSelector(name: string): string;
  /** The pod whose log the step shows and whose node is recorded (the only one, or rank 0). */
  primary(pods: Pod[], name: string): Pod | undefined;
  container: string;
  /** Checks before creating (e.g. that the runtime exists). */
  preflight?(client: KubeClient, run: RemoteRun): Promise<void>;
}

export interface ClusterDeps {
  client: KubeClient;
  /** The kubeconfig context's namespace, used when the namespace input is empty. */
  namespace: string;
  runId: string;
  /** The runner's environment: provenance (repository, commit, run URL). */
  env: NodeJS.ProcessEnv;
  outputs(url: string): OutputStore;
  /** Signals that cancel the run and delete the object (default SIGINT, SIGTERM). */
  signals?: NodeJS.Signals[];
  /** Tests make these short. */
  pollMs?: number;
  reconnectMs?: number;
  stallMs?: number;
  /** How long after the timeout the runner gives up waiting on a cluster that never ends the object. */
  graceMs?: number;
}

const TAIL_LINES = 20;

export function clusterBackend(kind: ClusterKind, remote: RemoteSettings, deps: ClusterDeps): TrainBackend {
  return { name: kind.backend, run: (request) => runOnCluster(kind, remote, deps, request) };
}

async function runOnCluster(kind: ClusterKind, remote: RemoteSettings, deps: ClusterDeps, request: BackendRequest): Promise<BackendRun> {
  const { settings, logger } = request;
  const { client } = deps;
  const source = sourceFromEnv(deps.env, settings.leg);
  const name = remoteName({ ...(source.repository && { repository: source.repository }), runId: deps.runId, model: settings.model, leg: settings.leg });
  const namespace = remote.namespace ?? deps.namespace;
  const run: RemoteRun = { settings, remote, name, namespace, runId: deps.runId, outputUri: `${remote.outputUri}/${name}/`, source };
  const what = `${kind.type.kind} ${namespace}/${name}`;
  const started = new Date();
  const output = protectedWriter(request.write, settings.protectOutput);

  const controller = new AbortController();
  const cancelled = new Promise<NodeJS.Signals>((resolve) => {
    const signals = deps.signals ?? ['SIGINT', 'SIGTERM'];
    const onSignal = (signal: NodeJS.Signals) => {
      for (const s of signals) process.removeListener(s, onSignal);
      resolve(signal);
    };
    for (const s of signals) process.once(s, onSignal);
    controller.signal.addEventListener('abort', () => {
      for (const s of signals) process.removeListener(s, onSignal);
    });
  });
  const remove = async (why: string) => {
    logger.info(`Deleting ${what} (${why}; propagationPolicy Foreground, so its pods go first)`);
    await client.delete(kind.type, namespace, name, { propagationPolicy: 'Foreground' }).catch((error: unknown) => logger.warning(`could not delete ${what}: ${(error as Error).message}`));
  };

  try {
    await kind.preflight?.(client, run);
    await createOrFind(kind, run, client, logger);
    const objects = new Reflector<KubeObject>(client, kind.type, { namespace, fieldSelector: `metadata.name=${name}`, logger, ...(deps.stallMs && { stallMs: deps.stallMs }) });
    const pods = new Reflector<Pod>(client, Pods, { namespace, labelSelector: kind.podSelector(name), logger, ...(deps.stallMs && { stallMs: deps.stallMs }) });
    let wake: () => void = () => {};
    const changed = () => wake();
    objects.subscribe(changed);
    pods.subscribe(changed);
    const watching = Promise.all([objects.run(controller.signal), pods.run(controller.signal)]);
    watching.catch(changed);
    let watchError: unknown;
    watching.catch((error: unknown) => (watchError = error));

    const tail: string[] = [];
    let follower: Promise<void> | undefined;
    let followed: string | undefined;
    const logsDone = new AbortController();
    const deadline = started.getTime() + settings.timeoutMs + (deps.graceMs ?? 10 * 60_000);
    const eventsSeen = new Map<string, string>();
    let outcome: ReturnType<ClusterKind['outcome']>;
    let primary: Pod | undefined;

    for (;;) {
      if (watchError) throw watchError;
      const object = objects.get(name);
      if (objects.synced && !object) throw new Error(`${what} was deleted by someone else while the leg waited for it`);
      outcome = object ? kind.outcome(object) : undefined;
      primary = kind.primary(pods.items(), name) ?? primary;
      if (primary && !follower && hasStarted(primary, kind.container)) {
        const pod = primary.metadata.name;
        followed = pod;
        logger.info(`Streaming the log of pod ${namespace}/${pod}${primary.spec?.nodeName ? ` on node ${primary.spec.nodeName}` : ''}`);
        follower = followLogs({
          client,
          namespace,
          pod,
          container: kind.container,
          write: (line) => {
            output.write(line);
            tail.push(line.replace(/\n$/, ''));
            if (tail.length > TAIL_LINES) tail.shift();
          },
          ended: () => outcome !== undefined || terminated(pods.get(pod), kind.container),
          logger,
          signal: logsDone.signal,
          ...(deps.reconnectMs !== undefined && { reconnectMs: deps.reconnectMs }),
        });
      }
      if (outcome) break;
      const problem = await diagnose(client, namespace, pods.items(), eventsSeen);
      if (problem) {
        await remove('it cannot run');
        throw new Error(`${what} cannot run: ${problem}`);
      }
      if (Date.now() > deadline) {
        await remove('the cluster did not end it in time');
        throw new Error(`${what} did not finish within the timeout plus ${Math.round((deps.graceMs ?? 600_000) / 1000)} s (activeDeadlineSeconds should have ended it): is the Job controller running?`);
      }
      const signal = await Promise.race([
        cancelled,
        new Promise<undefined>((resolve) => {
          const timer = setTimeout(() => resolve(undefined), deps.pollMs ?? 2000);
          wake = () => {
            clearTimeout(timer);
            resolve(undefined);
          };
        }),
      ]);
      if (signal) {
        logsDone.abort();
        controller.abort();
        await remove(`${signal} received: the workflow was cancelled`);
        output.end();
        process.kill(process.pid, signal);
        throw new Error(`cancelled by ${signal}`);
      }
    }

    // The log ends with the container; give the stream a moment to deliver its last lines.
    if (follower) await Promise.race([follower, new Promise((r) => setTimeout(r, 15_000))]);
    logsDone.abort();
    controller.abort();
    await watching.catch(() => {});
    output.end();
    const finalPod = (followed && pods.get(followed)) || primary;
    const status = finalPod?.status?.containerStatuses?.find((c) => c.name === kind.container);
    if (outcome.state === 'failed') {
      const terminatedState = status?.state?.terminated ?? status?.lastState?.terminated;
      const code = terminatedState ? `; pod ${finalPod?.metadata.name} exited with code ${terminatedState.exitCode}${terminatedState.reason ? ` (${terminatedState.reason})` : ''}` : '';
      const message = terminatedState?.message?.trim();
      const shown = message && !tail.join('\n').includes(message) ? `\nTermination message:\n${indent(message.split('\n').slice(-TAIL_LINES))}` : '';
      throw new LegFailed(
        `${what} failed: ${outcome.reason}${outcome.message ? ` (${outcome.message})` : ''}${code}.${shown}\nLast output:\n${tail.length > 0 ? indent(tail) : '  (no output)'}`,
      );
    }
    const placement = await place(client, run, finalPod, status?.imageID);
    const store = deps.outputs(`${remote.outputUri}/${name}`);
    let collected;
    try {
      collected = await collectOutputs(store, { cwd: settings.workingDirectory, modelDir: settings.modelDir, metrics: settings.metrics }, logger);
    } finally {
      await store.close();
    }
    const ended = new Date();
    return {
      exitCode: 0,
      signal: null,
      timedOut: false,
      tail,
      started,
      ended,
      backend: kind.backend,
      placement,
      extraFiles: collected.profile ? [collected.profile] : [],
    };
  } finally {
    controller.abort();
  }
}

function hasStarted(pod: Pod, container: string): boolean {
  const s = pod.status?.containerStatuses?.find((c) => c.name === container);
  return Boolean(s?.state?.running || s?.state?.terminated || s?.lastState?.terminated);
}

function terminated(pod: Pod | undefined, container: string): boolean {
  const s = pod?.status?.containerStatuses?.find((c) => c.name === container);
  return Boolean(s?.state?.terminated) || pod?.status?.phase === 'Succeeded' || pod?.status?.phase === 'Failed' || pod === undefined;
}

/** Creates the object, or finds the one an earlier try of the same leg and attempt created (same name, our labels). */
async function createOrFind(kind: ClusterKind, run: RemoteRun, client: KubeClient, logger: Logger): Promise<void> {
  const what = `${kind.type.kind} ${run.namespace}/${run.name}`;
  const check = (found: KubeObject) => {
    const labels = found.metadata.labels ?? {};
    if (labels[LABELS.runId] !== labelValue(run.runId) || labels[LABELS.leg] !== labelValue(run.settings.leg)) {
      throw new Error(`${what} exists but was not created for run ${run.runId}, leg ${run.settings.leg} (labels ${JSON.stringify(labels)}): refusing to adopt it`);
    }
    logger.info(`Found ${what} from an earlier try of this leg and run attempt: following it instead of starting another`);
  };
  const existing = await client.get<KubeObject>(kind.type, run.namespace, run.name);
  if (existing) return check(existing);
  try {
    await client.create(kind.type, run.namespace, kind.build(run) as unknown as KubeObject);
    logger.info(`Created ${what} (image ${run.remote.image}, output ${run.outputUri})`);
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 409) {
      const raced = await client.get<KubeObject>(kind.type, run.namespace, run.name);
      if (raced) return check(raced);
    }
    if (error instanceof KubeApiError && error.status === 422) throw new UsageError(`the cluster refused ${what}: ${error.kubeStatus?.message ?? error.message}; check image, resources, node-selector, tolerations and env`);
    if (error instanceof KubeApiError && error.status === 404) throw new UsageError(`namespace: ${JSON.stringify(run.namespace)} does not exist in the cluster, or it does not serve ${kind.type.apiVersion} ${kind.type.kind} (${error.message})`);
    throw error;
  }
}

/** Asks for a pod's Warning events only when its status already looks stuck, and once per status. */
async function diagnose(client: KubeClient, namespace: string, pods: Pod[], seen: Map<string, string>): Promise<string | undefined> {
  for (const pod of pods) {
    if (!podProblem(pod, [])) continue;
    const key = JSON.stringify([pod.status?.conditions, pod.status?.containerStatuses?.map((c) => c.state)]);
    if (seen.get(pod.metadata.name) === key) continue;
    seen.set(pod.metadata.name, key);
    const events = await client.list<KubeObject & PodEvent>(Events, namespace, { fieldSelector: `involvedObject.name=${pod.metadata.name}` }).catch(() => ({ items: [] as PodEvent[] }));
    const problem = podProblem(pod, events.items);
    if (problem) return problem;
    seen.delete(pod.metadata.name);
  }
  return undefined;
}

async function place(client: KubeClient, run: RemoteRun, pod: Pod | undefined, imageID: string | undefined): Promise<ClusterPlacement> {
  const nodeName = pod?.spec?.nodeName;
  const node = nodeName ? await client.get<KubeObject>(Nodes, undefined, nodeName).catch(() => undefined) : undefined;
  const gpu = gpuFromLabels(node?.metadata.labels);
  const digest = imageDigest(imageID);
  return {
    namespace: run.namespace,
    name: run.name,
    image: run.remote.image,
    ...(digest && { 'image-digest': digest }),
    ...(pod && { pod: pod.metadata.name }),
    ...(nodeName && { node: nodeName }),
    ...(gpu && { gpu }),
    ...(run.remote.backend === 'kubeflow' && { 'num-nodes': run.remote.numNodes }),
    'output-uri': run.outputUri,
  };
}

/** The pod's log inside a stop-commands block (as a local program's output), so it cannot issue workflow commands. */
function protectedWriter(write: (chunk: string) => void, protect: boolean): { write(text: string): void; end(): void } {
  const token = randomBytes(16).toString('hex');
  let open = false;
  return {
    write(text) {
      if (protect && !open) {
        write(`::stop-commands::${token}\n`);
        open = true;
      }
      write(text);
    },
    end() {
      if (open) write(`::${token}::\n`);
      open = false;
    },
  };
}

function indent(lines: string[]): string {
  return lines.map((l) => `  | ${l}`).join('\n');
}

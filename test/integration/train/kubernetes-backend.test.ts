// train on a cluster, against the Kubernetes API stand-in (real HTTPS, @kubernetes/client-node, every object
// validated against kubernetes-models and the Kubeflow CRD) and s3rver for the output prefix. Scripted
// controllers play the Job controller, the kubelet and Kubeflow Trainer the way they behave.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../../src/cli/main.ts';
import { silentLogger } from '../../../src/log.ts';
import { buildLinearClassifier } from '../../../src/onnx/linear-classifier.ts';
import { createBackend } from '../../../src/train/backends/kinds.ts';
import { remoteSettings, type RawRemoteOptions } from '../../../src/train/backends/settings.ts';
import { trainSettings } from '../../../src/train/settings.ts';
import { runTraining } from '../../../src/train/train.ts';
import { startKubeApi, type KubeApi, type Obj } from '../../helpers/kube-api.ts';
import { startS3Target, type S3Target } from '../../helpers/s3-servers.ts';
import { tempDir } from '../../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/kubeflow');
const DIGEST = `sha256:${'c'.repeat(64)}`;
const IMAGE = `ghcr.io/acme/churn-train@${DIGEST}`;
const ONNX = buildLinearClassifier({ features: ['a'], numeric: [{ index: 0, mean: 0, scale: 1 }], categorical: [], weights: [1], intercept: 0, producer: { name: 'test', version: '1' } });

let api: KubeApi;
let s3: S3Target;
let bucket: string;
const stops: (() => void)[] = [];

beforeAll(async () => {
  const crd = (f: string) => parse(readFileSync(join(FIXTURES, f), 'utf8')) as Obj;
  api = await startKubeApi({ crds: [crd('trainer.kubeflow.org_trainjobs.yaml'), crd('trainer.kubeflow.org_clustertrainingruntimes.yaml')] });
  s3 = await startS3Target();
  bucket = await s3.newBucket();
  api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml' } });
  api.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'gpu-node-1', labels: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB', 'kubernetes.io/os': 'linux' } } });
  api.create(parse(readFileSync(join(FIXTURES, 'runtime-torch-distributed.yaml'), 'utf8')) as Obj);
});
afterAll(async () => {
  await api?.close();
  await s3?.stop();
});
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
  for (const [v, k] of [['batch/v1', 'Job'], ['trainer.kubeflow.org/v1alpha1', 'TrainJob'], ['v1', 'Pod'], ['v1', 'Event']] as const) {
    for (const o of api.list(v, k)) api.remove(v, k, o.metadata.namespace, o.metadata.name);
  }
  expect(api.violations.splice(0)).toEqual([]);
});

const INPUTS: RawRemoteOptions = {
  backend: 'kubernetes',
  image: IMAGE,
  namespace: 'ml',
  resources: 'limits: { nvidia.com/gpu: 1, memory: 16Gi }\nrequests: { cpu: "2" }',
  'node-selector': 'nvidia.com/gpu.present: "true"',
  tolerations: '- { key: nvidia.com/gpu, operator: Exists, effect: NoSchedule }',
};

const until = async (condition: () => unknown, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

const envOf = (container: Obj, name: string): string => (container.env as Obj[]).find((e) => e.name === name)?.value;

/** What the kubelet would report for the pod. */
function podStatus(phase: string, state: Obj, extra: Obj = {}): Obj {
  return {
    phase,
    conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z/, 'Z') }],
    containerStatuses: [{ name: 'train', ready: phase === 'Running', restartCount: 0, image: IMAGE, imageID: `ghcr.io/acme/churn-train@${DIGEST}`, state, ...extra }],
  };
}

/** The Job controller: a pod per Job, owned by it, labelled as the controller labels them. */
function createPod(job: Obj, name = `${job.metadata.name}-x7k2p`, nodeName?: string): Obj {
  const template = job.spec.template;
  return api.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: job.metadata.namespace,
      labels: { ...template.metadata.labels, 'job-name': job.metadata.name, 'batch.kubernetes.io/job-name': job.metadata.name, 'controller-uid': job.metadata.uid },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid: job.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: { ...template.spec, ...(nodeName && { nodeName }) },
  });
}

const setJobCondition = (job: Obj, type: string, reason?: string, message?: string) =>
  api.updateStatus('batch/v1', 'Job', job.metadata.namespace, job.metadata.name, (o) => {
    o.status = { ...(o.status ?? {}), conditions: [{ type, status: 'True', ...(reason && { reason }), ...(message && { message }), lastProbeTime: new Date().toISOString().replace(/\.\d+Z/, 'Z'), lastTransitionTime: new Date().toISOString().replace(/\.\d+Z/, 'Z') }] };
  });

const setPod = (pod: Obj, status: Obj) => api.updateStatus('v1', 'Pod', pod.metadata.namespace, pod.metadata.name, (o) => void (o.status = status));

/** Runs `script` for every Job (or TrainJob) created through the API. */
function controller(kind: 'Job' | 'TrainJob', script: (object: Obj) => Promise<void>): void {
  stops.push(
    api.onChange((change) => {
      if (change.type === 'ADDED' && change.kind.kind === kind) void script(change.object).catch((e: unknown) => api.violations.push(`controller: ${(e as Error).message}`));
    }),
  );
}

/** The training program in the pod: logs, then writes its outputs under MLOPS_OUTPUT_URI. */
async function uploadOutputs(uri: string): Promise<void> {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri)!;
  await s3.put(match[1]!, `${match[2]}model/model.onnx`, ONNX);
  await s3.put(match[1]!, `${match[2]}metrics.json`, '{"accuracy": 0.93, "f1": 0.9}');
  await s3.put(match[1]!, `${match[2]}profile.json`, '{"schema": "mlops-actions/profile/v1", "rows": 1, "features": [], "outputs": []}');
}

function settingsFor(ws: string, leg = 'gpu') {
  return trainSettings({ command: '[python, train.py, --epochs, "3"]', model: 'churn', leg, timeout: '30m', seed: '3', params: '{"c": 1}' }, ws, { GITHUB_WORKSPACE: ws }, true);
}

function backend(inputs: RawRemoteOptions, runId: string) {
  return createBackend(remoteSettings({ ...inputs, kubeconfig: api.kubeconfigPath, 'output-uri': `s3://${bucket}/runs`, endpoint: s3.endpoint })!, {
    env: { GITHUB_REPOSITORY: 'acme/churn', GITHUB_SHA: 'c0ffee' },
    cwd: ROOT,
    runId,
    tuning: { pollMs: 100, reconnectMs: 20, signals: [] },
  });
}

describe('backend: kubernetes', () => {
  it('creates the Job as asked, streams its log across a dropped stream without duplicates, and collects verified outputs into run.json', async () => {
    const lines = Array.from({ length: 12 }, (_, i) => `epoch ${i + 1} loss ${(1 / (i + 1)).toFixed(3)}`);
    controller('Job', async (job) => {
      const pod = createPod(job, undefined, 'gpu-node-1');
      setPod(pod, podStatus('Running', { running: { startedAt: new Date().toISOString().replace(/\.\d+Z/, 'Z') } }));
      await until(() => api.requests.some((r) => r.path.endsWith('/log')));
      for (const line of lines.slice(0, 6)) api.appendLog('ml', pod.metadata.name, line);
      await new Promise((r) => setTimeout(r, 100));
      expect(api.dropLogStreams()).toBeGreaterThan(0);
      for (const line of lines.slice(6)) api.appendLog('ml', pod.metadata.name, line);
      api.appendLog('ml', pod.metadata.name, '::set-output name=x::forged');
      await uploadOutputs(envOf(job.spec.template.spec.containers[0], 'MLOPS_OUTPUT_URI'));
      setPod(pod, podStatus('Succeeded', { terminated: { exitCode: 0, reason: 'Completed' } }));
      api.endLog('ml', pod.metadata.name);
      setJobCondition(job, 'Complete');
    });
    const ws = tempDir('kube-train');
    let output = '';
    const result = await runTraining(settingsFor(ws), { logger: silentLogger, env: {}, write: (c) => (output += c), backend: backend(INPUTS, '500-1') });

    const [job] = api.list('batch/v1', 'Job');
    expect(job!.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 1800, ttlSecondsAfterFinished: 86400 });
    expect(job!.metadata.ownerReferences).toBeUndefined();
    expect(job!.metadata.labels).toMatchObject({ 'mlops-actions.io/run-id': '500-1', 'mlops-actions.io/leg': 'gpu', 'mlops-actions.io/model': 'churn' });
    const container = job!.spec.template.spec.containers[0];
    expect(container.resources).toEqual({ limits: { 'nvidia.com/gpu': '1', memory: '16Gi' }, requests: { cpu: '2' } });
    expect(job!.spec.template.spec.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(job!.spec.template.spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(container.command).toEqual(['python', 'train.py', '--epochs', '3']);
    expect(envOf(container, 'MLOPS_SEED')).toBe('3');
    expect(envOf(container, 'MLOPS_PARAMS')).toBe('{"c":1}');

    // Every line once, in order, inside the stop-commands block.
    const block = /^::stop-commands::([0-9a-f]{32})\n([\s\S]*)::\1::\n$/.exec(output);
    expect(block, output).not.toBeNull();
    expect(block![2]!.split('\n').filter(Boolean)).toEqual([...lines, '::set-output name=x::forged']);

    expect(readFileSync(join(ws, 'model/model.onnx')).equals(Buffer.from(ONNX))).toBe(true);
    const record = JSON.parse(readFileSync(join(ws, 'run.json'), 'utf8'));
    expect(record).toMatchObject({ backend: 'kubernetes', leg: 'gpu', params: { c: 1 }, metrics: 'metrics.json', 'exit-code': 0 });
    expect(record.cluster).toEqual({
      namespace: 'ml',
      name: job!.metadata.name,
      image: IMAGE,
      'image-digest': DIGEST,
      pod: `${job!.metadata.name}-x7k2p`,
      node: 'gpu-node-1',
      gpu: 'NVIDIA-A100-SXM4-80GB',
      'output-uri': `s3://${bucket}/runs/${job!.metadata.name}/`,
    });
    expect(record.outputs.files.map((f: { path: string }) => f.path).sort()).toEqual(['metrics.json', 'model/model.onnx', 'profile.json']);
    expect(result.modelPath).toBe(join(ws, 'model/model.onnx'));

    // The same leg of the same run attempt comes back to the finished Job instead of creating another.
    const posts = () => api.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/jobs')).length;
    const before = posts();
    const again = await runTraining(settingsFor(tempDir('kube-train-again')), { logger: silentLogger, env: {}, write: () => {}, backend: backend(INPUTS, '500-1') });
    expect(posts()).toBe(before);
    expect(again.record.cluster?.name).toBe(job!.metadata.name);
    expect(api.list('batch/v1', 'Job')).toHaveLength(1);
  }, 60_000);

  it('BackoffLimitExceeded: exit 1 with the termination message and the last log lines', async () => {
    controller('Job', async (job) => {
      const pod = createPod(job, undefined, 'gpu-node-1');
      setPod(pod, podStatus('Running', { running: { startedAt: new Date().toISOString().replace(/\.\d+Z/, 'Z') } }));
      api.appendLog('ml', pod.metadata.name, 'loading data');
      api.appendLog('ml', pod.metadata.name, 'Traceback (most recent call last):');
      await new Promise((r) => setTimeout(r, 300));
      setPod(pod, podStatus('Failed', { terminated: { exitCode: 137, reason: 'OOMKilled', message: 'CUDA out of memory: tried to allocate 2.00 GiB' } }));
      api.endLog('ml', pod.metadata.name);
      setJobCondition(job, 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    });
    const ws = tempDir('kube-fail');
    const err: string[] = [];
    const code = await main(
      ['train', '--backend', 'kubernetes', '--image', IMAGE, '--namespace', 'ml', '--kubeconfig', api.kubeconfigPath, '--output-uri', `s3://${bucket}/runs`, '--endpoint', s3.endpoint, '--run-id', '501-1', '--model', 'churn', '--leg', 'fails', '--', 'python', 'train.py'],
      { cwd: ws, out: () => {}, logger: { ...silentLogger, error: (m) => err.push(m) } },
    );
    expect(code).toBe(1);
    const message = err.join('\n');
    expect(message).toMatch(/Job ml\/mlops-churn-fails-[0-9a-f]{10} failed: BackoffLimitExceeded \(Job has reached the specified backoff limit\); pod .* exited with code 137 \(OOMKilled\)/);
    expect(message).toContain('CUDA out of memory: tried to allocate 2.00 GiB');
    expect(message).toContain('  | Traceback (most recent call last):');
  }, 30_000);

  it.each([
    [
      'Unschedulable (no GPU free)',
      (pod: Obj) => ({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z/, 'Z') }] }),
      { reason: 'FailedScheduling', message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.' },
      /cannot be scheduled: 0\/3 nodes have enough nvidia\.com\/gpu/,
    ],
    [
      'ImagePullBackOff',
      () => podStatus('Pending', { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${IMAGE}"` } }, { ready: false }),
      { reason: 'Failed', message: `Failed to pull image "${IMAGE}": rpc error: code = NotFound desc = manifest unknown` },
      /container train ImagePullBackOff .*event Failed: Failed to pull image .*manifest unknown/,
    ],
    [
      'CreateContainerConfigError',
      () => podStatus('Pending', { waiting: { reason: 'CreateContainerConfigError', message: 'secret "hf" not found' } }, { ready: false }),
      { reason: 'Failed', message: 'Error: secret "hf" not found' },
      /CreateContainerConfigError.*secret "hf" not found/,
    ],
  ])('%s: exit 3 at once with the reason, and the Job deleted', async (_, status, event, expected) => {
    controller('Job', async (job) => {
      const pod = createPod(job);
      api.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${pod.metadata.name}.1`, namespace: 'ml' },
        involvedObject: { kind: 'Pod', namespace: 'ml', name: pod.metadata.name, uid: pod.metadata.uid, apiVersion: 'v1' },
        type: 'Warning',
        ...event,
        lastTimestamp: new Date().toISOString().replace(/\.\d+Z/, 'Z'),
      });
      setPod(pod, status(pod));
    });
    const err: string[] = [];
    const started = Date.now();
    const code = await main(
      ['train', '--backend', 'kubernetes', '--image', IMAGE, '--namespace', 'ml', '--kubeconfig', api.kubeconfigPath, '--output-uri', `s3://${bucket}/runs`, '--resources', 'limits: {nvidia.com/gpu: 1}', '--run-id', `stuck-${event.reason}-${Date.now()}`, '--timeout', '2h', '--', 'python', 'train.py'],
      { cwd: tempDir('kube-stuck'), out: () => {}, logger: { ...silentLogger, error: (m) => err.push(m) } },
    );
    expect(code).toBe(3);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(err.join('\n')).toMatch(expected);
    expect(api.deletions.filter((d) => d.kind === 'Job').at(-1)).toMatchObject({ namespace: 'ml', name: expect.stringMatching(/^mlops-model-default-/), propagationPolicy: 'Foreground' });
  }, 30_000);

  it('SIGTERM (a cancelled workflow) deletes the Job with propagationPolicy Foreground', async () => {
    let podName = '';
    controller('Job', async (job) => {
      const pod = createPod(job, undefined, 'gpu-node-1');
      podName = pod.metadata.name;
      setPod(pod, podStatus('Running', { running: { startedAt: new Date().toISOString().replace(/\.\d+Z/, 'Z') } }));
      api.appendLog('ml', pod.metadata.name, 'epoch 1');
    });
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin/mlops.js'), 'train', '--backend', 'kubernetes', '--image', IMAGE, '--namespace', 'ml', '--kubeconfig', api.kubeconfigPath, '--output-uri', `s3://${bucket}/runs`, '--run-id', 'cancel-1', '--leg', 'cancelled', '--', 'python', 'train.py'],
      { cwd: tempDir('kube-cancel'), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    try {
      await until(() => stderr.includes('epoch 1'), 20_000);
      child.kill('SIGTERM');
      expect(await exited).toBe('SIGTERM');
    } finally {
      child.kill('SIGKILL');
    }
    expect(api.deletions).toContainEqual({ kind: 'Job', namespace: 'ml', name: expect.stringMatching(/^mlops-model-cancelled-/), propagationPolicy: 'Foreground' });
    // Foreground: the Job's pod went with it.
    expect(api.get('v1', 'Pod', 'ml', podName)).toBeUndefined();
  }, 40_000);
});

describe('backend: kubeflow', () => {
  it('submits a TrainJob with numNodes 2 (valid against the CRD), follows rank 0 and collects its outputs on Complete', async () => {
    controller('TrainJob', async (trainJob) => {
      const name = trainJob.metadata.name;
      const pods = [0, 1].map((index) =>
        api.create({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: `${name}-node-0-${index}-abcde`,
            namespace: 'ml',
            labels: {
              'jobset.sigs.k8s.io/jobset-name': name,
              'jobset.sigs.k8s.io/replicatedjob-name': 'node',
              'jobset.sigs.k8s.io/job-index': '0',
              'batch.kubernetes.io/job-completion-index': String(index),
              'job-name': `${name}-node-0`,
            },
            annotations: { 'batch.kubernetes.io/job-completion-index': String(index) },
          },
          spec: { nodeName: 'gpu-node-1', containers: [{ name: 'node', image: trainJob.spec.trainer.image, command: trainJob.spec.trainer.command }] },
        }),
      );
      for (const pod of pods) {
        api.updateStatus('v1', 'Pod', 'ml', pod.metadata.name, (o) => {
          o.status = { phase: 'Running', containerStatuses: [{ name: 'node', ready: true, restartCount: 0, image: IMAGE, imageID: `ghcr.io/acme/churn-train@${DIGEST}`, state: { running: { startedAt: new Date().toISOString().replace(/\.\d+Z/, 'Z') } } }] };
        });
      }
      await until(() => api.requests.some((r) => r.path.endsWith('/log')));
      api.appendLog('ml', pods[0]!.metadata.name, 'rank 0: world size 2');
      api.appendLog('ml', pods[1]!.metadata.name, 'rank 1: must not be shown');
      await uploadOutputs(trainJob.spec.trainer.env.find((e: Obj) => e.name === 'MLOPS_OUTPUT_URI').value);
      for (const pod of pods) {
        api.updateStatus('v1', 'Pod', 'ml', pod.metadata.name, (o) => {
          o.status = { phase: 'Succeeded', containerStatuses: [{ name: 'node', ready: false, restartCount: 0, image: IMAGE, imageID: `ghcr.io/acme/churn-train@${DIGEST}`, state: { terminated: { exitCode: 0 } } }] };
        });
        api.endLog('ml', pod.metadata.name);
      }
      api.updateStatus('trainer.kubeflow.org/v1alpha1', 'TrainJob', 'ml', name, (o) => {
        o.status = { conditions: [{ type: 'Complete', status: 'True', reason: 'AllJobsCompleted', message: 'jobset completed successfully', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z/, 'Z') }] };
      });
    });
    const ws = tempDir('kubeflow');
    let output = '';
    const result = await runTraining(settingsFor(ws, 'dist'), { logger: silentLogger, env: {}, write: (c) => (output += c), backend: backend({ ...INPUTS, backend: 'kubeflow', 'num-nodes': '2' }, '600-1') });
    const [trainJob] = api.list('trainer.kubeflow.org/v1alpha1', 'TrainJob');
    expect(trainJob!.spec.trainer).toMatchObject({ numNodes: 2, image: IMAGE, resourcesPerNode: { limits: { 'nvidia.com/gpu': '1', memory: '16Gi' } } });
    expect(trainJob!.spec.runtimeRef.name).toBe('torch-distributed');
    expect(output).toContain('rank 0: world size 2');
    expect(output).not.toContain('rank 1');
    expect(result.record).toMatchObject({ backend: 'kubeflow', cluster: { 'num-nodes': 2, node: 'gpu-node-1', gpu: 'NVIDIA-A100-SXM4-80GB', pod: `${trainJob!.metadata.name}-node-0-0-abcde` } });
  }, 60_000);

  it('refuses a runtime the cluster does not have, before creating anything', async () => {
    const err: string[] = [];
    const code = await main(
      ['train', '--backend', 'kubeflow', '--runtime', 'deepspeed', '--image', IMAGE, '--namespace', 'ml', '--kubeconfig', api.kubeconfigPath, '--output-uri', `s3://${bucket}/runs`, '--', 'python', 'train.py'],
      { cwd: tempDir('kubeflow-runtime'), out: () => {}, logger: { ...silentLogger, error: (m) => err.push(m) } },
    );
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('runtime: "deepspeed" is not a ClusterTrainingRuntime of this cluster');
    expect(api.list('trainer.kubeflow.org/v1alpha1', 'TrainJob')).toEqual([]);
  });
});

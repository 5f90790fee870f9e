// The cluster backends' inputs and objects: settings refusals, the deterministic owner-less name, and the
// batch/v1 Job (validated by kubernetes-models) and Kubeflow Trainer TrainJob (validated against the real CRD).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildJob, buildTrainJob, type RemoteRun } from '../../../src/train/backends/manifests.ts';
import { labelValue, remoteName, runId } from '../../../src/train/backends/names.ts';
import { gpuFromLabels, imageDigest } from '../../../src/train/backends/placement.ts';
import { remoteSettings, type RawRemoteOptions } from '../../../src/train/backends/settings.ts';
import { trainSettings } from '../../../src/train/settings.ts';
import { validateStructural, type Schema } from '../../integration/manifests/structural-schema.ts';
import { usageMessage } from '../../helpers/usage-error.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/kubeflow');
const DIGEST = `ghcr.io/acme/churn-train@sha256:${'a'.repeat(64)}`;
const GPU_INPUTS: RawRemoteOptions = {
  backend: 'kubernetes',
  image: DIGEST,
  namespace: 'ml-training',
  'service-account': 'churn-trainer',
  resources: 'requests: { cpu: "4", memory: 16Gi }\nlimits: { nvidia.com/gpu: 1, memory: 16Gi }',
  'node-selector': 'nvidia.com/gpu.present: "true"\ncloud.google.com/gke-nodepool: gpu-a100',
  tolerations: '- { key: nvidia.com/gpu, operator: Exists, effect: NoSchedule }\n- { key: spot, operator: Equal, value: "true", effect: NoExecute, tolerationSeconds: 60 }',
  env: 'WANDB_MODE: offline\nHF_TOKEN: { secretKeyRef: { name: hf, key: token } }',
  'output-uri': 's3://ml-bucket/runs/',
};

function run(inputs: RawRemoteOptions, leg = 'c-0.07092'): RemoteRun {
  const settings = trainSettings({ command: '[python, train.py, --epochs, "3"]', model: 'churn', leg, timeout: '90m', seed: '5', params: '{"c": 0.0709156}' }, '/w', {}, true);
  const remote = remoteSettings(inputs)!;
  const name = remoteName({ repository: 'acme/churn', runId: '1234-1', model: 'churn', leg });
  return { settings, remote, name, namespace: remote.namespace ?? 'default', runId: '1234-1', outputUri: `${remote.outputUri}/${name}/`, source: { repository: 'acme/churn', commit: 'c0ffee', 'run-url': 'https://github.com/acme/churn/actions/runs/1234/attempts/1' } };
}

const trainJobCrd = parse(readFileSync(join(FIXTURES, 'trainer.kubeflow.org_trainjobs.yaml'), 'utf8')) as {
  spec: { versions: { name: string; schema: { openAPIV3Schema: Schema & { 'x-kubernetes-validations'?: { rule: string }[] } } }[] };
};

describe('the batch/v1 Job', () => {
  it('is a valid Job (kubernetes-models) with exactly the requested resources, placement, labels and deadline', () => {
    const r = run(GPU_INPUTS);
    const job = buildJob(r) as any;
    expect(() => new Job(job).validate()).not.toThrow();
    expect(job.metadata).toEqual({
      name: r.name,
      namespace: 'ml-training',
      labels: { 'app.kubernetes.io/managed-by': 'mlops-actions', 'mlops-actions.io/run-id': '1234-1', 'mlops-actions.io/model': 'churn', 'mlops-actions.io/leg': 'c-0.07092' },
      annotations: { 'mlops-actions.io/leg': 'c-0.07092', 'mlops-actions.io/repository': 'acme/churn', 'mlops-actions.io/commit': 'c0ffee', 'mlops-actions.io/run-url': 'https://github.com/acme/churn/actions/runs/1234/attempts/1' },
    });
    expect(job.metadata.ownerReferences).toBeUndefined();
    expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 5400, ttlSecondsAfterFinished: 86400 });
    const pod = job.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.serviceAccountName).toBe('churn-trainer');
    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true', 'cloud.google.com/gke-nodepool': 'gpu-a100' });
    expect(pod.tolerations).toEqual([
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'spot', operator: 'Equal', value: 'true', effect: 'NoExecute', tolerationSeconds: 60 },
    ]);
    expect(job.spec.template.metadata.labels).toEqual(job.metadata.labels);
    const [container] = pod.containers;
    expect(container.image).toBe(DIGEST);
    expect(container.command).toEqual(['python', 'train.py', '--epochs', '3']);
    expect(container.args).toBeUndefined();
    expect(container.resources).toEqual({ requests: { cpu: '4', memory: '16Gi' }, limits: { 'nvidia.com/gpu': '1', memory: '16Gi' } });
    expect(container.env).toEqual([
      { name: 'MLOPS_SEED', value: '5' },
      { name: 'PYTHONHASHSEED', value: '5' },
      { name: 'MLOPS_LEG', value: 'c-0.07092' },
      { name: 'MLOPS_MODEL_DIR', value: 'model' },
      { name: 'MLOPS_METRICS', value: 'metrics.json' },
      { name: 'MLOPS_OUTPUT_URI', value: `s3://ml-bucket/runs/${r.name}/` },
      { name: 'MLOPS_RUN_ID', value: '1234-1' },
      { name: 'MLOPS_PARAMS', value: '{"c":0.0709156}' },
      { name: 'WANDB_MODE', value: 'offline' },
      { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf', key: 'token' } } },
    ]);
  });

  it('kubernetes-models refuses a broken Job (the validation above can fail)', () => {
    const job = buildJob(run(GPU_INPUTS)) as any;
    job.spec.template.spec.containers[0].resources.limits = 'lots';
    expect(() => new Job(job).validate()).toThrow();
  });
});

describe('the Kubeflow TrainJob', () => {
  const schema = trainJobCrd.spec.versions.find((v) => v.name === 'v1alpha1')!.schema.openAPIV3Schema;

  it("is valid against the real CRD's schema, with numNodes 2, the runtime and a patch placing the pods", () => {
    const r = run({ ...GPU_INPUTS, backend: 'kubeflow', 'num-nodes': '2' });
    const trainJob = buildTrainJob(r) as any;
    expect(validateStructural(trainJob, schema)).toEqual([]);
    // The CRD's CEL rules on metadata.name.
    expect(schema['x-kubernetes-validations']?.map((v) => v.rule)).toEqual([
      "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",
      'size(self.metadata.name) <= 63',
    ]);
    expect(trainJob.metadata.name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    expect(trainJob.spec.runtimeRef).toEqual({ name: 'torch-distributed' });
    expect(trainJob.spec.trainer).toMatchObject({ image: DIGEST, command: ['python', 'train.py', '--epochs', '3'], numNodes: 2, resourcesPerNode: { limits: { 'nvidia.com/gpu': '1', memory: '16Gi' } } });
    expect(trainJob.spec.activeDeadlineSeconds).toBe(5400);
    expect(trainJob.spec.runtimePatches[0].trainingRuntimeSpec.template.spec.replicatedJobs[0]).toEqual({
      name: 'node',
      template: { spec: { template: { spec: { serviceAccountName: 'churn-trainer', nodeSelector: { 'nvidia.com/gpu.present': 'true', 'cloud.google.com/gke-nodepool': 'gpu-a100' }, tolerations: expect.any(Array) } } } },
    });
  });

  it('the schema check can fail: an unknown field and a negative numNodes are named', () => {
    const trainJob = buildTrainJob(run({ ...GPU_INPUTS, backend: 'kubeflow' })) as any;
    trainJob.spec.trainer.numNodes = -1;
    trainJob.spec.trainer.gpus = 2;
    const errors = validateStructural(trainJob, schema);
    expect(errors).toContain('spec.trainer.numNodes: -1 is below 0');
    expect(errors).toContain('spec.trainer.gpus: unknown field');
  });

  it('refuses PET_* variables, which Kubeflow Trainer reserves', () => {
    expect(usageMessage(() => remoteSettings({ ...GPU_INPUTS, backend: 'kubeflow', env: 'PET_NNODES: "4"' }))).toMatch(/^env: .*Kubeflow Trainer reserves PET_/);
  });
});

describe('names', () => {
  it('are derived from repository, run id, model and leg: the same leg of the same attempt gets the same name', () => {
    const a = remoteName({ repository: 'acme/churn', runId: '1234-1', model: 'churn', leg: 'node-24' });
    expect(a).toBe(remoteName({ repository: 'acme/churn', runId: '1234-1', model: 'churn', leg: 'node-24' }));
    expect(a).toMatch(/^mlops-churn-node-24-[0-9a-f]{10}$/);
    expect(remoteName({ repository: 'acme/churn', runId: '1234-2', model: 'churn', leg: 'node-24' })).not.toBe(a);
    expect(remoteName({ repository: 'acme/churn', runId: '1234-1', model: 'churn', leg: 'node-22' })).not.toBe(a);
    for (const leg of ['x'.repeat(200), 'Ünïcode leg/with:odd|chars', '---', '9-starts-with-a-digit']) {
      const name = remoteName({ runId: '1', model: 'Churn_Model', leg });
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    }
    expect(runId({ GITHUB_RUN_ID: '77', GITHUB_RUN_ATTEMPT: '3' })).toBe('77-3');
    expect(runId({ GITHUB_RUN_ID: '77' }, 'mine')).toBe('mine');
    expect(runId({})).toMatch(/^local-[0-9a-f]{8}$/);
  });

  it('label values fit the 63-character label syntax', () => {
    expect(labelValue('c-0.07092')).toBe('c-0.07092');
    const long = labelValue(`lr-0.001_${'x'.repeat(90)}`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
    expect(labelValue('a/b c')).toMatch(/^a-b-c-[0-9a-f]{8}$/);
  });
});

describe('cluster settings', () => {
  it('default the output prefix to <remote>/runs and keep local untouched', () => {
    expect(remoteSettings({ backend: 'kubernetes', image: 'ghcr.io/acme/train:1.4.2', remote: 's3://bucket/ml/' })?.outputUri).toBe('s3://bucket/ml/runs');
    expect(remoteSettings({})).toBeUndefined();
    expect(remoteSettings({ backend: 'local', remote: 's3://b/x' })).toBeUndefined();
  });

  it.each([
    [{ backend: 'gpu' }, /^backend: "gpu" must be one of local, kubernetes, kubeflow/],
    [{ image: 'x:1' }, /^image: "x:1" only applies to backend: kubernetes or kubeflow/],
    [{ backend: 'kubernetes', remote: 's3://bb/x' }, /^image: "" is required/],
    [{ ...GPU_INPUTS, image: 'ghcr.io/acme/train' }, /^image: .*is not pinned/],
    [{ ...GPU_INPUTS, image: 'ghcr.io/acme/train:latest' }, /^image: .*"latest", which moves/],
    [{ ...GPU_INPUTS, image: 'ghcr.io/acme/Train:1' }, /^image: .*is not an image reference/],
    [{ ...GPU_INPUTS, resources: 'limits: { memory: lots }' }, /^resources: .*Kubernetes quantity/],
    [{ ...GPU_INPUTS, resources: 'requests: { nvidia.com/gpu: 1 }' }, /^resources: .*without a limit/],
    [{ ...GPU_INPUTS, resources: 'limits: { nvidia.com/gpu: 0.5 }' }, /^resources: .*whole number/],
    [{ ...GPU_INPUTS, resources: 'gpus: 1' }, /^resources: .*only requests and limits/],
    [{ ...GPU_INPUTS, tolerations: '- { key: x, operator: Exists, value: y }' }, /^tolerations: .*drop the value/],
    [{ ...GPU_INPUTS, tolerations: 'key: x' }, /^tolerations: .*YAML list/],
    [{ ...GPU_INPUTS, 'node-selector': 'gpu: [a100]' }, /^node-selector: /],
    [{ ...GPU_INPUTS, env: 'MLOPS_SEED: "1"' }, /^env: .*sets MLOPS_SEED, which the action sets itself/],
    [{ ...GPU_INPUTS, env: 'X: { secretKeyRef: { name: s } }' }, /^env: .*no key/],
    [{ ...GPU_INPUTS, 'output-uri': '/tmp/runs' }, /^output-uri: .*must be an S3 URL/],
    [{ backend: 'kubernetes', image: DIGEST }, /^output-uri: is not set/],
    [{ ...GPU_INPUTS, namespace: 'ML' }, /^namespace: /],
    [{ ...GPU_INPUTS, 'num-nodes': '2' }, /^num-nodes: .*only applies to backend: kubeflow/],
    [{ ...GPU_INPUTS, backend: 'kubeflow', 'num-nodes': '0' }, /^num-nodes: /],
  ] as [RawRemoteOptions, RegExp][])('%o is refused', (inputs, message) => {
    expect(usageMessage(() => remoteSettings(inputs))).toMatch(message);
  });
});

describe('placement', () => {
  it('reads the GPU model from node labels and the digest from the container status', () => {
    expect(gpuFromLabels({ 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB', 'cloud.google.com/gke-accelerator': 'nvidia-tesla-a100' })).toBe('NVIDIA-A100-SXM4-80GB');
    expect(gpuFromLabels({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' })).toBe('nvidia-l4');
    expect(gpuFromLabels({ 'kubernetes.io/os': 'linux' })).toBeUndefined();
    expect(imageDigest(`docker-pullable://ghcr.io/acme/t@sha256:${'b'.repeat(64)}`)).toBe(`sha256:${'b'.repeat(64)}`);
    expect(imageDigest('ghcr.io/acme/t:1')).toBeUndefined();
  });
});

import { parseDocument } from 'yaml';
import { UsageError, badInput } from '../../errors.ts';
import type { BackendName } from './types.ts';

/** The train inputs that only the cluster backends read (`backend: kubernetes|kubeflow`). */
export interface RawRemoteOptions {
  backend?: string;
  image?: string;
  namespace?: string;
  'service-account'?: string;
  resources?: string;
  'node-selector'?: string;
  tolerations?: string;
  env?: string;
  kubeconfig?: string;
  'output-uri'?: string;
  remote?: string;
  endpoint?: string;
  /** kubeflow */
  runtime?: string;
  'num-nodes'?: string;
}

export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export interface Toleration {
  key?: string;
  operator?: 'Equal' | 'Exists';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

/** A Kubernetes EnvVar: a literal value or a reference (secretKeyRef, configMapKeyRef, fieldRef). */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: Record<string, Record<string, string | boolean>>;
}

export interface RemoteSettings {
  backend: Exclude<BackendName, 'local'>;
  image: string;
  /** Undefined: the kubeconfig context's namespace, else `default`. */
  namespace?: string;
  serviceAccount?: string;
  resources: ResourceRequirements;
  nodeSelector: Record<string, string>;
  tolerations: Toleration[];
  env: EnvVar[];
  kubeconfig?: string;
  /** S3 prefix under which each run gets `<name>/`; from `output-uri`, else `<remote>/runs`. */
  outputUri: string;
  endpoint?: string;
  runtime: string;
  numNodes: number;
}

export const DEFAULT_RUNTIME = 'torch-distributed';
const BACKENDS = ['local', 'kubernetes', 'kubeflow'] as const;
// OCI reference: [registry[:port]/]path[:tag][@sha256:hex] (distribution/reference's grammar, lower-case paths).
const PATH_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?';
const IMAGE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::([\\w][\\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$`);
const QUANTITY = /^[+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;
const LABEL_NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export function parseBackend(text: string | undefined): BackendName {
  const value = text?.trim() || 'local';
  if (!(BACKENDS as readonly string[]).includes(value)) throw badInput('backend', value, `must be one of ${BACKENDS.join(', ')}`);
  return value as BackendName;
}

/** Validates the cluster inputs; undefined for `backend: local` (which must then set none of them). */
export function remoteSettings(raw: RawRemoteOptions): RemoteSettings | undefined {
  const backend = parseBackend(raw.backend);
  const given = (Object.keys(raw) as (keyof RawRemoteOptions)[]).filter((k) => k !== 'backend' && raw[k]?.trim());
  if (backend === 'local') {
    // Cluster inputs without a cluster backend are a mistake (a forgotten `backend:`), not something to ignore.
    const stray = given.filter((k) => k !== 'remote' && k !== 'endpoint');
    if (stray.length > 0) throw badInput(stray[0] as string, raw[stray[0] as keyof RawRemoteOptions], 'only applies to backend: kubernetes or kubeflow: set backend, or remove it');
    return undefined;
  }
  if (backend === 'kubernetes') {
    for (const key of ['runtime', 'num-nodes'] as const) if (raw[key]?.trim()) throw badInput(key, raw[key], 'only applies to backend: kubeflow');
  }
  const image = parseImage(raw.image);
  const namespace = raw.namespace?.trim() || undefined;
  if (namespace !== undefined && !DNS_LABEL.test(namespace)) throw badInput('namespace', namespace, 'is not a namespace name (lower-case letters, digits and -, at most 63)');
  const serviceAccount = raw['service-account']?.trim() || undefined;
  if (serviceAccount !== undefined && !DNS_SUBDOMAIN.test(serviceAccount)) throw badInput('service-account', serviceAccount, 'is not a ServiceAccount name (lower-case DNS name)');
  const runtime = raw.runtime?.trim() || DEFAULT_RUNTIME;
  if (!DNS_SUBDOMAIN.test(runtime)) throw badInput('runtime', runtime, 'is not a ClusterTrainingRuntime name');
  const nodesText = raw['num-nodes']?.trim() || '1';
  if (!/^\d+$/.test(nodesText) || Number(nodesText) < 1 || Number(nodesText) > 1024) throw badInput('num-nodes', nodesText, 'must be a whole number from 1 to 1024');
  return {
    backend,
    image,
    ...(namespace && { namespace }),
    ...(serviceAccount && { serviceAccount }),
    resources: parseResources(raw.resources),
    nodeSelector: parseNodeSelector(raw['node-selector']),
    tolerations: parseTolerations(raw.tolerations),
    env: parseEnv(raw.env, backend),
    ...(raw.kubeconfig?.trim() && { kubeconfig: raw.kubeconfig.trim() }),
    outputUri: parseOutputUri(raw['output-uri'], raw.remote),
    ...(raw.endpoint?.trim() && { endpoint: raw.endpoint.trim() }),
    runtime,
    numNodes: Number(nodesText),
  };
}

/** `repo:tag` (not `latest`) or `repo@sha256:…`: what runs must not change under the same name. */
export function parseImage(text: string | undefined): string {
  const image = text?.trim() ?? '';
  if (image === '') throw badInput('image', image, 'is required for a cluster backend: give the training image pinned by digest (repo@sha256:…) or tag (repo:1.4.2)');
  const match = IMAGE.exec(image);
  if (!match) throw badInput('image', image, 'is not an image reference such as ghcr.io/org/train:1.4.2 or ghcr.io/org/train@sha256:<64 hex>');
  const [, tag, digest] = match;
  if (!digest && !tag) throw badInput('image', image, 'is not pinned: add a tag (repo:1.4.2) or, better, a digest (repo@sha256:…), so every leg runs the same bytes');
  if (!digest && tag === 'latest') throw badInput('image', image, 'is pinned to "latest", which moves: use a version tag or a digest (repo@sha256:…)');
  return image;
}

function yamlValue(input: string, text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true });
  const error = doc.errors[0];
  if (error) throw badInput(input, text, `is not valid YAML (${error.message.split('\n')[0]})`);
  return doc.toJS({ maxAliasCount: 10 }) as unknown;
}

export function parseResources(text: string | undefined): ResourceRequirements {
  if (!text?.trim()) return {};
  const value = yamlValue('resources', text);
  if (!isObject(value)) throw badInput('resources', text, 'must be a mapping with requests: and/or limits:, e.g. {limits: {nvidia.com/gpu: 1, memory: 16Gi}}');
  const out: ResourceRequirements = {};
  for (const [section, list] of Object.entries(value)) {
    if (section !== 'requests' && section !== 'limits') throw badInput('resources', text, `has the key ${JSON.stringify(section)}: only requests and limits are allowed`);
    if (!isObject(list)) throw badInput('resources', text, `has ${section} that is not a mapping of resource: quantity`);
    const quantities: Record<string, string> = {};
    for (const [name, quantity] of Object.entries(list)) {
      if (!validLabelKey(name)) throw badInput('resources', text, `names the resource ${JSON.stringify(name)}, which is not a resource name such as cpu, memory or nvidia.com/gpu`);
      const q = typeof quantity === 'number' && Number.isFinite(quantity) ? String(quantity) : typeof quantity === 'string' ? quantity.trim() : '';
      if (!QUANTITY.test(q)) throw badInput('resources', text, `gives ${section}.${name} the quantity ${JSON.stringify(quantity)}: use a Kubernetes quantity such as 500m, 2, 16Gi`);
      if (name.includes('/') && !name.startsWith('kubernetes.io/') && !/^\d+$/.test(q)) throw badInput('resources', text, `gives ${section}.${name} ${q}: an extended resource such as a GPU is a whole number`);
      quantities[name] = q;
    }
    out[section] = quantities;
  }
  // Extended resources cannot be overcommitted: a request must come with the same limit (the API refuses otherwise).
  for (const [name, q] of Object.entries(out.requests ?? {})) {
    if (!name.includes('/') || name.startsWith('kubernetes.io/')) continue;
    if (out.limits?.[name] === undefined) throw badInput('resources', text, `requests ${name} without a limit: give it under limits (the request defaults to the limit)`);
    if (out.limits[name] !== q) throw badInput('resources', text, `requests ${q} ${name} but limits ${out.limits[name]}: an extended resource needs request = limit`);
  }
  return out;
}

export function parseNodeSelector(text: string | undefined): Record<string, string> {
  if (!text?.trim()) return {};
  const value = yamlValue('node-selector', text);
  if (!isObject(value)) throw badInput('node-selector', text, 'must be a mapping of node label: value, e.g. {nvidia.com/gpu.present: "true"}');
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
    if (!validLabelKey(key) || s === undefined || !LABEL_VALUE.test(s)) throw badInput('node-selector', text, `has ${JSON.stringify(key)}: ${JSON.stringify(v)}, which is not a label key and value`);
    out[key] = s;
  }
  return out;
}

export function parseTolerations(text: string | undefined): Toleration[] {
  if (!text?.trim()) return [];
  const value = yamlValue('tolerations', text);
  if (!Array.isArray(value)) throw badInput('tolerations', text, 'must be a YAML list such as [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]');
  return value.map((t, i) => {
    const at = `item ${i + 1}`;
    if (!isObject(t)) throw badInput('tolerations', text, `${at} is not a mapping`);
    for (const key of Object.keys(t)) {
      if (!['key', 'operator', 'value', 'effect', 'tolerationSeconds'].includes(key)) throw badInput('tolerations', text, `${at} has the key ${JSON.stringify(key)} (allowed: key, operator, value, effect, tolerationSeconds)`);
    }
    const out: Toleration = {};
    if (t.key !== undefined) {
      if (typeof t.key !== 'string' || !validLabelKey(t.key)) throw badInput('tolerations', text, `${at} has key ${JSON.stringify(t.key)}, which is not a taint key`);
      out.key = t.key;
    }
    if (t.operator !== undefined) {
      if (t.operator !== 'Equal' && t.operator !== 'Exists') throw badInput('tolerations', text, `${at} has operator ${JSON.stringify(t.operator)}: use Equal or Exists`);
      out.operator = t.operator;
    }
    if (t.value !== undefined) {
      if (out.operator === 'Exists') throw badInput('tolerations', text, `${at} has operator Exists and a value: drop the value`);
      out.value = String(t.value);
    }
    if (out.key === undefined && out.operator !== 'Exists') throw badInput('tolerations', text, `${at} has no key: an empty key needs operator Exists`);
    if (t.effect !== undefined) {
      if (t.effect !== 'NoSchedule' && t.effect !== 'PreferNoSchedule' && t.effect !== 'NoExecute') throw badInput('tolerations', text, `${at} has effect ${JSON.stringify(t.effect)}: use NoSchedule, PreferNoSchedule or NoExecute`);
      out.effect = t.effect;
    }
    if (t.tolerationSeconds !== undefined) {
      if (!Number.isInteger(t.tolerationSeconds) || out.effect !== 'NoExecute') throw badInput('tolerations', text, `${at} has tolerationSeconds, which needs a whole number and effect NoExecute`);
      out.tolerationSeconds = t.tolerationSeconds as number;
    }
    return out;
  });
}

/** Names the action sets itself, and (kubeflow) the torchrun variables Kubeflow Trainer reserves. */
function reservedEnv(name: string, backend: RemoteSettings['backend']): boolean {
  return name.startsWith('MLOPS_') || name === 'PYTHONHASHSEED' || (backend === 'kubeflow' && name.startsWith('PET_'));
}

/** `NAME: value` lines (YAML mapping), where a value may also be `{secretKeyRef: {name, key}}` (or configMapKeyRef, fieldRef). */
export function parseEnv(text: string | undefined, backend: RemoteSettings['backend']): EnvVar[] {
  if (!text?.trim()) return [];
  const value = yamlValue('env', text);
  if (!isObject(value)) throw badInput('env', text, 'must be a mapping of NAME: value (or NAME: {secretKeyRef: {name: s, key: k}})');
  return Object.entries(value).map(([name, v]) => {
    if (!ENV_NAME.test(name)) throw badInput('env', text, `has the name ${JSON.stringify(name)}, which is not an environment variable name`);
    if (reservedEnv(name, backend)) throw badInput('env', text, `sets ${name}, which the action sets itself${name.startsWith('PET_') ? ' (Kubeflow Trainer reserves PET_*)' : ''}: use another name`);
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return { name, value: String(v) };
    if (isObject(v)) {
      const [kind, ...more] = Object.keys(v);
      const ref = kind === undefined ? undefined : v[kind];
      if (more.length > 0 || !['secretKeyRef', 'configMapKeyRef', 'fieldRef'].includes(kind ?? '') || !isObject(ref)) {
        throw badInput('env', text, `gives ${name} ${JSON.stringify(v)}: use a string, or one of secretKeyRef, configMapKeyRef, fieldRef`);
      }
      const fields = kind === 'fieldRef' ? ['fieldPath', 'apiVersion'] : ['name', 'key', 'optional'];
      const clean: Record<string, string | boolean> = {};
      for (const [k, x] of Object.entries(ref)) {
        if (!fields.includes(k) || (k === 'optional' ? typeof x !== 'boolean' : typeof x !== 'string')) throw badInput('env', text, `gives ${name}.${kind} the field ${k}: ${JSON.stringify(x)} (allowed: ${fields.join(', ')})`);
        clean[k] = x as string | boolean;
      }
      const required = kind === 'fieldRef' ? ['fieldPath'] : ['name', 'key'];
      for (const k of required) if (clean[k] === undefined) throw badInput('env', text, `gives ${name}.${kind} no ${k}`);
      return { name, valueFrom: { [kind as string]: clean } };
    }
    throw badInput('env', text, `gives ${name} ${JSON.stringify(v)}: use a string`);
  });
}

function parseOutputUri(outputUri: string | undefined, remote: string | undefined): string {
  const given = outputUri?.trim();
  const base = given || (remote?.trim() ? `${remote.trim().replace(/\/+$/, '')}/runs` : '');
  const input = given ? 'output-uri' : 'remote';
  if (base === '') throw new UsageError('output-uri: is not set: a cluster backend needs an S3 prefix where the pod writes its outputs (output-uri: s3://bucket/runs, or remote: s3://bucket for <remote>/runs)');
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?:\/.*)?$/.test(base)) throw badInput(input, base, 'must be an S3 URL, s3://bucket/prefix: the pod cannot write to a folder on the runner');
  if (base.split('/').slice(3).some((s) => s === '..' || s === '.')) throw badInput(input, base, 'has a . or .. segment');
  return base.replace(/\/+$/, '');
}

function validLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  return LABEL_NAME.test(name) && (prefix === undefined || (prefix.length <= 253 && LABEL_PREFIX.test(prefix)));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

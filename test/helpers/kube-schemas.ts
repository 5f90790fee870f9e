/**
 * Validation of objects written to the Kubernetes API stand-in, against the real schemas:
 * - core kinds: kubernetes-models (types, required fields, enums, formats, from the Kubernetes OpenAPI) plus
 *   strict field validation (unknown fields refused) from @kubernetes/client-node's generated models, which
 *   carry every field name and type of the same OpenAPI description (release-1.36);
 * - custom resources: the CRD's openAPIV3Schema (test/integration/manifests/structural-schema.ts), and the CRD's
 *   names, scope and subresources.
 * Plus what the API server checks on every object: metadata.name a DNS subdomain, labels and annotations maps
 * of strings with valid keys.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as clientModels from '@kubernetes/client-node';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Event } from 'kubernetes-models/v1/Event';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Node } from 'kubernetes-models/v1/Node';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ReplicaSet } from 'kubernetes-models/apps/v1/ReplicaSet';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { parse } from 'yaml';
import { validateStructural, type Schema } from '../integration/manifests/structural-schema.ts';

export type Obj = Record<string, any>;

/** A kind the stand-in serves. */
export interface KindInfo {
  group: string;
  version: string;
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Writes to the main resource leave status alone, and status has its own endpoint. */
  statusSubresource: boolean;
  /** Core kinds accept strategic merge patches; custom resources answer 415. */
  core: boolean;
  /** Problems with the object, as `field: message` strings; empty when it is valid. */
  validate(object: Obj): string[];
}

interface Model {
  validate(): void;
}
type ModelClass = new (data: Obj) => Model;

const CORE: [apiVersion: string, kind: string, plural: string, namespaced: boolean, status: boolean, model: ModelClass, openapiType: string][] = [
  ['v1', 'Pod', 'pods', true, true, Pod as unknown as ModelClass, 'V1Pod'],
  ['v1', 'Event', 'events', true, false, Event as unknown as ModelClass, 'CoreV1Event'],
  ['v1', 'Service', 'services', true, true, Service as unknown as ModelClass, 'V1Service'],
  ['v1', 'ConfigMap', 'configmaps', true, false, ConfigMap as unknown as ModelClass, 'V1ConfigMap'],
  ['v1', 'Secret', 'secrets', true, false, Secret as unknown as ModelClass, 'V1Secret'],
  ['v1', 'Node', 'nodes', false, true, Node as unknown as ModelClass, 'V1Node'],
  ['v1', 'Namespace', 'namespaces', false, true, Namespace as unknown as ModelClass, 'V1Namespace'],
  ['apps/v1', 'Deployment', 'deployments', true, true, Deployment as unknown as ModelClass, 'V1Deployment'],
  ['apps/v1', 'ReplicaSet', 'replicasets', true, true, ReplicaSet as unknown as ModelClass, 'V1ReplicaSet'],
  ['batch/v1', 'Job', 'jobs', true, true, Job as unknown as ModelClass, 'V1Job'],
];

export function coreKinds(): KindInfo[] {
  return CORE.map(([apiVersion, kind, plural, namespaced, status, Model, openapiType]) => {
    const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
    return {
      group,
      version,
      apiVersion,
      kind,
      plural,
      namespaced,
      statusSubresource: status,
      core: true,
      validate(object) {
        const problems = [...metadataProblems(object), ...unknownFields(object, openapiType, '')];
        try {
          new Model(object).validate();
        } catch (error) {
          const errors = (error as { errors?: { instancePath: string; message?: string; params?: Obj }[] }).errors;
          if (!errors) throw error;
          for (const e of errors) problems.push(`${e.instancePath.slice(1).replaceAll('/', '.') || '<root>'}: ${e.message}${e.params?.allowedValues ? ` (${JSON.stringify(e.params.allowedValues)})` : ''}`);
        }
        return problems;
      },
    };
  });
}

/** The kinds a CustomResourceDefinition (parsed YAML) defines, one per served version. */
export function crdKinds(crd: Obj): KindInfo[] {
  if (crd?.kind !== 'CustomResourceDefinition') throw new Error('kube-api: not a CustomResourceDefinition');
  const { group, names, scope } = crd.spec;
  return (crd.spec.versions as Obj[])
    .filter((v) => v.served)
    .map((v) => {
      const schema = v.schema?.openAPIV3Schema as Schema;
      return {
        group,
        version: v.name,
        apiVersion: `${group}/${v.name}`,
        kind: names.kind,
        plural: names.plural,
        namespaced: scope === 'Namespaced',
        statusSubresource: Boolean(v.subresources?.status),
        core: false,
        validate(object) {
          // The CRD's schema only says metadata is an object; the API server checks its fields itself.
          return [...metadataProblems(object), ...validateStructural(object, schema)];
        },
      };
    });
}

/** The CRDs in test/fixtures: KServe's InferenceService and ArgoCD's Application, as the API serves them. */
export function fixtureCrds(): Obj[] {
  const root = join(import.meta.dirname, '../fixtures');
  return [join(root, 'kserve/serving.kserve.io_inferenceservices.yaml'), join(root, 'argocd/application-crd.yaml')].map(readYamlCached);
}

/**
 * Parses a large YAML file once per change of the file: the KServe CRD takes seconds to parse with `yaml` and
 * a fraction of that as JSON, so the parsed form is kept in node_modules/.cache (never in the system temp folder).
 */
export function readYamlCached(file: string): Obj {
  const info = statSync(file);
  const cacheDir = join(import.meta.dirname, '../../node_modules/.cache/mlops-actions-tests');
  const cached = join(cacheDir, `${basename(file)}-${info.size}-${Math.trunc(info.mtimeMs)}.json`);
  try {
    return JSON.parse(readFileSync(cached, 'utf8')) as Obj;
  } catch {
    const parsed = parse(readFileSync(file, 'utf8')) as Obj;
    mkdirSync(cacheDir, { recursive: true });
    const temp = `${cached}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(parsed));
    renameSync(temp, cached);
    return parsed;
  }
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function metadataProblems(object: Obj): string[] {
  const problems: string[] = [];
  const meta = object.metadata;
  if (typeof meta !== 'object' || meta === null) return ['metadata: Required value'];
  if (typeof meta.name !== 'string' || meta.name.length === 0) problems.push('metadata.name: Required value: name or generateName is required');
  else if (meta.name.length > 253 || !DNS_SUBDOMAIN.test(meta.name)) {
    problems.push(`metadata.name: Invalid value: ${JSON.stringify(meta.name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
  }
  for (const field of ['labels', 'annotations'] as const) {
    const map = meta[field];
    if (map === undefined) continue;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) {
      problems.push(`metadata.${field}: must be a map of strings`);
      continue;
    }
    for (const [key, value] of Object.entries(map)) {
      if (!qualifiedKey(key)) problems.push(`metadata.${field}: Invalid value: ${JSON.stringify(key)}: name part must consist of alphanumeric characters, '-', '_' or '.', with an optional DNS subdomain prefix and '/'`);
      if (typeof value !== 'string') problems.push(`metadata.${field}.${key}: must be a string, got ${JSON.stringify(value)}`);
      else if (field === 'labels' && (value.length > 63 || !LABEL_VALUE.test(value))) problems.push(`metadata.labels.${key}: Invalid value: ${JSON.stringify(value)}: a valid label must be 63 characters or less`);
    }
  }
  return problems;
}

function qualifiedKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false;
  return name.length > 0 && name.length <= 63 && QUALIFIED_NAME.test(name);
}

type AttributeMap = { name: string; baseName: string; type: string }[];
const models = clientModels as unknown as Record<string, { getAttributeTypeMap?: () => AttributeMap } | undefined>;

/** Fields the OpenAPI type does not declare, recursively (`spec.containers[0].imagePullPolicyy: unknown field`). */
function unknownFields(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array?.[1]) return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`)) : [];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map?.[1]) return typeof value === 'object' ? Object.entries(value).flatMap(([k, v]) => unknownFields(v, map[1]!, `${path}.${k}`)) : [];
  const attributes = models[type]?.getAttributeTypeMap?.();
  if (!attributes || typeof value !== 'object' || Array.isArray(value)) return [];
  const byName = new Map(attributes.map((a) => [a.baseName, a.type]));
  return Object.entries(value as Obj).flatMap(([key, child]) => {
    const childPath = path ? `${path}.${key}` : key;
    const childType = byName.get(key);
    return childType === undefined ? [`${childPath}: unknown field`] : unknownFields(child, childType, childPath);
  });
}

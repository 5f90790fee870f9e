/** A kind of object the API serves, and where: enough to build every path without discovery. */
export interface ResourceType {
  /** `v1`, `apps/v1`, `serving.kserve.io/v1beta1`. */
  apiVersion: string;
  kind: string;
  /** The URL segment: `pods`, `inferenceservices`. */
  plural: string;
  namespaced: boolean;
}

export function resourceType(apiVersion: string, kind: string, plural: string, namespaced = true): ResourceType {
  return { apiVersion, kind, plural, namespaced };
}

export const Pods = resourceType('v1', 'Pod', 'pods');
export const Events = resourceType('v1', 'Event', 'events');
export const Deployments = resourceType('apps/v1', 'Deployment', 'deployments');
export const ReplicaSets = resourceType('apps/v1', 'ReplicaSet', 'replicasets');
export const Jobs = resourceType('batch/v1', 'Job', 'jobs');
export const Nodes = resourceType('v1', 'Node', 'nodes', false);
export const InferenceServices = resourceType('serving.kserve.io/v1beta1', 'InferenceService', 'inferenceservices');
export const Applications = resourceType('argoproj.io/v1alpha1', 'Application', 'applications');

export interface PathParts {
  namespace?: string | undefined;
  name?: string | undefined;
  /** `status`, `log`, `scale`. */
  subresource?: string | undefined;
}

/** `/api/v1/namespaces/ns/pods/name/log`, `/apis/serving.kserve.io/v1beta1/namespaces/ns/inferenceservices`. */
export function resourcePath(type: ResourceType, parts: PathParts = {}): string {
  const root = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  const segments = [root];
  if (type.namespaced && parts.namespace !== undefined) segments.push('namespaces', segment('namespace', parts.namespace));
  segments.push(type.plural);
  if (parts.name !== undefined) segments.push(segment('name', parts.name));
  if (parts.subresource !== undefined) {
    if (parts.name === undefined) throw new Error(`a subresource (${parts.subresource}) needs an object name`);
    segments.push(segment('subresource', parts.subresource));
  }
  return segments.join('/');
}

function segment(what: string, value: string): string {
  // Object names are DNS subdomains or labels; anything else would change the path.
  if (value === '' || value === '.' || value === '..' || /[/?#%\s]/.test(value)) throw new Error(`${what} ${JSON.stringify(value)} cannot be part of an API path`);
  return value;
}

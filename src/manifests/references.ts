/**
 * Validation of the values `bump` writes: OCI image references, KServe storage URIs, Kubernetes annotation keys.
 * Each check returns a reason (for the error message) or undefined when the value is fine.
 */

/** An image reference split the way kustomize's `images:` entries hold it. */
export interface ImageReference {
  /** Registry and repository, without tag or digest (`ghcr.io/org/model-server`). */
  name: string;
  tag?: string;
  /** `sha256:` + 64 lowercase hex. */
  digest?: string;
}

// The grammar of github.com/distribution/reference (the one container runtimes use), with digests limited to sha256.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = 'sha256:[a-f0-9]{64}';
const REFERENCE = new RegExp(
  `^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);
const NAME_MAX = 255;

export function parseImageReference(text: string): ImageReference | string {
  if (/[\s\u0000-\u001f\u007f]/.test(text)) return 'contains whitespace or control characters';
  if (text === '') return 'is empty';
  const at = text.indexOf('@');
  if (at >= 0 && !/^sha256:[a-f0-9]{64}$/.test(text.slice(at + 1))) {
    return 'has a digest that is not sha256: followed by 64 lowercase hex digits';
  }
  const match = REFERENCE.exec(text);
  if (!match) {
    return 'is not an OCI image reference ([registry/]repository[:tag][@sha256:<64 hex>], lowercase repository, tag of letters, digits, _ . -, at most 128 characters)';
  }
  const [, name = '', tag, digest] = match;
  if (name.length > NAME_MAX) return `has a repository name longer than ${NAME_MAX} characters`;
  const reference: ImageReference = { name };
  if (tag !== undefined) reference.tag = tag;
  if (digest !== undefined) reference.digest = digest;
  return reference;
}

export function formatImageReference(reference: ImageReference): string {
  return `${reference.name}${reference.tag ? `:${reference.tag}` : ''}${reference.digest ? `@${reference.digest}` : ''}`;
}

/**
 * Storage URI schemes KServe downloads from: the default storage initializer's ClusterStorageContainer
 * (gs, s3, hdfs, webhdfs, hf, http(s) including Azure blob/file URLs), PVCs mounted by the controller,
 * and OCI modelcars.
 */
export const STORAGE_SCHEMES = ['s3', 'gs', 'pvc', 'https', 'http', 'hdfs', 'webhdfs', 'hf', 'oci'] as const;

export function storageUriProblem(uri: string): string | undefined {
  if (/[\s\u0000-\u001f\u007f]/.test(uri)) return 'contains whitespace or control characters';
  const match = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/.exec(uri);
  if (!match) return `has no scheme: use one KServe supports (${STORAGE_SCHEMES.map((s) => `${s}://`).join(', ')})`;
  const [, scheme = '', rest = ''] = match;
  if (!(STORAGE_SCHEMES as readonly string[]).includes(scheme)) {
    return `has scheme ${scheme}:// which KServe's storage initializer does not support: use one of ${STORAGE_SCHEMES.map((s) => `${s}://`).join(', ')}`;
  }
  const location = rest.split(/[?#]/, 1)[0] ?? '';
  const host = location.split('/', 1)[0] ?? '';
  if (host === '') return 'has no bucket, host or claim name after the scheme';
  let decoded: string;
  try {
    decoded = decodeURIComponent(location);
  } catch {
    return 'has an invalid percent-encoding';
  }
  if (decoded.split('/').some((segment) => segment === '..' || segment === '.')) {
    return 'has a "." or ".." path segment: give the exact location';
  }
  return undefined;
}

// A qualified name: optional DNS-subdomain prefix and `/`, then a name of at most 63 characters.
const ANNOTATION_NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

export function annotationKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return 'has a prefix that is not a DNS subdomain (lowercase letters, digits, - and .)';
  }
  if (!ANNOTATION_NAME.test(name)) {
    return 'is not a Kubernetes annotation key ([prefix/]name, name of at most 63 letters, digits, - _ . starting and ending alphanumeric)';
  }
  return undefined;
}

export function annotationValueProblem(value: string): string | undefined {
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'contains a newline or control character';
  if (value.length > 4096) return 'is longer than 4096 characters';
  return undefined;
}

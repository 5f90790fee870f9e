/**
 * A stand-in for the Kubernetes API server: real HTTPS on 127.0.0.1 that @kubernetes/client-node talks to
 * through a kubeconfig this helper writes (certificate-authority-data for a self-signed IP:127.0.0.1
 * certificate, a bearer token that every request must carry).
 *
 *   const api = await startKubeApi();                  // serves core kinds + KServe's and ArgoCD's CRDs
 *   const loaded = loadKubeConfig({ kubeconfig: api.kubeconfigPath });
 *   api.create({ apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', … });
 *   api.updateStatus('serving.kserve.io/v1beta1', 'InferenceService', 'ns', 'churn', (o) => { o.status = … });
 *   … run the code under test …
 *   expect(api.violations).toEqual([]);
 *   await api.close();
 *
 * What it does as the real API server does (kubernetes/website api-concepts.md, KEP-956):
 * - list answers `metadata.resourceVersion`; `limit`/`continue` pages; label selectors (`=`, `==`, `!=`, `in`,
 *   `notin`, `key`, `!key`) and field selectors (`metadata.name`, `metadata.namespace`, and the kind's own
 *   fields such as a Pod's `status.phase`; others are a 400 "field label not supported").
 * - watch (`watch=1|true`) streams newline-delimited `{"type","object"}` events: no resourceVersion or "0" starts
 *   with ADDED for every current object; a version starts exactly after it; a version older than the last
 *   `compact()` is refused with 410 Gone, as an HTTP status (`expiredAs: 'status'`) or as a 200 with an
 *   in-stream `ERROR` Status `Expired` (`'event'`, the default, what the watch cache does). An object that
 *   stops (starts) matching the selectors is sent as DELETED (ADDED). `allowWatchBookmarks=true` gets BOOKMARK
 *   events carrying only `metadata.resourceVersion` (on `bookmark()`, or every `bookmarkIntervalMs`);
 *   `timeoutSeconds` ends the stream after that long.
 * - writes: create (409 AlreadyExists, `generateName`), replace (409 Conflict on a stale
 *   `metadata.resourceVersion`), patch with `application/merge-patch+json`, `application/json-patch+json`,
 *   and `application/strategic-merge-patch+json` for core kinds only (415 for custom resources and any other
 *   type), delete with `propagationPolicy` (Foreground marks the object, deletes its dependents by
 *   ownerReferences, then the object; Orphan strips their ownerReferences; finalizers hold an object until an
 *   update clears them), `dryRun=All`. `resourceVersion` moves on every write, `generation` only when the spec
 *   changes (everything but metadata and status, when status is a subresource; everything but metadata
 *   otherwise, as for ArgoCD's Application); a write that changes nothing is a no-op. Status is a subresource
 *   where the kind says so: `/status` writes change only status, main writes leave it alone, create drops it.
 * - every written object is validated, strictly (unknown fields refused): core kinds against kubernetes-models
 *   and the OpenAPI field lists, custom resources against their CRD (test/helpers/kube-schemas.ts). Invalid is a
 *   422 `Invalid` Status naming the fields; a path the API does not serve is a 404 and a violation.
 * - pod logs (`pods/{name}/log`): `container` (required when the pod has several), `follow`, `sinceTime`,
 *   `timestamps` (RFC 3339 with nanoseconds), `tailLines`, from lines the test appends with `appendLog()`.
 *
 * The test's side (in-process, through the same rules and watch events): `create`, `get`, `list`, `update`,
 * `updateStatus`, `remove`, `onChange` (what scripted controllers react to), faults (`compact`,
 * `expireWatches`, `stallWatches`, `dropWatches`, `failNext`, `dropLogStreams`) and what happened
 * (`requests`, `deletions`, `violations`: requests a real server would refuse for a reason the product should
 * never cause, such as a path that does not exist or an unknown query parameter).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { coreKinds, crdKinds, fixtureCrds, type KindInfo, type Obj } from './kube-schemas.ts';
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from './kube-patch.ts';
import { loopbackCertificate } from './kube-tls.ts';
import { tempDir } from './tmp.ts';

export type { Obj } from './kube-schemas.ts';

export interface KubeApiOptions {
  /** The bearer token the kubeconfig carries (default: random). */
  token?: string;
  /** How a watch from a compacted version is refused (default `event`). Can be changed later on the api. */
  expiredAs?: 'status' | 'event';
  /** Send BOOKMARK events this often to watches that asked for them (default: only on `bookmark()`). */
  bookmarkIntervalMs?: number;
  /** More CustomResourceDefinitions to serve (parsed YAML), besides KServe's and ArgoCD's. */
  crds?: Obj[];
}

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  type: ChangeType;
  kind: KindInfo;
  object: Obj;
  old: Obj | undefined;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  status: number;
}

export interface Fault {
  method?: string;
  /** Matched against the URL path. */
  path: string | RegExp;
  status: number;
  reason?: string;
  message?: string;
  /** How many matching requests get it (default 1). */
  times?: number;
}

export interface WatchInfo {
  path: string;
  query: URLSearchParams;
  stalled: boolean;
}

export interface KubeApi {
  /** `https://127.0.0.1:<port>`. */
  url: string;
  token: string;
  /** The self-signed certificate the server presents (PEM). */
  caPem: string;
  /** A kubeconfig file for this server (current-context `stand-in`, namespace `default`). */
  kubeconfigPath: string;
  kubeconfig: string;
  /** Writes a kubeconfig trusting this server's certificate, for another server URL or token (the unreachable-API test). */
  writeKubeconfig(path: string, overrides?: { server?: string; token?: string }): string;
  expiredAs: 'status' | 'event';

  create(object: Obj): Obj;
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj | undefined;
  list(apiVersion: string, kind: string, namespace?: string): Obj[];
  /** A write to the main resource, as a controller or `kubectl apply` would make it (status changes are ignored where status is a subresource). */
  update(apiVersion: string, kind: string, namespace: string | undefined, name: string, mutate: (object: Obj) => void): Obj;
  /** A write to the status subresource (to the whole object for kinds without one). */
  updateStatus(apiVersion: string, kind: string, namespace: string | undefined, name: string, mutate: (object: Obj) => void): Obj;
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string, propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'): void;
  /** Called after every accepted write (HTTP or in-process), in order. */
  onChange(listener: (change: Change) => void): () => void;
  /** The current resourceVersion. */
  resourceVersion(): string;

  /** Forgets the event history: a watch from any version seen so far is now 410 Gone. */
  compact(): void;
  /** Ends every open watch with an in-stream ERROR 410 `Expired`; returns how many. */
  expireWatches(): number;
  /** Open watches stay connected but get nothing more, not even bookmarks (a silent stall); returns how many. */
  stallWatches(): number;
  /** Destroys the sockets of every open watch; returns how many. */
  dropWatches(): number;
  /** Sends a BOOKMARK to every open watch that asked for bookmarks; returns how many. */
  bookmark(): number;
  openWatches(): WatchInfo[];
  /** The next matching request(s) get this error Status instead. */
  failNext(fault: Fault): void;

  /** Appends a line to a container's log (default: the pod's first container; time: now, strictly increasing). */
  appendLog(namespace: string, pod: string, text: string, options?: { container?: string; time?: Date }): void;
  /** The container's log is complete: follow streams end. */
  endLog(namespace: string, pod: string, container?: string): void;
  /** Destroys every open log stream (a dropped connection); returns how many. */
  dropLogStreams(): number;

  requests: RequestRecord[];
  deletions: { kind: string; namespace: string | undefined; name: string; propagationPolicy: string }[];
  violations: string[];
  close(): Promise<void>;
}

class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly details: Obj | undefined;
  constructor(status: number, reason: string, message: string, details?: Obj) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.details = details;
  }
}

function statusBody(status: number, reason: string, message: string, details?: Obj): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code: status };
}

interface Target {
  kind: KindInfo;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

interface WatchConn {
  kind: KindInfo;
  namespace: string | undefined;
  matches: (object: Obj) => boolean;
  bookmarks: boolean;
  res: ServerResponse;
  stalled: boolean;
  path: string;
  query: URLSearchParams;
  timer: NodeJS.Timeout | undefined;
}

interface LogLine {
  time: Date;
  text: string;
}

interface LogStore {
  lines: LogLine[];
  ended: boolean;
  followers: Set<{ res: ServerResponse; timestamps: boolean }>;
}

const LIST_PARAMS = new Set(['labelSelector', 'fieldSelector', 'resourceVersion', 'resourceVersionMatch', 'limit', 'continue', 'watch', 'allowWatchBookmarks', 'timeoutSeconds', 'sendInitialEvents', 'pretty']);
const GET_PARAMS = new Set(['pretty', 'resourceVersion']);
const WRITE_PARAMS = new Set(['pretty', 'dryRun', 'fieldManager', 'fieldValidation', 'force']);
const DELETE_PARAMS = new Set(['pretty', 'dryRun', 'gracePeriodSeconds', 'propagationPolicy', 'orphanDependents']);
const LOG_PARAMS = new Set(['container', 'follow', 'previous', 'sinceSeconds', 'sinceTime', 'timestamps', 'tailLines', 'limitBytes', 'pretty', 'insecureSkipTLSVerifyBackend']);

/** Field selector labels each kind supports besides metadata.name and metadata.namespace. */
const FIELD_LABELS: Record<string, string[]> = {
  Pod: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  Event: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  Job: ['status.successful'],
  Node: ['spec.unschedulable'],
  Secret: ['type'],
};

export async function startKubeApi(options: KubeApiOptions = {}): Promise<KubeApi> {
  const token = options.token ?? `stand-in-${randomBytes(12).toString('hex')}`;
  const kinds = [...coreKinds(), ...[...fixtureCrds(), ...(options.crds ?? [])].flatMap(crdKinds)];
  const kindKey = (k: KindInfo) => `${k.apiVersion}/${k.plural}`;
  const objects = new Map<string, Map<string, Obj>>(kinds.map((k) => [kindKey(k), new Map()]));
  const history: { rv: number; type: ChangeType; kind: KindInfo; object: Obj; old: Obj | undefined }[] = [];
  const watches = new Set<WatchConn>();
  const logs = new Map<string, LogStore>();
  const listeners = new Set<(change: Change) => void>();
  const faults: (Fault & { left: number })[] = [];
  let rv = 1000;
  let compactedBelow = 0;
  let lastLogTime = 0;
  const { key: tlsKey, cert } = loopbackCertificate();

  const objectKey = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;
  const findKind = (apiVersion: string, kind: string): KindInfo => {
    const found = kinds.find((k) => k.apiVersion === apiVersion && k.kind === kind);
    if (!found) throw new Error(`kube-api: ${apiVersion} ${kind} is not served`);
    return found;
  };
  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

  // ------------------------------------------------------------------ store

  function emit(type: ChangeType, kind: KindInfo, object: Obj, old: Obj | undefined): void {
    history.push({ rv, type, kind, object, old });
    for (const watch of watches) {
      if (watch.kind !== kind || watch.stalled) continue;
      if (watch.namespace !== undefined && object.metadata.namespace !== watch.namespace) continue;
      const matches = type !== 'DELETED' && watch.matches(object);
      const matched = old !== undefined && watch.matches(old);
      if (type === 'DELETED') {
        if (watch.matches(object)) send(watch, 'DELETED', object);
      } else if (matches && matched) send(watch, 'MODIFIED', object);
      else if (matches) send(watch, 'ADDED', object);
      else if (matched) send(watch, 'DELETED', object);
    }
    for (const listener of listeners) listener({ type, kind, object: structuredClone(object), old: old && structuredClone(old) });
  }

  function send(watch: WatchConn, type: string, object: Obj): void {
    if (!watch.res.writableEnded && !watch.res.destroyed) watch.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  function store(kind: KindInfo): Map<string, Obj> {
    return objects.get(kindKey(kind)) as Map<string, Obj>;
  }

  function checkNamespace(kind: KindInfo, namespace: string | undefined): void {
    if (kind.namespaced && !namespace) throw new ApiError(400, 'BadRequest', `${kind.plural} is namespaced: a namespace is required`);
    if (!kind.namespaced && namespace) throw new ApiError(404, 'NotFound', `${kind.plural} is not namespaced`);
  }

  function invalid(kind: KindInfo, name: string, problems: string[]): ApiError {
    const qualified = kind.group ? `${kind.kind}.${kind.group}` : kind.kind;
    return new ApiError(422, 'Invalid', `${qualified} "${name}" is invalid: ${problems.join(', ')}`, {
      name,
      group: kind.group,
      kind: kind.kind,
      causes: problems.map((p) => ({ reason: 'FieldValueInvalid', message: p, field: p.split(':')[0] })),
    });
  }

  function createObject(kind: KindInfo, namespace: string | undefined, body: unknown, dryRun = false): Obj {
    checkNamespace(kind, namespace);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'BadRequest', 'the body is not a JSON object');
    const object = structuredClone(body) as Obj;
    if (object.apiVersion !== kind.apiVersion || object.kind !== kind.kind) {
      throw new ApiError(400, 'BadRequest', `the API version in the data (${object.apiVersion}) and kind (${object.kind}) do not match ${kind.apiVersion} ${kind.kind}`);
    }
    object.metadata ??= {};
    const meta = object.metadata as Obj;
    if (meta.namespace !== undefined && meta.namespace !== namespace) {
      throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    if (!meta.name && typeof meta.generateName === 'string') meta.name = `${meta.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
    const name = String(meta.name ?? '');
    if (kind.namespaced) meta.namespace = namespace;
    if (store(kind).has(objectKey(namespace, name))) {
      throw new ApiError(409, 'AlreadyExists', `${kind.plural}${kind.group ? `.${kind.group}` : ''} "${name}" already exists`, { name, group: kind.group, kind: kind.plural });
    }
    // A status subresource's status is not written by create.
    if (kind.statusSubresource) delete object.status;
    for (const field of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'generation']) delete meta[field];
    const problems = kind.validate(object);
    if (problems.length > 0) throw invalid(kind, name, problems);
    if (dryRun) return object;
    rv++;
    Object.assign(meta, { uid: randomUUID(), resourceVersion: String(rv), generation: 1, creationTimestamp: now() });
    store(kind).set(objectKey(namespace, name), object);
    emit('ADDED', kind, object, undefined);
    return object;
  }

  function existing(kind: KindInfo, namespace: string | undefined, name: string): Obj {
    checkNamespace(kind, namespace);
    const object = store(kind).get(objectKey(namespace, name));
    if (!object) throw new ApiError(404, 'NotFound', `${kind.plural}${kind.group ? `.${kind.group}` : ''} "${name}" not found`, { name, group: kind.group, kind: kind.plural });
    return object;
  }

  /** Writes `candidate` over the stored object with the API server's rules for main and status writes. */
  function writeObject(kind: KindInfo, namespace: string | undefined, name: string, candidate: unknown, subresource: 'main' | 'status', dryRun = false): Obj {
    const old = existing(kind, namespace, name);
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) throw new ApiError(400, 'BadRequest', 'the body is not a JSON object');
    const given = structuredClone(candidate) as Obj;
    if ((given.apiVersion !== undefined && given.apiVersion !== kind.apiVersion) || (given.kind !== undefined && given.kind !== kind.kind)) {
      throw new ApiError(400, 'BadRequest', `the API version (${given.apiVersion}) and kind (${given.kind}) do not match ${kind.apiVersion} ${kind.kind}`);
    }
    const givenMeta = (given.metadata ?? {}) as Obj;
    if (givenMeta.resourceVersion !== undefined && givenMeta.resourceVersion !== old.metadata.resourceVersion) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${kind.plural}${kind.group ? `.${kind.group}` : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, group: kind.group, kind: kind.plural });
    }
    if ((givenMeta.name !== undefined && givenMeta.name !== name) || (givenMeta.namespace !== undefined && givenMeta.namespace !== namespace)) {
      throw new ApiError(400, 'BadRequest', 'the name or namespace of the object does not match the request');
    }
    let next: Obj;
    if (subresource === 'status') next = { ...structuredClone(old), status: given.status };
    else {
      next = { ...given, apiVersion: kind.apiVersion, kind: kind.kind };
      if (kind.statusSubresource) next.status = structuredClone(old.status);
      if (next.status === undefined) delete next.status;
    }
    if (next.status === undefined) delete next.status;
    const meta = { ...(subresource === 'status' ? old.metadata : (next.metadata ?? {})) } as Obj;
    for (const field of ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'generation', 'resourceVersion']) {
      if (old.metadata[field] === undefined) delete meta[field];
      else meta[field] = old.metadata[field];
    }
    next.metadata = meta;
    if (JSON.stringify(next) === JSON.stringify(old)) return old;
    const specOf = (o: Obj) => {
      const { metadata: _m, status, ...rest } = o;
      return JSON.stringify(kind.statusSubresource ? rest : { ...rest, status });
    };
    if (specOf(next) !== specOf(old)) meta.generation = Number(old.metadata.generation ?? 1) + 1;
    const problems = kind.validate(next);
    if (problems.length > 0) throw invalid(kind, name, problems);
    if (dryRun) return next;
    rv++;
    meta.resourceVersion = String(rv);
    // The last finalizer gone from an object being deleted: it goes.
    if (meta.deletionTimestamp && !(meta.finalizers as unknown[] | undefined)?.length) {
      store(kind).delete(objectKey(namespace, name));
      emit('DELETED', kind, next, old);
      return next;
    }
    store(kind).set(objectKey(namespace, name), next);
    emit('MODIFIED', kind, next, old);
    return next;
  }

  function patchObject(kind: KindInfo, namespace: string | undefined, name: string, contentType: string | undefined, patch: unknown, subresource: 'main' | 'status', dryRun: boolean): Obj {
    const old = existing(kind, namespace, name);
    const type = (contentType ?? '').split(';')[0]?.trim();
    let result: unknown;
    try {
      if (type === 'application/merge-patch+json') result = mergePatch(old, patch);
      else if (type === 'application/json-patch+json') result = jsonPatch(old, patch);
      else if (type === 'application/strategic-merge-patch+json' && kind.core) result = strategicMergePatch(old, patch);
      else {
        if (type === 'application/apply-patch+yaml') api.violations.push('server-side apply is not implemented by the stand-in');
        throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json${kind.core ? ', application/strategic-merge-patch+json' : ''}, application/apply-patch+yaml`);
      }
    } catch (error) {
      if (error instanceof PatchError) throw new ApiError(422, 'Invalid', `the patch could not be applied: ${error.message}`);
      throw error;
    }
    return writeObject(kind, namespace, name, result, subresource, dryRun);
  }

  function deleteObject(kind: KindInfo, namespace: string | undefined, name: string, policy: string): Obj | undefined {
    const object = existing(kind, namespace, name);
    api.deletions.push({ kind: kind.kind, namespace, name, propagationPolicy: policy });
    const uid = object.metadata.uid;
    const dependents = () =>
      [...objects.entries()].flatMap(([key, map]) => {
        const dependentKind = kinds.find((k) => kindKey(k) === key) as KindInfo;
        return [...map.values()].filter((o) => (o.metadata.ownerReferences as Obj[] | undefined)?.some((r) => r.uid === uid)).map((o) => ({ kind: dependentKind, object: o }));
      });
    if (policy === 'Orphan') {
      for (const d of dependents()) {
        writeObject(d.kind, d.object.metadata.namespace, d.object.metadata.name, { ...d.object, metadata: { ...d.object.metadata, ownerReferences: (d.object.metadata.ownerReferences as Obj[]).filter((r) => r.uid !== uid) } }, 'main');
      }
    }
    const finalizers = [...((object.metadata.finalizers as string[] | undefined) ?? []), ...(policy === 'Foreground' ? ['foregroundDeletion'] : [])];
    if (finalizers.length > 0) {
      rv++;
      const marked = { ...structuredClone(object), metadata: { ...object.metadata, deletionTimestamp: now(), finalizers, resourceVersion: String(rv) } };
      store(kind).set(objectKey(namespace, name), marked);
      emit('MODIFIED', kind, marked, object);
      if (policy !== 'Foreground') return marked;
    }
    if (policy !== 'Orphan') for (const d of dependents()) deleteObject(d.kind, d.object.metadata.namespace, d.object.metadata.name, 'Background');
    const current = store(kind).get(objectKey(namespace, name)) ?? object;
    const others = ((current.metadata.finalizers as string[] | undefined) ?? []).filter((f) => f !== 'foregroundDeletion');
    if (others.length > 0) {
      // Foreground done with the dependents, but someone else's finalizer still holds the object.
      writeObject(kind, namespace, name, { ...current, metadata: { ...current.metadata, finalizers: others } }, 'main');
      return store(kind).get(objectKey(namespace, name));
    }
    rv++;
    store(kind).delete(objectKey(namespace, name));
    const gone = { ...current, metadata: { ...current.metadata, resourceVersion: String(rv) } };
    emit('DELETED', kind, gone, current);
    for (const [k, log] of logs) {
      if (kind.kind === 'Pod' && k.startsWith(`${namespace}/${name}/`)) endLogStore(log);
    }
    return undefined;
  }

  // ------------------------------------------------------------------ selectors

  function labelMatcher(selector: string | null): (object: Obj) => boolean {
    if (!selector) return () => true;
    const terms = selector.split(/,(?![^(]*\))/).map((t) => t.trim()).filter(Boolean);
    const tests = terms.map((term) => {
      let m: RegExpExecArray | null;
      if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
        const [, key = '', op, list = ''] = m;
        const values = list.split(',').map((v) => v.trim());
        return (labels: Obj) => (op === 'in' ? values.includes(labels[key]) : !values.includes(labels[key]));
      }
      if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(term))) {
        const [, key = '', op, value] = m;
        return (labels: Obj) => (op === '!=' ? labels[key] !== value : labels[key] === value);
      }
      if ((m = /^(!?)([\w./-]+)$/.exec(term))) {
        const [, not, key = ''] = m;
        return (labels: Obj) => (not ? !(key in labels) : key in labels);
      }
      throw new ApiError(400, 'BadRequest', `unable to parse requirement: ${JSON.stringify(term)}: invalid label selector`);
    });
    return (object) => tests.every((t) => t((object.metadata?.labels ?? {}) as Obj));
  }

  function fieldMatcher(kind: KindInfo, selector: string | null): (object: Obj) => boolean {
    if (!selector) return () => true;
    const supported = ['metadata.name', 'metadata.namespace', ...(FIELD_LABELS[kind.kind] ?? [])];
    const tests = selector.split(',').map((term) => {
      const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(term.trim());
      if (!m) throw new ApiError(400, 'BadRequest', `invalid field selector: ${JSON.stringify(term)}`);
      const [, field = '', op, value] = m;
      if (!supported.includes(field)) throw new ApiError(400, 'BadRequest', `field label not supported: ${field}`);
      return (object: Obj) => {
        const actual = String(field.split('.').reduce<unknown>((o, k) => (o as Obj | undefined)?.[k], object) ?? '');
        return op === '!=' ? actual !== value : actual === value;
      };
    });
    return (object) => tests.every((t) => t(object));
  }

  // ------------------------------------------------------------------ HTTP

  function parseTarget(pathname: string): Target | undefined {
    const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    let group = '';
    let version: string | undefined;
    let rest: string[];
    if (parts[0] === 'api') [version, rest] = [parts[1], parts.slice(2)];
    else if (parts[0] === 'apis') [group, version, rest] = [parts[1] ?? '', parts[2], parts.slice(3)];
    else return undefined;
    const apiVersion = group ? `${group}/${version}` : (version ?? '');
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, subresource, ...extra] = rest;
    const kind = kinds.find((k) => k.apiVersion === apiVersion && k.plural === plural);
    if (!kind || extra.length > 0) return undefined;
    if (namespace !== undefined && !kind.namespaced) return undefined;
    if (subresource !== undefined && !(subresource === 'status' && kind.statusSubresource) && !(subresource === 'log' && kind.kind === 'Pod')) return undefined;
    return { kind, namespace, name, subresource };
  }

  function checkParams(method: string, target: Target, query: URLSearchParams): void {
    const allowed =
      target.subresource === 'log' ? LOG_PARAMS : method === 'GET' ? (target.name ? GET_PARAMS : LIST_PARAMS) : method === 'DELETE' ? DELETE_PARAMS : WRITE_PARAMS;
    for (const key of new Set(query.keys())) {
      if (!allowed.has(key)) api.violations.push(`${method} ${target.kind.plural}${target.subresource ? `/${target.subresource}` : ''}: unknown query parameter ${key}`);
    }
  }

  function json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  }

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (text === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new ApiError(400, 'BadRequest', `the body is not JSON: ${text.slice(0, 80)}`);
    }
  }

  function isJson(contentType: string | undefined): boolean {
    return /^application\/json(\s*;|$)/.test(contentType ?? '');
  }

  async function handle(req: IncomingMessage, res: ServerResponse, record: RequestRecord): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = req.method ?? 'GET';
    if (req.headers.authorization !== `Bearer ${token}`) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    const fault = faults.find((f) => f.left > 0 && (!f.method || f.method === method) && (typeof f.path === 'string' ? f.path === url.pathname : f.path.test(url.pathname)));
    if (fault) {
      fault.left--;
      throw new ApiError(fault.status, fault.reason ?? 'InternalError', fault.message ?? 'injected by the test');
    }
    if (url.pathname === '/version' && method === 'GET') return json(res, 200, { major: '1', minor: '34', gitVersion: 'v1.34.0-stand-in', platform: 'linux/amd64' });
    const discovery = method === 'GET' ? discover(url.pathname) : undefined;
    if (discovery) return json(res, 200, discovery);
    const target = parseTarget(url.pathname);
    if (!target) {
      api.violations.push(`${method} ${url.pathname}: the API serves no such path`);
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    checkParams(method, target, url.searchParams);
    const { kind, namespace, name, subresource } = target;
    const dryRun = url.searchParams.get('dryRun') === 'All';
    const contentType = req.headers['content-type'];

    if (method === 'GET' && subresource === 'log' && name) return serveLog(res, namespace, name, url.searchParams);
    if (method === 'GET' && name) return json(res, 200, existing(kind, namespace, name));
    if (method === 'GET') {
      if (kind.namespaced === false && namespace) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      const watch = url.searchParams.get('watch');
      if (watch === 'true' || watch === '1') return startWatch(req, res, target, url.searchParams);
      return json(res, 200, listObjects(target, url.searchParams));
    }
    if (method === 'POST' && !name) {
      if (!isJson(contentType)) throw new ApiError(415, 'UnsupportedMediaType', `unsupported media type ${contentType} for create`);
      return json(res, 201, createObject(kind, namespace, await readBody(req), dryRun));
    }
    if (method === 'PUT' && name) {
      if (!isJson(contentType)) throw new ApiError(415, 'UnsupportedMediaType', `unsupported media type ${contentType} for update`);
      return json(res, 200, writeObject(kind, namespace, name, await readBody(req), subresource === 'status' ? 'status' : 'main', dryRun));
    }
    if (method === 'PATCH' && name) {
      const body = await readBody(req);
      return json(res, 200, patchObject(kind, namespace, name, contentType, body, subresource === 'status' ? 'status' : 'main', dryRun));
    }
    if (method === 'DELETE' && name && !subresource) {
      const body = ((await readBody(req)) ?? {}) as Obj;
      const policy = String(url.searchParams.get('propagationPolicy') ?? body.propagationPolicy ?? (url.searchParams.get('orphanDependents') === 'true' || body.orphanDependents ? 'Orphan' : 'Background'));
      if (!['Foreground', 'Background', 'Orphan'].includes(policy)) throw new ApiError(422, 'Invalid', `propagationPolicy: Unsupported value: ${JSON.stringify(policy)}`);
      if (dryRun) return json(res, 200, existing(kind, namespace, name));
      const left = deleteObject(kind, namespace, name, policy);
      return left ? json(res, 200, left) : json(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: kind.group, kind: kind.plural, uid: undefined } });
    }
    api.violations.push(`${method} ${url.pathname}: not a verb the API serves on this path`);
    throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
  }

  /** Discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`), for clients such as KubernetesObjectApi. */
  function discover(pathname: string): Obj | undefined {
    const path = pathname.replace(/\/+$/, '');
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
    const groups = [...new Set(kinds.filter((k) => k.group).map((k) => k.group))];
    if (path === '/apis') {
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: groups.map((group) => {
          const versions = [...new Set(kinds.filter((k) => k.group === group).map((k) => k.version))].map((version) => ({ groupVersion: `${group}/${version}`, version }));
          return { name: group, versions, preferredVersion: versions[0] };
        }),
      };
    }
    const match = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (!match) return undefined;
    const groupVersion = match[1] ?? `${match[2]}/${match[3]}`;
    const served = kinds.filter((k) => k.apiVersion === groupVersion);
    if (served.length === 0) return undefined;
    const verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion,
      resources: served.flatMap((k) => [
        { name: k.plural, singularName: k.kind.toLowerCase(), namespaced: k.namespaced, kind: k.kind, verbs },
        ...(k.statusSubresource ? [{ name: `${k.plural}/status`, singularName: '', namespaced: k.namespaced, kind: k.kind, verbs: ['get', 'patch', 'update'] }] : []),
        ...(k.kind === 'Pod' ? [{ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] }] : []),
      ]),
    };
  }

  function listObjects(target: Target, query: URLSearchParams): Obj {
    const labels = labelMatcher(query.get('labelSelector'));
    const fields = fieldMatcher(target.kind, query.get('fieldSelector'));
    const all = [...store(target.kind).values()]
      .filter((o) => target.namespace === undefined || o.metadata.namespace === target.namespace)
      .filter((o) => labels(o) && fields(o))
      .sort((a, b) => objectKey(a.metadata.namespace, a.metadata.name).localeCompare(objectKey(b.metadata.namespace, b.metadata.name)));
    const limit = Number(query.get('limit') ?? 0);
    const start = Number(query.get('continue') ?? 0);
    const page = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
    const more = limit > 0 && start + limit < all.length;
    const items = page.map((o) => {
      const { apiVersion: _a, kind: _k, ...rest } = o;
      return rest;
    });
    return { apiVersion: target.kind.apiVersion, kind: `${target.kind.kind}List`, metadata: { resourceVersion: String(rv), ...(more ? { continue: String(start + limit) } : {}) }, items };
  }

  function startWatch(req: IncomingMessage, res: ServerResponse, target: Target, query: URLSearchParams): void {
    const labels = labelMatcher(query.get('labelSelector'));
    const fields = fieldMatcher(target.kind, query.get('fieldSelector'));
    const from = query.get('resourceVersion');
    const exact = from !== null && from !== '' && from !== '0';
    const expired = exact && (Number(from) < compactedBelow || !/^\d+$/.test(from));
    if (expired && api.expiredAs === 'status') throw new ApiError(410, 'Expired', `too old resource version: ${from} (${compactedBelow})`);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const watch: WatchConn = {
      kind: target.kind,
      namespace: target.namespace,
      matches: (o) => labels(o) && fields(o),
      bookmarks: query.get('allowWatchBookmarks') === 'true',
      res,
      stalled: false,
      path: req.url ?? '',
      query,
      timer: undefined,
    };
    if (expired) {
      res.end(`${JSON.stringify({ type: 'ERROR', object: statusBody(410, 'Expired', `too old resource version: ${from} (${compactedBelow})`) })}\n`);
      return;
    }
    const inNamespace = (o: Obj) => watch.namespace === undefined || o.metadata.namespace === watch.namespace;
    if (!exact) {
      for (const o of store(target.kind).values()) if (inNamespace(o) && watch.matches(o)) send(watch, 'ADDED', o);
    } else {
      for (const event of history) {
        if (event.rv <= Number(from) || event.kind !== target.kind || !inNamespace(event.object)) continue;
        const matches = event.type !== 'DELETED' && watch.matches(event.object);
        const matched = event.old !== undefined && watch.matches(event.old);
        if (event.type === 'DELETED') {
          if (watch.matches(event.object)) send(watch, 'DELETED', event.object);
        } else if (matches) send(watch, matched ? 'MODIFIED' : 'ADDED', event.object);
        else if (matched) send(watch, 'DELETED', event.object);
      }
    }
    watches.add(watch);
    const timeout = Number(query.get('timeoutSeconds') ?? 0);
    if (timeout > 0) watch.timer = setTimeout(() => res.end(), timeout * 1000);
    const forget = () => {
      clearTimeout(watch.timer);
      watches.delete(watch);
    };
    res.on('close', forget);
    req.on('close', forget);
  }

  function endLogStore(log: LogStore): void {
    log.ended = true;
    for (const f of log.followers) f.res.end();
    log.followers.clear();
  }

  function logLine(line: LogLine, timestamps: boolean): string {
    return `${timestamps ? `${line.time.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z')} ` : ''}${line.text}\n`;
  }

  function serveLog(res: ServerResponse, namespace: string | undefined, name: string, query: URLSearchParams): void {
    const pod = existing(findKind('v1', 'Pod'), namespace, name);
    const containers = [...((pod.spec?.initContainers as Obj[] | undefined) ?? []), ...((pod.spec?.containers as Obj[] | undefined) ?? [])].map((c) => String(c.name));
    const regular = ((pod.spec?.containers as Obj[] | undefined) ?? []).map((c) => String(c.name));
    let container = query.get('container') ?? undefined;
    if (!container) {
      if (regular.length !== 1) throw new ApiError(400, 'BadRequest', `a container name must be specified for pod ${name}, choose one of: [${regular.join(' ')}]`);
      container = regular[0];
    }
    if (!containers.includes(container as string)) throw new ApiError(400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
    const log = logStore(namespace as string, name, container as string);
    const since = query.get('sinceTime');
    const sinceMs = since ? Date.parse(since) : undefined;
    if (since && Number.isNaN(sinceMs)) throw new ApiError(400, 'BadRequest', `sinceTime: invalid RFC 3339 time ${JSON.stringify(since)}`);
    const timestamps = query.get('timestamps') === 'true';
    let lines = log.lines.filter((l) => sinceMs === undefined || l.time.getTime() >= sinceMs);
    const tail = query.get('tailLines');
    if (tail !== null) lines = lines.slice(Math.max(0, lines.length - Number(tail)));
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    for (const line of lines) res.write(logLine(line, timestamps));
    if (query.get('follow') !== 'true' || log.ended) {
      res.end();
      return;
    }
    const follower = { res, timestamps };
    log.followers.add(follower);
    res.on('close', () => log.followers.delete(follower));
  }

  function logStore(namespace: string, pod: string, container: string): LogStore {
    const key = `${namespace}/${pod}/${container}`;
    let log = logs.get(key);
    if (!log) {
      log = { lines: [], ended: false, followers: new Set() };
      logs.set(key, log);
    }
    return log;
  }

  const server: Server = createServer({ key: tlsKey, cert }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const record: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, contentType: req.headers['content-type'], status: 0 };
    api.requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));
    res.on('close', () => (record.status ||= res.statusCode));
    handle(req, res, record).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof ApiError) return json(res, error.status, statusBody(error.status, error.reason, error.message, error.details));
      api.violations.push(`the stand-in crashed on ${req.method} ${url.pathname}: ${(error as Error).stack ?? String(error)}`);
      json(res, 500, statusBody(500, 'InternalError', String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const bookmarkTimer = options.bookmarkIntervalMs ? setInterval(() => api.bookmark(), options.bookmarkIntervalMs) : undefined;

  const kubeconfigFor = (server: string, bearer: string) =>
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'stand-in', cluster: { server, 'certificate-authority-data': Buffer.from(cert).toString('base64') } }],
      users: [{ name: 'stand-in', user: { token: bearer } }],
      contexts: [{ name: 'stand-in', context: { cluster: 'stand-in', user: 'stand-in', namespace: 'default' } }],
      'current-context': 'stand-in',
    });
  const dir = tempDir('kube-api');
  const kubeconfigPath = join(dir, 'kubeconfig');
  const kubeconfig = kubeconfigFor(url, token);
  writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });

  const api: KubeApi = {
    url,
    token,
    caPem: cert,
    kubeconfigPath,
    kubeconfig,
    expiredAs: options.expiredAs ?? 'event',
    writeKubeconfig(path, overrides = {}) {
      writeFileSync(path, kubeconfigFor(overrides.server ?? url, overrides.token ?? token), { mode: 0o600 });
      return path;
    },
    create: (object) => structuredClone(createObject(findKind(object.apiVersion, object.kind), object.metadata?.namespace, object)),
    get: (apiVersion, kind, namespace, name) => {
      const found = store(findKind(apiVersion, kind)).get(objectKey(namespace, name));
      return found && structuredClone(found);
    },
    list: (apiVersion, kind, namespace) => [...store(findKind(apiVersion, kind)).values()].filter((o) => namespace === undefined || o.metadata.namespace === namespace).map((o) => structuredClone(o)),
    update(apiVersion, kind, namespace, name, mutate) {
      const info = findKind(apiVersion, kind);
      const copy = structuredClone(existing(info, namespace, name));
      mutate(copy);
      return structuredClone(writeObject(info, namespace, name, copy, 'main'));
    },
    updateStatus(apiVersion, kind, namespace, name, mutate) {
      const info = findKind(apiVersion, kind);
      const copy = structuredClone(existing(info, namespace, name));
      mutate(copy);
      return structuredClone(writeObject(info, namespace, name, copy, info.statusSubresource ? 'status' : 'main'));
    },
    remove(apiVersion, kind, namespace, name, policy = 'Background') {
      deleteObject(findKind(apiVersion, kind), namespace, name, policy);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    resourceVersion: () => String(rv),
    compact() {
      compactedBelow = rv + 1;
      history.length = 0;
    },
    expireWatches() {
      const n = watches.size;
      for (const watch of [...watches]) {
        watch.res.end(`${JSON.stringify({ type: 'ERROR', object: statusBody(410, 'Expired', `too old resource version: ${watch.query.get('resourceVersion') ?? ''} (${rv})`) })}\n`);
        watches.delete(watch);
      }
      return n;
    },
    stallWatches() {
      for (const watch of watches) watch.stalled = true;
      return watches.size;
    },
    dropWatches() {
      const n = watches.size;
      for (const watch of [...watches]) watch.res.destroy();
      return n;
    },
    bookmark() {
      let n = 0;
      for (const watch of watches) {
        if (!watch.bookmarks || watch.stalled) continue;
        send(watch, 'BOOKMARK', { kind: watch.kind.kind, apiVersion: watch.kind.apiVersion, metadata: { resourceVersion: String(rv) } });
        n++;
      }
      return n;
    },
    openWatches: () => [...watches].map((w) => ({ path: w.path, query: w.query, stalled: w.stalled })),
    failNext(fault) {
      faults.push({ ...fault, left: fault.times ?? 1 });
    },
    appendLog(namespace, pod, text, logOptions = {}) {
      const object = existing(findKind('v1', 'Pod'), namespace, pod);
      const container = logOptions.container ?? String((object.spec?.containers as Obj[] | undefined)?.[0]?.name);
      const log = logStore(namespace, pod, container);
      const time = logOptions.time ?? new Date(Math.max(Date.now(), lastLogTime + 1));
      lastLogTime = Math.max(lastLogTime, time.getTime());
      const line = { time, text };
      log.lines.push(line);
      for (const f of log.followers) f.res.write(logLine(line, f.timestamps));
    },
    endLog(namespace, pod, container) {
      const object = existing(findKind('v1', 'Pod'), namespace, pod);
      endLogStore(logStore(namespace, pod, container ?? String((object.spec?.containers as Obj[] | undefined)?.[0]?.name)));
    },
    dropLogStreams() {
      let n = 0;
      for (const log of logs.values()) {
        for (const f of log.followers) {
          f.res.destroy();
          n++;
        }
        log.followers.clear();
      }
      return n;
    },
    requests: [],
    deletions: [],
    violations: [],
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(bookmarkTimer);
        for (const watch of watches) clearTimeout(watch.timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return api;
}

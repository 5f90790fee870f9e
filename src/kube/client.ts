import { Readable } from 'node:stream';
import { HttpMethod, IsomorphicFetchHttpLibrary, RequestContext, Watch, type KubeConfig, type ResponseContext } from '@kubernetes/client-node';
import { KubeApiError, KubeUnreachableError, networkCause } from './errors.ts';
import { Pods, resourcePath, type ResourceType } from './resources.ts';
import type { KubeObject, KubeStatus, ObjectList } from './types.ts';

export interface ListOptions {
  /** `app=churn,tier!=canary`, `environment in (staging,production)`. */
  labelSelector?: string;
  /** `metadata.name=churn`. */
  fieldSelector?: string;
  signal?: AbortSignal;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Start after this version (from a list); unset = every current object as ADDED first. */
  resourceVersion?: string;
  /** Ask for BOOKMARK events, which keep a quiet watch's resourceVersion fresh (default true). */
  allowWatchBookmarks?: boolean;
  /** Ask the server to end the watch after this many seconds. */
  timeoutSeconds?: number;
  /** No byte for this long means the watch has stalled: it is ended with `stalled` (default 30 s). */
  stallMs?: number;
}

export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; resourceVersion: string };

/** Why a watch ended. Only `error` carries something the caller must not retry blindly (see `error`). */
export type WatchEnd =
  /** The server closed the stream (timeoutSeconds, or its own limit): watch again from the last version. */
  | { reason: 'closed' }
  /** 410 Gone, as an HTTP status or as an in-stream ERROR `Expired`: the version is too old, list again. */
  | { reason: 'expired'; status?: KubeStatus }
  /** Nothing arrived for `stallMs` (this includes @kubernetes/client-node's own inactivity abort). */
  | { reason: 'stalled' }
  /** An in-stream ERROR other than 410, an HTTP error, or the network. */
  | { reason: 'error'; error: Error }
  /** `stop()` was called. */
  | { reason: 'stopped' };

export interface WatchHandle {
  /** Settles (never rejects) when the stream ends, with why. */
  done: Promise<WatchEnd>;
  stop(): void;
}

export type PatchType = 'merge' | 'json' | 'strategic';

export const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export interface LogOptions {
  container?: string;
  follow?: boolean;
  /** RFC 3339 time: only lines at or after it. */
  sinceTime?: string;
  /** Prefix each line with its RFC 3339 timestamp and a space. */
  timestamps?: boolean;
  tailLines?: number;
  previous?: boolean;
  signal?: AbortSignal;
}

export interface KubeClientOptions {
  /** Longest wait for one non-streaming request (default 30 s). */
  requestTimeoutMs?: number;
}

type Query = Record<string, string | number | boolean | undefined>;

/**
 * A small typed client over @kubernetes/client-node: the kubeconfig's authentication, TLS and HTTP stack
 * (`applySecurityAuthentication`, its undici fetch) and its `Watch`, with paths built from a ResourceType so
 * core kinds and custom resources go through the same six verbs. Errors are KubeApiError (an HTTP status) or
 * KubeUnreachableError (no answer); nothing is retried here: see Reflector for the watch loop.
 */
export class KubeClient {
  readonly config: KubeConfig;
  /** The API server URL of the current context. */
  readonly server: string;
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly requestTimeoutMs: number;

  constructor(config: KubeConfig, options: KubeClientOptions = {}) {
    const cluster = config.getCurrentCluster();
    if (!cluster?.server) throw new Error('the kubeconfig has no current cluster: load it with loadKubeConfig()');
    this.config = config;
    this.server = cluster.server.replace(/\/+$/, '');
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /** One object, or undefined when it does not exist (404). */
  async get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, options: { subresource?: string; signal?: AbortSignal } = {}): Promise<T | undefined> {
    const path = resourcePath(type, { namespace, name, subresource: options.subresource });
    const response = await this.send(HttpMethod.GET, path, { signal: options.signal });
    if (response.httpStatusCode === 404) {
      await response.body.text().catch(() => '');
      return undefined;
    }
    return this.json<T>(response, `get ${type.kind} ${describe(namespace, name)}`);
  }

  /** Every object matching the selectors (following `continue` pages), and the list's resourceVersion. */
  async list<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options: ListOptions = {}): Promise<ObjectList<T>> {
    const path = resourcePath(type, { namespace });
    const items: T[] = [];
    let next: string | undefined;
    let resourceVersion = '';
    do {
      const response = await this.send(HttpMethod.GET, path, {
        query: { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, continue: next },
        signal: options.signal,
      });
      const page = await this.json<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>(response, `list ${type.plural}${namespace ? ` in ${namespace}` : ''}`);
      for (const item of page.items ?? []) items.push(withKind(item, type));
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      next = page.metadata?.continue || undefined;
    } while (next);
    return { items, resourceVersion };
  }

  async create<T extends KubeObject>(type: ResourceType, namespace: string | undefined, body: T, options: { signal?: AbortSignal } = {}): Promise<T> {
    const path = resourcePath(type, { namespace });
    const response = await this.send(HttpMethod.POST, path, { body, signal: options.signal });
    return this.json<T>(response, `create ${type.kind} ${describe(namespace, body.metadata?.name)}`);
  }

  /** PUT: the whole object (or its status with `subresource: 'status'`); `metadata.resourceVersion` makes it conditional. */
  async replace<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, body: T, options: { subresource?: string; signal?: AbortSignal } = {}): Promise<T> {
    const path = resourcePath(type, { namespace, name, subresource: options.subresource });
    const response = await this.send(HttpMethod.PUT, path, { body, signal: options.signal });
    return this.json<T>(response, `replace ${type.kind} ${describe(namespace, name)}`);
  }

  /** A merge patch (RFC 7386) by default; `json` takes an RFC 6902 operation list; `strategic` works on core kinds only. */
  async patch<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    options: { type?: PatchType; subresource?: string; fieldManager?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    const path = resourcePath(type, { namespace, name, subresource: options.subresource });
    const response = await this.send(HttpMethod.PATCH, path, {
      body: patch,
      contentType: PATCH_CONTENT_TYPES[options.type ?? 'merge'],
      query: { fieldManager: options.fieldManager },
      signal: options.signal,
    });
    return this.json<T>(response, `patch ${type.kind} ${describe(namespace, name)}`);
  }

  /** Deletes an object; false when it was already gone. */
  async delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    options: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'; gracePeriodSeconds?: number; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const path = resourcePath(type, { namespace, name });
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: options.propagationPolicy, gracePeriodSeconds: options.gracePeriodSeconds };
    const response = await this.send(HttpMethod.DELETE, path, { body, signal: options.signal });
    if (response.httpStatusCode === 404) {
      await response.body.text().catch(() => '');
      return false;
    }
    await this.json(response, `delete ${type.kind} ${describe(namespace, name)}`);
    return true;
  }

  /**
   * One watch stream through @kubernetes/client-node's Watch. `onEvent` sees ADDED/MODIFIED/DELETED and
   * BOOKMARK events; the stream's end (server close, 410, stall, error) settles `done`. An exception thrown by
   * `onEvent` ends the watch with that error (the client's Watch would otherwise swallow it).
   */
  watch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options: WatchOptions, onEvent: (event: WatchEvent<T>) => void): WatchHandle {
    const stallMs = options.stallMs ?? 30_000;
    const watcher = new Watch(this.config);
    // client-node 2.0.1's own inactivity abort (a private field; 2.0.0 aborted every watch after 30 s). Ours,
    // below, fires first, so a stall reads the same whatever the client version does.
    (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = stallMs + 5_000;
    let controller: AbortController | undefined;
    let settle!: (end: WatchEnd) => void;
    let ended = false;
    let stallTimer: NodeJS.Timeout | undefined;
    const done = new Promise<WatchEnd>((resolve) => (settle = resolve));
    const finish = (end: WatchEnd) => {
      if (ended) return;
      ended = true;
      clearTimeout(stallTimer);
      controller?.abort();
      settle(end);
    };
    const armStallTimer = () => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => finish({ reason: 'stalled' }), stallMs);
      stallTimer.unref();
    };
    armStallTimer();
    const what = `watch ${type.plural}${namespace ? ` in ${namespace}` : ''}`;
    const query: Query = {
      resourceVersion: options.resourceVersion,
      allowWatchBookmarks: options.allowWatchBookmarks ?? true,
      timeoutSeconds: options.timeoutSeconds,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
    };
    const path = resourcePath(type, { namespace });
    watcher
      .watch(
        path,
        query,
        (eventType: string, object: unknown) => {
          if (ended) return;
          armStallTimer();
          try {
            if (eventType === 'ERROR') {
              const status = object as KubeStatus;
              if (status?.code === 410) finish({ reason: 'expired', status });
              else finish({ reason: 'error', error: new KubeApiError(what, status?.code ?? 500, status) });
            } else if (eventType === 'BOOKMARK') {
              const version = (object as KubeObject | undefined)?.metadata?.resourceVersion;
              if (version) onEvent({ type: 'BOOKMARK', resourceVersion: version });
            } else if (eventType === 'ADDED' || eventType === 'MODIFIED' || eventType === 'DELETED') {
              onEvent({ type: eventType, object: withKind(object as T, type) });
            }
          } catch (error) {
            finish({ reason: 'error', error: error instanceof Error ? error : new Error(String(error)) });
          }
        },
        (error: unknown) => {
          if (ended) return;
          if (!error) return finish({ reason: 'closed' });
          const e = error as { name?: string; statusCode?: number; message?: string };
          if (e.name === 'TimeoutError') return finish({ reason: 'stalled' });
          if (e.statusCode === 410) return finish({ reason: 'expired' });
          if (typeof e.statusCode === 'number') return finish({ reason: 'error', error: new KubeApiError(what, e.statusCode, { message: e.message }) });
          if (e.name === 'AbortError') return finish({ reason: 'stopped' });
          finish({ reason: 'error', error: new KubeUnreachableError(`${what}: cannot reach the Kubernetes API at ${this.server}: ${networkCause(error)}`) });
        },
      )
      .then(
        (c) => {
          controller = c;
          if (ended) c.abort();
        },
        (error: unknown) => finish({ reason: 'error', error: error instanceof Error ? error : new Error(String(error)) }),
      );
    return { done, stop: () => finish({ reason: 'stopped' }) };
  }

  /** A pod's log, line by line (without the newline); with `follow` it ends when the container or the stream does. */
  async *logs(namespace: string, pod: string, options: LogOptions = {}): AsyncGenerator<string> {
    const path = resourcePath(Pods, { namespace, name: pod, subresource: 'log' });
    const response = await this.send(HttpMethod.GET, path, {
      query: {
        container: options.container,
        follow: options.follow || undefined,
        sinceTime: options.sinceTime,
        timestamps: options.timestamps || undefined,
        tailLines: options.tailLines,
        previous: options.previous || undefined,
      },
      signal: options.signal,
      stream: true,
    });
    if (response.httpStatusCode >= 400) await this.json(response, `logs of pod ${namespace}/${pod}`);
    const body = response.body.stream();
    if (!body) return;
    const decoder = new TextDecoder();
    let pending = '';
    try {
      for await (const chunk of Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>)) {
        pending += decoder.decode(chunk as Uint8Array, { stream: true });
        let newline = pending.indexOf('\n');
        while (newline >= 0) {
          yield pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          newline = pending.indexOf('\n');
        }
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      throw new KubeUnreachableError(`logs of pod ${namespace}/${pod}: the stream broke: ${networkCause(error)}`);
    }
    pending += decoder.decode();
    if (pending !== '') yield pending;
  }

  private async send(
    method: HttpMethod,
    path: string,
    options: { query?: Query; body?: unknown; contentType?: string; signal?: AbortSignal | undefined; stream?: boolean },
  ): Promise<ResponseContext> {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const context = new RequestContext(url.toString(), method);
    await this.config.applySecurityAuthentication(context);
    context.setHeaderParam('Accept', options.stream ? '*/*' : 'application/json');
    if (options.body !== undefined) {
      context.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      context.setBody(JSON.stringify(options.body));
    }
    // A stream may stay open for as long as the caller wants; a plain request gets the timeout.
    const signals = [...(options.signal ? [options.signal] : []), ...(options.stream ? [] : [AbortSignal.timeout(this.requestTimeoutMs)])];
    if (signals.length > 0) context.setSignal(AbortSignal.any(signals));
    try {
      return await this.http.send(context).toPromise();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      const name = (error as { name?: string }).name;
      const why = name === 'TimeoutError' ? `no answer within ${this.requestTimeoutMs / 1000} s` : networkCause(error);
      throw new KubeUnreachableError(`${method} ${path}: cannot reach the Kubernetes API at ${this.server}: ${why}`);
    }
  }

  private async json<T>(response: ResponseContext, what: string): Promise<T> {
    const text = await response.body.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.httpStatusCode >= 400) {
      const status = parsed && typeof parsed === 'object' && (parsed as KubeStatus).kind === 'Status' ? (parsed as KubeStatus) : { message: text.slice(0, 200) };
      throw new KubeApiError(what, response.httpStatusCode, status);
    }
    if (parsed === undefined) throw new Error(`${what}: the API answered ${response.httpStatusCode} with ${text === '' ? 'no body' : 'a body that is not JSON'}`);
    return parsed as T;
  }
}

/** Lists drop `apiVersion`/`kind` from their items; put them back so every object says what it is. */
function withKind<T extends KubeObject>(object: T, type: ResourceType): T {
  if (object && typeof object === 'object' && (!object.kind || !object.apiVersion)) return { apiVersion: type.apiVersion, kind: type.kind, ...object };
  return object;
}

function describe(namespace: string | undefined, name: string | undefined): string {
  return namespace ? `${namespace}/${name ?? ''}` : (name ?? '');
}

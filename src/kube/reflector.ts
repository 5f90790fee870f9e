import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger, type Logger } from '../log.ts';
import type { KubeClient, WatchEnd } from './client.ts';
import { KubeApiError } from './errors.ts';
import type { ResourceType } from './resources.ts';
import type { KubeObject } from './types.ts';

export interface ReflectorOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** A watch that sends nothing (not even a bookmark) for this long is treated as stalled and re-listed (default 30 s). */
  stallMs?: number;
  /** Each watch asks the server to end it after this long; it is then resumed from the last version (default 300 s). */
  timeoutSeconds?: number;
  /** Waits between failed attempts: `initialMs`, doubling up to `maxMs` (default 500 ms → 10 s). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Lists that may fail in a row (network, 5xx, 429) before run() gives up with the last error (default 5). */
  maxConsecutiveFailures?: number;
  logger?: Logger;
}

/** Why the cache was listed again. */
export type RelistReason = 'expired' | 'stalled' | 'error';

export type ReflectorEvent<T> =
  /** An object appeared, changed or went, from a watch event or from the difference a re-list found. */
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T; previous: T | undefined }
  /** The first list is in: the cache holds the whole state. */
  | { type: 'SYNCED' }
  /** A later list replaced the cache (its differences came first as ADDED/MODIFIED/DELETED). */
  | { type: 'RELISTED'; reason: RelistReason; detail: string };

/**
 * A cache of one kind of object kept current by list-then-watch, the reflector of client-go. It re-lists when
 * the watch ends with 410 Gone (as a status or an in-stream `ERROR` `Expired`), stalls, or fails, and resumes
 * from the last resourceVersion when the server merely closes the stream. Retries back off, and all of it
 * stops at the caller's signal (the one deadline). Unlike @kubernetes/client-node's informer, it does not stop
 * for good on an unexpected error, asks for bookmarks and server timeouts, and treats silence as a stall.
 *
 * Fatal (run() rejects): 401, 403 and 404 on list or watch (bad credentials, RBAC, a kind the cluster does not
 * serve), or `maxConsecutiveFailures` failed lists in a row.
 */
export class Reflector<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly listeners = new Set<(event: ReflectorEvent<T>) => void>();
  private version = '';
  private isSynced = false;
  private readonly options: Required<Omit<ReflectorOptions, 'namespace' | 'labelSelector' | 'fieldSelector' | 'backoff'>> & { initialMs: number; maxMs: number };

  private readonly client: KubeClient;
  readonly type: ResourceType;
  private readonly selection: ReflectorOptions;

  constructor(client: KubeClient, type: ResourceType, selection: ReflectorOptions = {}) {
    this.client = client;
    this.type = type;
    this.selection = selection;
    this.options = {
      stallMs: selection.stallMs ?? 30_000,
      timeoutSeconds: selection.timeoutSeconds ?? 300,
      maxConsecutiveFailures: selection.maxConsecutiveFailures ?? 5,
      logger: selection.logger ?? silentLogger,
      initialMs: selection.backoff?.initialMs ?? 500,
      maxMs: selection.backoff?.maxMs ?? 10_000,
    };
  }

  /** True once the first list is in. */
  get synced(): boolean {
    return this.isSynced;
  }

  /** The last version seen (list or event): where the next watch starts. */
  get resourceVersion(): string {
    return this.version;
  }

  items(): T[] {
    return [...this.cache.values()];
  }

  get(name: string, namespace = this.selection.namespace): T | undefined {
    return this.cache.get(key(namespace, name));
  }

  /** Calls `listener` for every change, synchronously, in order; returns the unsubscribe function. */
  subscribe(listener: (event: ReflectorEvent<T>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Lists, then watches, until `signal` aborts (resolves) or a fatal error (rejects). */
  async run(signal: AbortSignal): Promise<void> {
    const { logger } = this.options;
    let failures = 0;
    let quiet = 0;
    let relist: { reason: RelistReason; detail: string } | undefined = { reason: 'error', detail: 'initial list' };
    while (!signal.aborted) {
      if (relist) {
        try {
          const list = await this.client.list<T>(this.type, this.selection.namespace, { ...this.selectors(), signal });
          this.replace(list.items, list.resourceVersion, this.isSynced ? relist : undefined);
          relist = undefined;
          failures = 0;
        } catch (error) {
          if (signal.aborted) return;
          if (isFatal(error) || ++failures >= this.options.maxConsecutiveFailures) throw error;
          logger.debug(`list ${this.type.plural} failed (${failures}/${this.options.maxConsecutiveFailures}): ${(error as Error).message}`);
          if (!(await this.pause(failures, signal))) return;
          continue;
        }
      }
      let events = 0;
      const handle = this.client.watch<T>(
        this.type,
        this.selection.namespace,
        { ...this.selectors(), resourceVersion: this.version, allowWatchBookmarks: true, timeoutSeconds: this.options.timeoutSeconds, stallMs: this.options.stallMs },
        (event) => {
          events++;
          if (event.type === 'BOOKMARK') this.version = event.resourceVersion;
          else this.apply(event.type, event.object);
        },
      );
      const stop = () => handle.stop();
      signal.addEventListener('abort', stop, { once: true });
      const end: WatchEnd = await handle.done;
      signal.removeEventListener('abort', stop);
      if (end.reason === 'stopped' || signal.aborted) return;
      // A watch that ends before delivering anything, again and again, must not spin.
      quiet = events > 0 ? 0 : quiet + 1;
      if (end.reason === 'closed') {
        if (quiet > 1 && !(await this.pause(quiet - 1, signal))) return;
        continue;
      }
      if (end.reason === 'error') {
        if (isFatal(end.error)) throw end.error;
        failures++;
        relist = { reason: 'error', detail: end.error.message };
        logger.debug(`watch ${this.type.plural} failed: ${end.error.message}; listing again`);
        if (!(await this.pause(failures, signal))) return;
        continue;
      }
      relist =
        end.reason === 'expired'
          ? { reason: 'expired', detail: end.status?.message ?? '410 Gone' }
          : { reason: 'stalled', detail: `no event or bookmark for ${this.options.stallMs / 1000} s` };
      logger.debug(`watch ${this.type.plural} ${end.reason} (${relist.detail}); listing again`);
      if (quiet > 1 && !(await this.pause(quiet - 1, signal))) return;
    }
  }

  private selectors() {
    return { labelSelector: this.selection.labelSelector, fieldSelector: this.selection.fieldSelector };
  }

  /** Waits out the backoff for attempt `n`; false when the signal fired first. */
  private async pause(n: number, signal: AbortSignal): Promise<boolean> {
    const ms = Math.min(this.options.maxMs, this.options.initialMs * 2 ** Math.max(0, n - 1));
    try {
      await sleep(ms, undefined, { signal });
      return true;
    } catch {
      return false;
    }
  }

  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T): void {
    const k = key(object.metadata.namespace, object.metadata.name);
    const previous = this.cache.get(k);
    if (object.metadata.resourceVersion) this.version = object.metadata.resourceVersion;
    if (type === 'DELETED') {
      if (!previous) return;
      this.cache.delete(k);
    } else {
      // The same version again (a watch resumed just before it) changes nothing.
      if (previous && previous.metadata.resourceVersion === object.metadata.resourceVersion) return;
      this.cache.set(k, object);
    }
    this.emit({ type: type === 'DELETED' ? 'DELETED' : previous ? 'MODIFIED' : 'ADDED', object, previous });
  }

  private replace(items: T[], version: string, relist: { reason: RelistReason; detail: string } | undefined): void {
    const seen = new Set<string>();
    for (const object of items) {
      const k = key(object.metadata.namespace, object.metadata.name);
      seen.add(k);
      const previous = this.cache.get(k);
      if (previous && previous.metadata.resourceVersion === object.metadata.resourceVersion) continue;
      this.cache.set(k, object);
      this.emit({ type: previous ? 'MODIFIED' : 'ADDED', object, previous });
    }
    for (const [k, object] of this.cache) {
      if (seen.has(k)) continue;
      this.cache.delete(k);
      this.emit({ type: 'DELETED', object, previous: object });
    }
    this.version = version;
    if (relist) this.emit({ type: 'RELISTED', ...relist });
    else {
      this.isSynced = true;
      this.emit({ type: 'SYNCED' });
    }
  }

  private emit(event: ReflectorEvent<T>): void {
    for (const listener of this.listeners) listener(event);
  }
}

function key(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function isFatal(error: unknown): boolean {
  return error instanceof KubeApiError && [400, 401, 403, 404, 422].includes(error.status);
}

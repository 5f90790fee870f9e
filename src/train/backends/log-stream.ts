import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeClient } from '../../kube/client.ts';
import type { Logger } from '../../log.ts';

/** One log line as the API sends it with `timestamps=true`: `2026-12-01T10:00:00.123456789Z text`. */
export function splitTimestamp(line: string): { time: string; text: string } | undefined {
  const space = line.indexOf(' ');
  const time = space > 0 ? line.slice(0, space) : line;
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/.test(time)) return undefined;
  return { time, text: space > 0 ? line.slice(space + 1) : '' };
}

/** A timestamp as a string that sorts in time order: RFC 3339Nano trims trailing zeros, so pad the fraction to 9 digits. */
export function timeKey(time: string): string {
  const ms = Date.parse(time);
  const fraction = /\.(\d{1,9})/.exec(time)?.[1] ?? '';
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}.${fraction.padEnd(9, '0')}`;
}

export interface LogFollowerOptions {
  client: KubeClient;
  namespace: string;
  pod: string;
  container: string;
  /** Receives each line with its newline, in order, once. */
  write(line: string): void;
  /** True when the container has ended: a stream that closes then is complete; otherwise it dropped. */
  ended(): boolean;
  logger: Logger;
  signal: AbortSignal;
  /** Pause before reconnecting a dropped stream. */
  reconnectMs?: number;
}

/**
 * Follows a container's log to its end across dropped streams. Each reconnect asks for `sinceTime` = the last
 * line's second (the API's precision), and the lines it sends again are recognised by their timestamps: lines
 * before the last one seen are skipped, and of those with the same timestamp as many as were already written.
 * Resolves when the stream closes after the container ended, or when `signal` aborts.
 */
export async function followLogs(options: LogFollowerOptions): Promise<void> {
  let lastKey: string | undefined;
  let seenAtLast = 0;
  let drops = 0;
  while (!options.signal.aborted) {
    const sinceTime = lastKey === undefined ? undefined : `${lastKey.slice(0, 19)}Z`;
    let againAtLast = 0;
    try {
      for await (const raw of options.client.logs(options.namespace, options.pod, { container: options.container, follow: true, timestamps: true, ...(sinceTime && { sinceTime }), signal: options.signal })) {
        const line = splitTimestamp(raw);
        if (!line) {
          options.write(`${raw}\n`);
          continue;
        }
        const key = timeKey(line.time);
        if (lastKey !== undefined && key < lastKey) continue;
        if (key === lastKey) {
          if (++againAtLast <= seenAtLast) continue;
          seenAtLast++;
        } else {
          lastKey = key;
          seenAtLast = 1;
          againAtLast = 1;
        }
        options.write(`${line.text}\n`);
      }
      if (options.ended()) return;
      options.logger.debug(`log stream of ${options.pod} closed while the container runs; reconnecting from ${sinceTime ?? 'the start'}`);
    } catch (error) {
      if (options.signal.aborted) return;
      // A container that has not started yet (ContainerCreating) answers 400; a broken stream throws. Both retry.
      options.logger.debug(`log stream of ${options.pod}: ${(error as Error).message}; reconnecting`);
      if (options.ended() && ++drops > 5) return;
    }
    await sleep(options.reconnectMs ?? 1000, undefined, { signal: options.signal }).catch(() => {});
  }
}

import type { Logger } from '../log.ts';

/** Counts work done; the sink decides how (and how often) to show it. */
export interface Progress {
  start(label: string, totalFiles: number, totalBytes: number): void;
  advance(files: number, bytes: number): void;
  finish(): void;
}

export const noProgress: Progress = { start() {}, advance() {}, finish() {} };

interface Counters {
  label: string;
  files: number;
  bytes: number;
  totalFiles: number;
  totalBytes: number;
  started: number;
}

function describe(c: Counters, now: number): string {
  const seconds = Math.max((now - c.started) / 1000, 0.001);
  const rate = c.bytes / seconds;
  // Transfers learn sizes as they go: 0 means the total is not known up front.
  const bytes = c.totalBytes > 0 ? `${mib(c.bytes)}/${mib(c.totalBytes)}` : mib(c.bytes);
  return `${c.label}: ${c.files}/${c.totalFiles} files, ${bytes} MiB, ${mib(rate)} MiB/s`;
}

const mib = (n: number) => (n / 1048576).toFixed(1);

/** A redrawn bar for a terminal (stderr), at most 10 redraws a second. */
export function ttyProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  let c: Counters | undefined;
  let last = 0;
  const draw = (force: boolean) => {
    const now = Date.now();
    if (!c || (!force && now - last < 100)) return;
    last = now;
    const width = 24;
    const fraction = c.totalFiles === 0 ? 1 : c.files / c.totalFiles;
    const filled = Math.round(fraction * width);
    stream.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${describe(c, now)}\x1b[K`);
  };
  return {
    start(label, totalFiles, totalBytes) {
      c = { label, files: 0, bytes: 0, totalFiles, totalBytes, started: Date.now() };
      draw(true);
    },
    advance(files, bytes) {
      if (!c) return;
      c.files += files;
      c.bytes += bytes;
      draw(false);
    },
    finish() {
      draw(true);
      if (c) stream.write('\n');
      c = undefined;
    },
  };
}

/** One plain line every `intervalMs` (Actions logs have no carriage returns), and one at the end. */
export function lineProgress(logger: Logger, intervalMs = 10_000, now: () => number = Date.now): Progress {
  let c: Counters | undefined;
  let last = 0;
  return {
    start(label, totalFiles, totalBytes) {
      c = { label, files: 0, bytes: 0, totalFiles, totalBytes, started: now() };
      last = c.started;
    },
    advance(files, bytes) {
      if (!c) return;
      c.files += files;
      c.bytes += bytes;
      const t = now();
      if (t - last >= intervalMs) {
        last = t;
        logger.info(describe(c, t));
      }
    },
    finish() {
      if (c && c.totalFiles > 0) logger.info(describe(c, now()));
      c = undefined;
    },
  };
}

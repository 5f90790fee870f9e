import { readFile, stat } from 'node:fs/promises';
import { UsageError } from '../errors.ts';
import { parseMetrics, type Metrics } from './parse.ts';

/** Refuse absurd files before parsing: metrics files are a few hundred bytes. */
const MAX_BYTES = 8 * 1024 * 1024;

export async function readMetricsFile(path: string, label = path): Promise<Metrics> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UsageError(`${label}: is not a file; point at a metrics.json or metrics.yaml`);
    if (info.size > MAX_BYTES) throw new UsageError(`${label}: is ${info.size} bytes, too large for a metrics file (limit ${MAX_BYTES})`);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${label}: no such file; check the path`);
    throw error;
  }
  return parseMetrics(text.replace(/^\uFEFF/, ''), label);
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { badInput } from '../errors.ts';

/** Largest params JSON accepted: it travels in an environment variable (and a Kubernetes env entry). */
export const MAX_PARAMS_BYTES = 32 * 1024;

/** The `params` input: one JSON object (a sweep point, `${{ toJSON(matrix.params) }}`); undefined when empty. */
export function parseParams(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined || text.trim() === '' || text.trim() === 'null') return undefined;
  if (Buffer.byteLength(text) > MAX_PARAMS_BYTES) throw badInput('params', text, `is over ${MAX_PARAMS_BYTES / 1024} KiB: pass hyperparameters, not data`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badInput('params', text, 'is not JSON: set it to ${{ toJSON(matrix.params) }} or a JSON object such as {"lr": 0.01}');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badInput('params', text, 'must be a JSON object of name: value, such as {"lr": 0.01}');
  return value as Record<string, unknown>;
}

/**
 * Writes the params where the program can read them (`MLOPS_PARAMS_FILE`), outside the working directory so
 * nothing of the user's (their own params.yaml) is overwritten; `remove` deletes it after the run.
 */
export function writeParamsFile(params: Record<string, unknown>): { path: string; remove(): void } {
  const dir = mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'mlops-params-'));
  const path = join(dir, 'params.json');
  writeFileSync(path, `${JSON.stringify(params, null, 2)}\n`);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';

export const EVALUATION_FILE = 'evaluation.json';
export const EVALUATION_SCHEMA = 'mlops-actions/evaluation/v1';

/**
 * Stages what the evaluate action uploads for the gate: `evaluation.json` (the measured metrics) and a
 * `run.json` whose `leg` names the leg and whose `metrics` points at evaluation.json — the gate reads a leg
 * folder's run.json that way — carrying the train action's run record under `training`.
 */
export function writeEvaluationBundle(options: { metricsFile: string; runJson?: string; leg?: string }): {
  dir: string;
  files: string[];
  leg: string;
  remove(): void;
} {
  let training: Record<string, unknown> | undefined;
  if (options.runJson) {
    try {
      training = JSON.parse(readFileSync(options.runJson, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new UsageError(`run-json: ${JSON.stringify(options.runJson)} cannot be read as JSON (${(error as Error).message}): give the train action's run-json output`);
    }
  }
  const leg = options.leg || (typeof training?.leg === 'string' ? training.leg : undefined) || 'default';
  const dir = mkdtempSync(join(tmpdir(), 'mlops-evaluation-'));
  copyFileSync(options.metricsFile, join(dir, EVALUATION_FILE));
  const record = { schema: EVALUATION_SCHEMA, leg, metrics: EVALUATION_FILE, ...(training ? { training } : {}) };
  writeFileSync(join(dir, 'run.json'), JSON.stringify(record, null, 2) + '\n');
  return { dir, files: [join(dir, EVALUATION_FILE), join(dir, 'run.json')], leg, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

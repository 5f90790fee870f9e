import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluateModel, DEFAULTS as EVALUATE_DEFAULTS } from '../evaluate/index.ts';
import { runGate } from '../gates/index.ts';
import type { Logger } from '../log.ts';
import { renderGateReport } from '../report/gate-report.ts';
import { readLegParams } from '../report/params-table.ts';
import { runSweep } from '../sweep/sweep.ts';
import { runTraining, trainSettings } from '../train/index.ts';

/** The demo's search space: 4 values of the Node leg's C, log-uniform from seed 1 (the same as examples/sweep.yml). */
export const DEMO_SPACE = 'seed: 1\ncount: 4\nrandom:\n  c: { log-uniform: [0.01, 100] }\n';

export interface SweepStepResult {
  legs: { leg: string; params: Record<string, unknown> }[];
  bestLeg: string | null;
  report: string;
}

/**
 * A 4-point hyperparameter sweep on the Node leg, as the pipeline template's sweep and train-sweep jobs run it:
 * expand the space, train each point with its params, score it with onnxruntime, and let the gate's select
 * metric pick the best point (the report's params table ranks them). It explores only: what is published
 * is still decided by the main gate.
 */
export async function runSweepStep(options: { project: string; trainer: string[]; rules: string; model: string; env: NodeJS.ProcessEnv; logger: Logger; reportFile: string }): Promise<SweepStepResult> {
  const { project, logger } = options;
  const sweep = await runSweep({ space: DEMO_SPACE, cwd: project }, { logger });
  for (const { leg, params } of sweep.legs) {
    const dir = `sweep/${leg}`;
    await rm(join(project, dir), { recursive: true, force: true });
    const argv = [...options.trainer, '--train', 'data/train.csv', '--holdout', 'data/holdout.csv', '--schema', 'data/schema.json', '--model-dir', `${dir}/model`, '--metrics', `${dir}/train-metrics.json`, '--params', `${dir}/params.yaml`, '--c', String(params.c)];
    const settings = trainSettings({ argv, 'model-dir': `${dir}/model`, metrics: `${dir}/train-metrics.json`, 'run-json': `${dir}/run.json`, model: options.model, leg, params: JSON.stringify(params), timeout: '5m' }, project, options.env, false);
    await runTraining(settings, { logger, env: options.env, write: () => {} });
    await evaluateModel(
      { model: join(project, dir, 'model/model.onnx'), data: join(project, 'data/holdout.csv'), label: 'label', task: 'binary', out: join(project, dir, 'metrics.json'), latencySamples: 0, batchSize: EVALUATE_DEFAULTS.batchSize, throughputMs: 0 },
      { logger },
    );
  }
  const { result, rules } = await runGate({ metrics: ['sweep'], rules: options.rules, baseline: 'none', cwd: project }, { logger });
  const report = renderGateReport(result, { rules, title: `${options.model} sweep`, legParams: await readLegParams(result.legs, project) });
  await writeFile(options.reportFile, report);
  return { legs: sweep.legs, bestLeg: result.bestLeg, report };
}

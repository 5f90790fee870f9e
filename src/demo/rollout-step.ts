import { relative } from 'node:path';
import type { Logger } from '../log.ts';
import { runRollout, type RolloutResult } from '../rollout/run.ts';
import { LocalRemote } from '../storage/local-remote.ts';
import type { ProductionServer } from './production-server.ts';

export interface RolloutStepResult {
  /** What production's manifest on main deploys. */
  storageUri: string;
  /** Where `mlops serve` listened. */
  url: string;
  rollout: RolloutResult;
}

/**
 * After the merge, on a laptop: `mlops rollout --cluster none --endpoint …` verifies the version `mlops serve`
 * now serves for production (production-server.ts): ready, serving that version, one smoke inference built
 * from its model card.
 */
export async function runRolloutStep(serving: ProductionServer, options: { model: string; modelStore: string; env: NodeJS.ProcessEnv; logger: Logger }): Promise<RolloutStepResult> {
  const { logger } = options;
  logger.info(`      verifying it with mlops rollout --cluster none --endpoint ${serving.server.url}`);
  const rollout = await runRollout(
    { cluster: 'none', name: options.model, endpoint: serving.server.url, storageUri: serving.folder, timeoutMs: 60_000, onFailure: 'fail', argocdNamespace: 'argocd', cwd: options.modelStore },
    { logger, env: options.env, openRemote: (url) => new LocalRemote(url) },
  );
  logger.info(`      rollout ${rollout.status}: ${rollout.reason}`);
  return { storageUri: serving.storageUri, url: serving.server.url, rollout };
}

/** The lines the demo's closing summary shows for this step. */
export function rolloutStepSummary(step: RolloutStepResult | undefined, cwd: string): string[] {
  if (!step) return [];
  const where = relative(cwd, step.rollout.storageUri);
  return [`  rollout    ${step.rollout.status}: mlops serve at ${step.url} serves ${step.rollout.version} (${where.startsWith('..') ? step.rollout.storageUri : where}), checked by mlops rollout --cluster none`];
}

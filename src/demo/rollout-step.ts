import { isAbsolute, join, normalize, relative } from 'node:path';
import { predictorStorageUri, type InferenceService } from '../kube/kserve.ts';
import type { Logger } from '../log.ts';
import { parseManifest } from '../manifests/safe-yaml.ts';
import { runRollout, type RolloutResult } from '../rollout/run.ts';
import { startServer } from '../serve/server.ts';
import { LocalRemote } from '../storage/local-remote.ts';
import { manifestOnMain } from './gitops-repo.ts';

export interface RolloutStepOptions {
  /** The demo's bare GitOps repository and the manifest on its main branch. */
  gitops: string;
  manifest: string;
  /** The folder that stands in for `bucket` (the manifests name the bucket, as in a cluster). */
  modelStore: string;
  bucket: string;
  model: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

export interface RolloutStepResult {
  /** What production's manifest on main deploys. */
  storageUri: string;
  /** Where `mlops serve` listened. */
  url: string;
  rollout: RolloutResult;
}

/**
 * After the merge, what ArgoCD and KServe would do, on a laptop: the version that production's manifest on the
 * GitOps main branch deploys is served by `mlops serve` (in process, on a free loopback port) from the folder
 * that stands in for the bucket, and `mlops rollout --cluster none --endpoint …` verifies it: ready, serving
 * that version, one smoke inference built from its model card. Undefined when main deploys nothing of ours.
 */
export async function runRolloutStep(options: RolloutStepOptions): Promise<RolloutStepResult | undefined> {
  const { logger } = options;
  const storageUri = deployedUri(await manifestOnMain(options.gitops, options.manifest, options.env), options.manifest);
  if (!storageUri?.startsWith(options.bucket)) return undefined;
  const inStore = normalize(storageUri.slice(options.bucket.length));
  if (isAbsolute(inStore) || inStore.startsWith('..')) throw new Error(`${options.manifest} on main deploys ${storageUri}, outside the model store`);
  const folder = join(options.modelStore, inStore);

  const server = await startServer({ storageUri: folder, name: options.model, port: 0 }, { logger, openRemote: (url) => new LocalRemote(url), cwd: options.modelStore });
  try {
    logger.info(`      serving ${server.name} ${server.version} at ${server.url} (mlops serve, what KServe would run); verifying it with mlops rollout --cluster none`);
    const rollout = await runRollout(
      { cluster: 'none', name: options.model, endpoint: server.url, storageUri: folder, timeoutMs: 60_000, onFailure: 'fail', argocdNamespace: 'argocd', cwd: options.modelStore },
      { logger, env: options.env, openRemote: (url) => new LocalRemote(url) },
    );
    logger.info(`      rollout ${rollout.status}: ${rollout.reason}`);
    return { storageUri, url: server.url, rollout };
  } finally {
    await server.close();
  }
}

/** The lines the demo's closing summary shows for this step. */
export function rolloutStepSummary(step: RolloutStepResult | undefined, cwd: string): string[] {
  if (!step) return [];
  const where = relative(cwd, step.rollout.storageUri);
  return [`  rollout    ${step.rollout.status}: mlops serve at ${step.url} serves ${step.rollout.version} (${where.startsWith('..') ? step.rollout.storageUri : where}), checked by mlops rollout --cluster none`];
}

function deployedUri(text: string, where: string): string | undefined {
  const services = parseManifest(text, where).values.filter((v): v is InferenceService => (v as { kind?: unknown } | null)?.kind === 'InferenceService');
  return services.length === 1 ? predictorStorageUri({ metadata: { name: '' }, ...services[0] } as InferenceService) : undefined;
}

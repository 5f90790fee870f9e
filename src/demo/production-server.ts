import { isAbsolute, join, normalize } from 'node:path';
import { predictorStorageUri, type InferenceService } from '../kube/kserve.ts';
import type { Logger } from '../log.ts';
import { parseManifest } from '../manifests/safe-yaml.ts';
import { startServer, type RunningServer } from '../serve/server.ts';
import { LocalRemote } from '../storage/local-remote.ts';
import { manifestOnMain } from './gitops-repo.ts';

/**
 * The demo's "cluster": `mlops serve` (in process, on a free loopback port) serving the version that
 * production's manifest on the GitOps main branch deploys, from the folder that stands in for the bucket,
 * with KServe-format payload logs, as ArgoCD and KServe would after a merge. The rollout step verifies it and
 * the drift step sends it traffic; the caller closes it (which writes the last payload-log batch).
 */
export interface ProductionServer {
  /** What production's manifest on main deploys (`s3://mlops-demo/models/<name>/<version>/`). */
  storageUri: string;
  /** The version folder in the model store. */
  folder: string;
  server: RunningServer;
  /** Where the payload logger writes (one folder per demo run). */
  payloadLog: string;
  /** The server's clock: real time, unless the drift step replays an hour of traffic at given times. */
  clock: { at(time: number | undefined): void };
}

export interface ServeProductionOptions {
  gitops: string;
  manifest: string;
  modelStore: string;
  /** The bucket the manifests name, which `modelStore` stands in for. */
  bucket: string;
  model: string;
  payloadLog: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

/** Undefined when main deploys nothing of the demo's store (the skeleton's placeholder version). */
export async function serveProduction(options: ServeProductionOptions): Promise<ProductionServer | undefined> {
  const storageUri = deployedUri(await manifestOnMain(options.gitops, options.manifest, options.env), options.manifest);
  if (!storageUri?.startsWith(options.bucket)) return undefined;
  const inStore = normalize(storageUri.slice(options.bucket.length));
  if (isAbsolute(inStore) || inStore.startsWith('..')) throw new Error(`${options.manifest} on main deploys ${storageUri}, outside the model store`);
  const folder = join(options.modelStore, inStore);
  let simulated: number | undefined;
  const server = await startServer(
    { storageUri: folder, name: options.model, port: 0, logPayloads: options.payloadLog },
    { logger: options.logger, openRemote: (url) => new LocalRemote(url), cwd: options.modelStore, now: () => new Date(simulated ?? Date.now()) },
  );
  options.logger.info(`      serving ${server.name} ${server.version} at ${server.url} (mlops serve, what KServe would run), payload logs in ${options.payloadLog}`);
  return { storageUri, folder, server, payloadLog: options.payloadLog, clock: { at: (time) => (simulated = time) } };
}

function deployedUri(text: string, where: string): string | undefined {
  const services = parseManifest(text, where).values.filter((v): v is InferenceService => (v as { kind?: unknown } | null)?.kind === 'InferenceService');
  return services.length === 1 ? predictorStorageUri({ metadata: { name: '' }, ...services[0] } as InferenceService) : undefined;
}

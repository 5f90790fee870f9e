/** The train backends' surface for the CLI and the action; the Kubernetes client loads only when a cluster backend is asked for. */
import type { RawRemoteOptions } from './settings.ts';
import { remoteSettings } from './settings.ts';
import type { TrainBackend } from './types.ts';

export { isLegFailed, LegFailed } from './errors.ts';
export { remoteSettings, type RawRemoteOptions, type RemoteSettings } from './settings.ts';
export type { BackendRun, ClusterPlacement, TrainBackend } from './types.ts';

/** The input names of the cluster backends, in the order the help and action.yml list them. */
export const REMOTE_INPUTS = ['backend', 'image', 'namespace', 'service-account', 'resources', 'node-selector', 'tolerations', 'env', 'kubeconfig', 'output-uri', 'remote', 'endpoint', 'runtime', 'num-nodes'] as const;

/** Validates the cluster inputs and builds the backend; undefined for `backend: local`. */
export async function backendFor(raw: RawRemoteOptions, options: { env: NodeJS.ProcessEnv; cwd: string; runId?: string }): Promise<TrainBackend | undefined> {
  const remote = remoteSettings(raw);
  if (!remote) return undefined;
  const { createBackend } = await import('./kinds.ts');
  return createBackend(remote, options);
}

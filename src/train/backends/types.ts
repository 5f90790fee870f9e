import type { Logger } from '../../log.ts';
import type { ProcessResult } from '../process.ts';
import type { TrainSettings } from '../train.ts';

export type BackendName = 'local' | 'kubernetes' | 'kubeflow';

/** Where a remote leg ran, recorded in run.json as `cluster` (the local backend records none). */
export interface ClusterPlacement {
  namespace: string;
  /** The Job (kubernetes) or TrainJob (kubeflow) name. */
  name: string;
  /** The image as asked (tag or digest), and the digest the node pulled (`imageID` of the container). */
  image: string;
  'image-digest'?: string;
  /** The pod that ran (rank 0 for a TrainJob) and its node. */
  pod?: string;
  node?: string;
  /** From the node's labels (nvidia.com/gpu.product, cloud.google.com/gke-accelerator, …), when it has a GPU. */
  gpu?: string;
  /** Nodes of a TrainJob. */
  'num-nodes'?: number;
  'output-uri': string;
}

/**
 * What a remote backend hands back to runTraining: the same shape as a local process (so the exit code,
 * timeout and last-lines handling is shared), after it has downloaded the outputs into the working directory.
 */
export interface BackendRun extends ProcessResult {
  backend: Exclude<BackendName, 'local'>;
  placement: ClusterPlacement;
  /** Files downloaded beside the model and metrics (profile.json), recorded and uploaded with them. */
  extraFiles: string[];
}

export interface BackendRequest {
  settings: TrainSettings;
  /** The program's output, streamed as it comes (inside the stop-commands block when protected). */
  write(chunk: string): void;
  logger: Logger;
}

/** Runs the training command somewhere other than this machine and brings its outputs back. */
export interface TrainBackend {
  readonly name: Exclude<BackendName, 'local'>;
  run(request: BackendRequest): Promise<BackendRun>;
}

/**
 * The training ran and failed on the cluster (BackoffLimitExceeded, DeadlineExceeded, a TrainJob's Failed):
 * the check said no, exit 1, like a local command that exits non-zero. Not being able to run it at all (image
 * pull, scheduling, the API) is a plain Error, exit 3.
 */
export class LegFailed extends Error {
  override name = 'LegFailed';
  readonly exitCode = 1;
}

export function isLegFailed(error: unknown): error is LegFailed {
  return error instanceof LegFailed;
}

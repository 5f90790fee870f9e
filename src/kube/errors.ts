import type { KubeStatus } from './types.ts';

/** The API answered an HTTP error; `status` is the code, `reason` the Status reason (`NotFound`, `Forbidden`, …). */
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  readonly status: number;
  readonly reason: string | undefined;
  readonly kubeStatus: KubeStatus | undefined;

  constructor(what: string, status: number, kubeStatus?: KubeStatus) {
    const reason = kubeStatus?.reason;
    const detail = kubeStatus?.message ? `: ${kubeStatus.message}` : '';
    super(`${what}: ${status}${reason ? ` ${reason}` : ''}${detail}${hint(status)}`);
    this.status = status;
    this.reason = reason;
    this.kubeStatus = kubeStatus;
  }
}

/** The API could not be reached at all (connection refused, TLS, DNS, no answer in time). */
export class KubeUnreachableError extends Error {
  override name = 'KubeUnreachableError';
}

function hint(status: number): string {
  if (status === 401) return ' (the kubeconfig\'s credentials were refused)';
  if (status === 403) return ' (the identity lacks RBAC permission for this)';
  return '';
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404;
}

/** A network error's most useful words: undici wraps the cause (`ECONNREFUSED`, a TLS error) in "fetch failed". */
export function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (cause?.message) return cause.code && !cause.message.includes(cause.code) ? `${cause.code} ${cause.message}` : cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** Retries `fn` on errors `shouldRetry` accepts, with exponential backoff and full jitter. */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: { attempts?: number; baseMs?: number; shouldRetry?: (error: unknown) => boolean } = {},
): Promise<T> {
  const { attempts = 5, baseMs = 100, shouldRetry = isTransientNetworkError } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= attempts || !shouldRetry(error)) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * baseMs * 2 ** attempt));
    }
  }
}

const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);

/** A reset or truncated connection, or a 5xx/SlowDown from the server. */
export function isTransientNetworkError(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  const e = error as { code?: string; name?: string; message?: string; $metadata?: { httpStatusCode?: number }; cause?: unknown };
  if (e.code && TRANSIENT_CODES.has(e.code)) return true;
  if (e.name === 'SlowDown' || e.name === 'TimeoutError' || e.name === 'RequestTimeout') return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  if (/aborted|socket hang up|premature close/i.test(e.message ?? '')) return true;
  return isTransientNetworkError(e.cause, depth + 1);
}

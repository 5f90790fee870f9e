// The one place in src/ that touches @actions/github: it turns a token into a GitHubClient.
// Everything else in src/github takes the client as a parameter.
import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import type { Logger } from '../log.ts';
import type { GitHubClient } from './client.ts';

export interface OctokitOptions {
  token: string;
  logger: Logger;
  /** Defaults to GITHUB_API_URL (GHES) or https://api.github.com. */
  baseUrl?: string;
  /** Retries after a rate limit; GitHub asks for at most a few. */
  rateLimitRetries?: number;
  /** Longest `retry-after` (seconds) worth waiting for inside a CI step. */
  maxRetryAfterSeconds?: number;
}

/**
 * Octokit with retries on 5xx and network errors (plugin-retry) and rate-limit handling (plugin-throttling):
 * primary and secondary limits are retried after the `retry-after`/reset time GitHub sends.
 */
export function createGitHubClient(options: OctokitOptions): GitHubClient {
  const { logger, rateLimitRetries = 3, maxRetryAfterSeconds = 120 } = options;
  const onLimit = (kind: string) => (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
    const retrying = retryCount < rateLimitRetries && retryAfter <= maxRetryAfterSeconds;
    const what = `GitHub ${kind} rate limit on ${request.method} ${request.url}`;
    logger.warning(retrying ? `${what}; retrying in ${retryAfter}s (retry ${retryCount + 1} of ${rateLimitRetries})` : `${what}; giving up`);
    return retrying;
  };
  const octokit = getOctokit(
    options.token,
    {
      ...(options.baseUrl && { baseUrl: options.baseUrl }),
      log: { debug: (m: string) => logger.debug(m), info: (m: string) => logger.debug(m), warn: (m: string) => logger.warning(m), error: (m: string) => logger.error(m) },
      throttle: { onRateLimit: onLimit('primary'), onSecondaryRateLimit: onLimit('secondary') },
      retry: { doNotRetry: [400, 401, 403, 404, 409, 410, 422, 451] },
    },
    retry,
    throttling,
  );
  return octokit as unknown as GitHubClient;
}

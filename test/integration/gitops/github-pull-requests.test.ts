import { Octokit } from '@octokit/core';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { upsertPullRequest, type PullRequestClient, type PullRequestSpec } from '../../../src/github/pull-requests.ts';
import type { Logger } from '../../../src/log.ts';
import { startGitHubPulls, type GitHubPullsStandIn } from '../../helpers/github-pulls.ts';

/** Octokit as the actions build it; throttling (which spaces writes 1 s apart) only where a test needs it. */
function client(api: GitHubPullsStandIn, rateLimited: string[], withThrottling = false): PullRequestClient {
  if (!withThrottling) return new (Octokit.plugin(retry))({ auth: 'ghs_secret', baseUrl: api.url, retry: { doNotRetry: [400, 401, 403, 404, 422] } });
  const Client = Octokit.plugin(retry, throttling);
  return new Client({
    auth: 'ghs_secret',
    baseUrl: api.url,
    throttle: {
      onRateLimit: () => true,
      onSecondaryRateLimit: (retryAfter: number, options: { method: string; url: string }) => {
        rateLimited.push(`${options.method} ${options.url} after ${retryAfter}s`);
        return true;
      },
      // Keeps the honoured retry-after short in tests: each second of retry-after waits 20 ms.
      retryAfterBaseValue: 20,
    },
    retry: { doNotRetry: [400, 401, 403, 404, 422] },
  });
}

const lines: string[] = [];
const logger: Logger = { debug() {}, info: (m) => lines.push(m), notice: (m) => lines.push(m), warning: (m) => lines.push(`warning: ${m}`), error: (m) => lines.push(m) };

describe('upsertPullRequest against the OpenAPI-checked stand-in', () => {
  let api: GitHubPullsStandIn;
  let rateLimited: string[];
  let gh: PullRequestClient;
  const spec = (extra: Partial<PullRequestSpec> = {}): PullRequestSpec => ({
    owner: 'acme',
    repo: 'gitops',
    head: 'mlops/churn/staging',
    base: 'main',
    title: 'Deploy churn sha256-1 to staging',
    body: '<!-- mlops-actions:pull-request:churn/staging -->\nv1',
    labels: ['mlops', 'deploy'],
    ...extra,
  });

  beforeEach(async () => {
    api = await startGitHubPulls({ autoMergeAllowed: true });
    rateLimited = [];
    gh = client(api, rateLimited);
    lines.length = 0;
  });
  afterEach(async () => {
    expect(api.violations).toEqual([]);
    await api.close();
  });

  it('creates the PR with its labels, then updates it in place, then leaves it unchanged', async () => {
    const created = await upsertPullRequest(gh, spec(), logger);
    expect(created).toMatchObject({ number: 1, url: 'https://github.com/acme/gitops/pull/1', operation: 'created', labelsAdded: ['mlops', 'deploy'] });
    expect(api.pulls[0]).toMatchObject({ title: 'Deploy churn sha256-1 to staging', base: { ref: 'main' }, head: { ref: 'mlops/churn/staging' }, labels: [{ name: 'mlops' }, { name: 'deploy' }] });

    const updated = await upsertPullRequest(gh, spec({ title: 'Deploy churn sha256-2 to staging', body: '<!-- mlops-actions:pull-request:churn/staging -->\nv2' }), logger);
    expect(updated).toMatchObject({ number: 1, operation: 'updated', labelsAdded: [] });
    expect(api.pulls).toHaveLength(1);
    expect(api.pulls[0]?.body).toContain('v2');

    const same = await upsertPullRequest(gh, spec({ title: 'Deploy churn sha256-2 to staging', body: '<!-- mlops-actions:pull-request:churn/staging -->\nv2' }), logger);
    expect(same.operation).toBe('unchanged');
    expect(api.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    expect(api.requests.every((r) => r.authorization === 'token ghs_secret')).toBe(true);
    expect(api.requests.find((r) => r.method === 'GET')?.path).toBe('/repos/acme/gitops/pulls');
  });

  it('adds a label that a person removed, which counts as an update', async () => {
    await upsertPullRequest(gh, spec(), logger);
    if (api.pulls[0]) api.pulls[0].labels = [{ name: 'mlops' }];
    const again = await upsertPullRequest(gh, spec(), logger);
    expect(again).toMatchObject({ operation: 'updated', labelsAdded: ['deploy'] });
  });

  it('on 422 "A pull request already exists" finds the PR another run opened and updates it', async () => {
    api.failNext({
      method: 'POST',
      template: '/repos/{owner}/{repo}/pulls',
      status: 422,
      body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: 'A pull request already exists for acme:mlops/churn/staging.' }] },
      // The concurrent run's PR appears just as ours is refused.
      before: () => api.seedPull('mlops/churn/staging', 'main', 'Deploy churn sha256-0 to staging', 'old'),
    });
    const result = await upsertPullRequest(gh, spec(), logger);
    expect(result).toMatchObject({ number: 1, operation: 'updated' });
    expect(api.pulls).toHaveLength(1);
    expect(api.pulls[0]).toMatchObject({ title: 'Deploy churn sha256-1 to staging', body: spec().body });
  });

  it('rethrows other 422 errors', async () => {
    api.failNext({ method: 'POST', template: '/repos/{owner}/{repo}/pulls', status: 422, body: { message: 'Validation Failed', errors: [{ message: 'No commits between main and mlops/churn/staging' }] } });
    await expect(upsertPullRequest(gh, spec(), logger)).rejects.toMatchObject({ status: 422 });
  });

  it('waits out a 403 secondary rate limit (retry-after) and succeeds', async () => {
    gh = client(api, rateLimited, true);
    api.failNext({
      method: 'POST',
      template: '/repos/{owner}/{repo}/pulls',
      status: 403,
      headers: { 'retry-after': '1' },
      body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits' },
    });
    const result = await upsertPullRequest(gh, spec(), logger);
    expect(result.operation).toBe('created');
    expect(rateLimited).toEqual(['POST /repos/{owner}/{repo}/pulls after 1s']);
    expect(api.requests.filter((r) => r.method === 'POST' && r.template === '/repos/{owner}/{repo}/pulls').map((r) => r.status)).toEqual([403, 201]);
  });

  it('enables auto-merge through GraphQL, and only warns when the repository does not allow it', async () => {
    const result = await upsertPullRequest(gh, spec({ autoMerge: 'SQUASH' }), logger);
    expect(lines.filter((l) => l.startsWith('warning'))).toEqual([]);
    expect(result.autoMerge).toBe(true);
    expect(api.graphql[0]?.variables).toEqual({ pullRequestId: 'PR_node1', mergeMethod: 'SQUASH' });
    expect(api.graphql[0]?.query).toContain('enablePullRequestAutoMerge');

    const strict = await startGitHubPulls({ autoMergeAllowed: false });
    try {
      const res = await upsertPullRequest(client(strict, []), spec({ autoMerge: 'MERGE' }), logger);
      expect(res).toMatchObject({ operation: 'created', autoMerge: false });
      expect(lines.some((l) => l.startsWith('warning: could not enable auto-merge on #1') && l.includes('Allow auto-merge'))).toBe(true);
      expect(strict.violations).toEqual([]);
    } finally {
      await strict.close();
    }
  });
});

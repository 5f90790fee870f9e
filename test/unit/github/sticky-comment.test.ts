import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/log.ts';
import { findPullRequestNumber } from '../../../src/github/pull-request-number.ts';
import { createGitHubClient } from '../../../src/github/octokit.ts';
import { MAX_COMMENT_CHARS, upsertStickyComment } from '../../../src/github/sticky-comment.ts';
import { secondaryRateLimit, startGitHubApi, type GitHubApi } from '../../helpers/github-api.ts';

const COMMENTS = 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments';
const LIST = 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments';
const MARKER = '<!-- mlops-actions:gate:default -->';

function recordingLogger() {
  const lines: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: (m) => lines.push(`info ${m}`),
    notice: (m) => lines.push(`notice ${m}`),
    warning: (m) => lines.push(`warning ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
  return { logger, lines };
}

let api: GitHubApi;
beforeEach(async () => {
  api = await startGitHubApi();
});
afterEach(async () => {
  await api.close();
});

const client = (logger: Logger) => createGitHubClient({ token: 'ghs_test', logger, baseUrl: api.url });
const target = { owner: 'acme', repo: 'churn', issueNumber: 7 };

describe('upsertStickyComment', () => {
  it('creates the comment on the first run and updates the same one on the second', async () => {
    api.state.addPullRequest('acme', 'churn', { number: 7 });
    api.state.addComment('acme', 'churn', 7, 'LGTM', { login: 'octocat', id: 1, type: 'User' });
    const { logger } = recordingLogger();
    const first = await upsertStickyComment(client(logger), target, { kind: 'gate', key: 'default', body: 'accuracy 0.91' }, logger);
    const second = await upsertStickyComment(client(logger), target, { kind: 'gate', key: 'default', body: 'accuracy 0.95' }, logger);
    expect(first.operation).toBe('created');
    expect(second).toMatchObject({ operation: 'updated', id: first.id });
    const comments = api.state.commentsOn('acme', 'churn', 7);
    expect(comments.map((c) => c.body)).toEqual(['LGTM', `${MARKER}\naccuracy 0.95`]);
    const third = await upsertStickyComment(client(logger), target, { kind: 'gate', key: 'default', body: 'accuracy 0.95' }, logger);
    expect(third).toMatchObject({ operation: 'unchanged', id: first.id });
    expect(api.calls('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}')).toHaveLength(1);
    expect(api.violations).toEqual([]);
  });

  it('keeps one comment per key and ignores comments that only quote the marker', async () => {
    api.state.addPullRequest('acme', 'churn', { number: 7 });
    api.state.addComment('acme', 'churn', 7, `> ${MARKER}\n> quoted by a human`, { login: 'octocat', id: 1, type: 'User' });
    const { logger } = recordingLogger();
    await upsertStickyComment(client(logger), target, { kind: 'gate', key: 'churn', body: 'a' }, logger);
    await upsertStickyComment(client(logger), target, { kind: 'gate', key: 'fraud', body: 'b' }, logger);
    const bodies = api.state.commentsOn('acme', 'churn', 7).map((c) => c.body);
    expect(bodies).toEqual([`> ${MARKER}\n> quoted by a human`, '<!-- mlops-actions:gate:churn -->\na', '<!-- mlops-actions:gate:fraud -->\nb']);
    expect(api.violations).toEqual([]);
  });

  it('finds its comment beyond the first page of a long thread', async () => {
    api.state.addPullRequest('acme', 'churn', { number: 7 });
    for (let i = 0; i < 130; i++) api.state.addComment('acme', 'churn', 7, `chatter ${i}`);
    const mine = api.state.addComment('acme', 'churn', 7, `${MARKER}\nold`);
    for (let i = 0; i < 5; i++) api.state.addComment('acme', 'churn', 7, `more ${i}`);
    const { logger } = recordingLogger();
    const result = await upsertStickyComment(client(logger), target, { kind: 'gate', key: 'default', body: 'new' }, logger);
    expect(result).toMatchObject({ operation: 'updated', id: mine.id });
    expect(api.calls(LIST).length).toBeGreaterThanOrEqual(2);
    expect(api.calls(COMMENTS)).toHaveLength(0);
    expect(api.violations).toEqual([]);
  });

  it('retries after a secondary rate limit, waiting the retry-after GitHub sent', async () => {
    api.state.addPullRequest('acme', 'churn', { number: 7 });
    api.fault(COMMENTS, secondaryRateLimit(1), 1);
    const { logger, lines } = recordingLogger();
    const started = Date.now();
    const result = await upsertStickyComment(client(logger), target, { kind: 'gate', key: 'default', body: 'x' }, logger);
    expect(result.operation).toBe('created');
    expect(api.calls(COMMENTS)).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(lines.some((l) => /warning GitHub secondary rate limit on POST .* retrying in 1s/.test(l))).toBe(true);
    expect(api.state.commentsOn('acme', 'churn', 7)).toHaveLength(1);
    expect(api.violations).toEqual([]);
  });

  it('retries a 500 and cuts a body too large for GitHub', async () => {
    api.state.addPullRequest('acme', 'churn', { number: 7 });
    api.fault(LIST, { status: 500, body: { message: 'Server Error' } }, 1);
    const { logger } = recordingLogger();
    const huge = `${'| row |\n'.repeat(5000)}\`\`\`mermaid\n${'x'.repeat(40_000)}`;
    await upsertStickyComment(client(logger), target, { kind: 'gate', key: 'default', body: huge }, logger);
    expect(api.calls(LIST).length).toBeGreaterThanOrEqual(3);
    const [only] = api.state.commentsOn('acme', 'churn', 7);
    expect(only!.body.length).toBeLessThanOrEqual(MAX_COMMENT_CHARS);
    expect(only!.body).toMatch(/\n```\n\n… \(cut to fit GitHub's comment size limit; the job summary has the full report\)\n$/);
    expect(api.violations).toEqual([]);
  });

  it('does not retry a 422 and surfaces it', async () => {
    api.state.addPullRequest('acme', 'churn', { number: 7 });
    api.fault(COMMENTS, { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'IssueComment', code: 'custom', message: 'Body is too long' }] } });
    const { logger } = recordingLogger();
    await expect(upsertStickyComment(client(logger), target, { kind: 'gate', key: 'default', body: 'x' }, logger)).rejects.toMatchObject({ status: 422 });
    expect(api.calls(COMMENTS)).toHaveLength(1);
  });

  it('ends with one comment when two runs race to create it', async () => {
    api.state.addPullRequest('acme', 'churn', { number: 7 });
    // Hold the first two listings until both runs have asked, so both see no comment and both create one.
    const list = api.handler(LIST)!;
    let waiting: (() => void)[] = [];
    let held = 0;
    api.route(LIST, async (req, a) => {
      if (held < 2) {
        held++;
        await new Promise<void>((release) => {
          waiting.push(release);
          if (waiting.length === 2) {
            waiting.forEach((r) => r());
            waiting = [];
          }
        });
      }
      return list(req, a);
    });
    const { logger } = recordingLogger();
    const [a, b] = await Promise.all([
      upsertStickyComment(client(logger), target, { kind: 'gate', key: 'default', body: 'run A' }, logger),
      upsertStickyComment(client(logger), target, { kind: 'gate', key: 'default', body: 'run B' }, logger),
    ]);
    expect(api.calls(COMMENTS)).toHaveLength(2);
    const left = api.state.commentsOn('acme', 'churn', 7);
    expect(left).toHaveLength(1);
    expect(a.id).toBe(left[0]!.id);
    expect(b.id).toBe(left[0]!.id);
    expect(left[0]!.body).toMatch(/^<!-- mlops-actions:gate:default -->\nrun [AB]$/);
    expect(api.violations).toEqual([]);
  });
});

describe('findPullRequestNumber', () => {
  const event = (eventName: string, payload: Record<string, unknown>, sha = 'a'.repeat(40)) => ({ eventName, payload, sha, owner: 'acme', repo: 'churn' });

  it('reads pull_request and pull_request_target events from the payload without calling GitHub', async () => {
    const { logger } = recordingLogger();
    expect(await findPullRequestNumber(client(logger), event('pull_request', { pull_request: { number: 12 } }), logger)).toBe(12);
    expect(await findPullRequestNumber(client(logger), event('pull_request_target', { pull_request: { number: 13 } }), logger)).toBe(13);
    expect(api.requests).toHaveLength(0);
  });

  it('finds the open pull request of a pushed commit', async () => {
    const sha = 'b'.repeat(40);
    api.state.addPullRequest('acme', 'churn', { number: 3, headSha: sha, state: 'closed' });
    api.state.addPullRequest('acme', 'churn', { number: 4, headSha: sha });
    const { logger } = recordingLogger();
    expect(await findPullRequestNumber(client(logger), event('push', {}, sha), logger)).toBe(4);
    expect(api.violations).toEqual([]);
  });

  it('returns undefined for a push with no open pull request and for other events', async () => {
    const { logger } = recordingLogger();
    expect(await findPullRequestNumber(client(logger), event('push', {}, 'c'.repeat(40)), logger)).toBeUndefined();
    expect(await findPullRequestNumber(client(logger), event('workflow_dispatch', {}), logger)).toBeUndefined();
    expect(api.violations).toEqual([]);
  });
});

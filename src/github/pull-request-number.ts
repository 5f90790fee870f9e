import type { Logger } from '../log.ts';
import type { EventContext, GitHubClient } from './client.ts';

const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target', 'pull_request_review', 'pull_request_review_comment']);

interface PullSummary {
  number: number;
  state: string;
  head?: { sha?: string };
}

/**
 * The pull request this run belongs to: from the event for pull request events and PR comments, and for
 * pushes the open pull request whose branch holds the commit. Undefined when there is none.
 */
export async function findPullRequestNumber(client: GitHubClient, event: EventContext, logger: Logger): Promise<number | undefined> {
  const payload = event.payload as { pull_request?: { number?: number }; issue?: { number?: number; pull_request?: unknown } };
  if (PULL_REQUEST_EVENTS.has(event.eventName)) return payload.pull_request?.number;
  if (event.eventName === 'issue_comment') return payload.issue?.pull_request ? payload.issue.number : undefined;
  if (event.eventName !== 'push' || !/^[0-9a-f]{40}$/i.test(event.sha)) return undefined;
  const pulls = (await client.paginate('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', {
    owner: event.owner,
    repo: event.repo,
    commit_sha: event.sha,
    per_page: 100,
  })) as PullSummary[];
  const open = pulls.filter((p) => p.state === 'open');
  const chosen = open.find((p) => p.head?.sha === event.sha) ?? open[0];
  if (open.length > 1) logger.debug(`commit ${event.sha} is in ${open.length} open pull requests; using #${chosen!.number}`);
  return chosen?.number;
}

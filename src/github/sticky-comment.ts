import type { Logger } from '../log.ts';
import { startsWithMarker, withMarker } from '../report/marker.ts';
import { httpStatus, type GitHubClient, type RepoRef } from './client.ts';

export interface StickyComment {
  /** What writes it: `gate`, `drift`, … */
  kind: string;
  /** Tells several comments of one kind apart on one PR, e.g. per model. */
  key: string;
  /** Markdown, without the marker (it is added as the first line). */
  body: string;
}

export interface StickyResult {
  operation: 'created' | 'updated' | 'unchanged';
  id: number;
  url: string;
}

/** GitHub rejects comment bodies over 65,536 characters with a 422. */
export const MAX_COMMENT_CHARS = 65_536;
const TRUNCATED = '\n\n… (cut to fit GitHub\'s comment size limit; the job summary has the full report)\n';

interface IssueComment {
  id: number;
  body?: string | null;
  html_url: string;
}

/**
 * One comment per (kind, key) on an issue or pull request, found by its hidden marker and edited in place.
 * Two runs racing may both create one; after creating, we list again and keep only the oldest, so the
 * thread converges on a single comment whatever the interleaving.
 */
export async function upsertStickyComment(
  client: GitHubClient,
  target: RepoRef & { issueNumber: number },
  comment: StickyComment,
  logger: Logger,
): Promise<StickyResult> {
  const body = fitComment(withMarker(comment.kind, comment.key, comment.body));
  const existing = await ours(client, target, comment);
  let result: StickyResult;
  if (existing.length > 0) {
    const keep = existing[0]!;
    result = await write(client, target, keep, body);
    await removeDuplicates(client, target, existing.slice(1), logger);
  } else {
    const { data } = await client.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      owner: target.owner,
      repo: target.repo,
      issue_number: target.issueNumber,
      body,
    });
    const created = data as IssueComment;
    result = { operation: 'created', id: created.id, url: created.html_url };
    const after = await ours(client, target, comment);
    const keep = after[0];
    if (keep && keep.id !== created.id) {
      // Another run created its comment first: carry our body over to that one and withdraw ours.
      logger.debug(`another run created comment ${keep.id} at the same time; keeping it and removing ${created.id}`);
      const updated = await write(client, target, keep, body);
      result = { ...updated, operation: 'updated' };
    }
    await removeDuplicates(client, target, after.filter((c) => c.id !== (keep?.id ?? created.id)), logger);
  }
  logger.info(`PR comment ${result.operation}: ${result.url}`);
  return result;
}

export function fitComment(body: string): string {
  if (body.length <= MAX_COMMENT_CHARS) return body;
  const cut = body.slice(0, MAX_COMMENT_CHARS - TRUNCATED.length);
  // Close an open code fence so the cut does not swallow the note.
  const fence = (cut.match(/^```/gm) ?? []).length % 2 === 1 ? '\n```' : '';
  return `${cut.slice(0, cut.length - fence.length)}${fence}${TRUNCATED}`;
}

/** Our comments on the thread, oldest first. */
async function ours(client: GitHubClient, target: RepoRef & { issueNumber: number }, comment: StickyComment): Promise<IssueComment[]> {
  const all = (await client.paginate('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issueNumber,
    per_page: 100,
  })) as IssueComment[];
  return all.filter((c) => startsWithMarker(c.body, comment.kind, comment.key)).sort((a, b) => a.id - b.id);
}

async function write(client: GitHubClient, target: RepoRef, existing: IssueComment, body: string): Promise<StickyResult> {
  if (existing.body === body) return { operation: 'unchanged', id: existing.id, url: existing.html_url };
  const { data } = await client.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', {
    owner: target.owner,
    repo: target.repo,
    comment_id: existing.id,
    body,
  });
  const updated = data as IssueComment;
  return { operation: 'updated', id: updated.id, url: updated.html_url };
}

async function removeDuplicates(client: GitHubClient, target: RepoRef, duplicates: readonly IssueComment[], logger: Logger): Promise<void> {
  for (const duplicate of duplicates) {
    try {
      await client.request('DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}', { owner: target.owner, repo: target.repo, comment_id: duplicate.id });
      logger.debug(`removed duplicate comment ${duplicate.id}`);
    } catch (error) {
      // The other run may have removed it already.
      if (httpStatus(error) !== 404) throw error;
    }
  }
}

/**
 * One sticky issue per model (`<!-- mlops-actions:drift:<model> -->` opens its body), edited in place with
 * the latest drift report instead of a new issue every run. It also records, in hidden lines, the windows a
 * retrain was dispatched for, so a second run over the same window does not start a second retrain.
 */
import type { Logger } from '../log.ts';
import { startsWithMarker, withMarker } from '../report/marker.ts';
import { httpStatus, type GitHubClient, type RepoRef } from './client.ts';
import { fitComment } from './sticky-comment.ts';

export const DRIFT_MARKER_KIND = 'drift';
export const DEFAULT_DRIFT_LABEL = 'mlops-drift';
const RECORD = /^<!-- mlops-actions:drift-dispatch window="([^"<>]*)"(?: run="([^"<>]*)")? -->$/gm;
const KEEP_RECORDS = 20;

export interface DriftIssue {
  number: number;
  state: 'open' | 'closed';
  body: string;
  html_url: string;
}

export interface DispatchRecord {
  window: string;
  run?: string;
}

/** The dispatch records an issue body holds, oldest first. */
export function dispatchRecords(body: string | null | undefined): DispatchRecord[] {
  return [...(body ?? '').matchAll(RECORD)].map((m) => ({ window: m[1]!, ...(m[2] && { run: m[2] }) }));
}

function recordLine(r: DispatchRecord): string {
  const safe = (s: string) => s.replace(/["<>]|--/g, '');
  return `<!-- mlops-actions:drift-dispatch window="${safe(r.window)}"${r.run ? ` run="${safe(r.run)}"` : ''} -->`;
}

/** The issue body: marker, report, then the records (the most recent KEEP_RECORDS). */
export function issueBody(model: string, report: string, records: readonly DispatchRecord[]): string {
  const tail = records.slice(-KEEP_RECORDS).map(recordLine).join('\n');
  const room = 65_536 - tail.length - 2;
  const head = fitComment(withMarker(DRIFT_MARKER_KIND, model, report));
  return `${head.length > room ? fitComment(head.slice(0, room)) : head}${tail ? `\n\n${tail}` : ''}`;
}

interface IssueJson {
  number: number;
  state: 'open' | 'closed';
  body?: string | null;
  html_url: string;
  pull_request?: unknown;
}

const RECENT_PAGES = 3;

/**
 * The model's sticky issues, oldest first: found by label, then by the marker that opens the body. GitHub
 * drops the labels of a new issue when the token lacks push access, so without a labelled one the most
 * recently updated issues are searched for the marker too.
 */
export async function findDriftIssues(client: GitHubClient, repo: RepoRef, model: string, label: string): Promise<DriftIssue[]> {
  const ours = (list: IssueJson[]) => list.filter((i) => !i.pull_request && startsWithMarker(i.body, DRIFT_MARKER_KIND, model));
  let found = ours((await client.paginate('GET /repos/{owner}/{repo}/issues', { owner: repo.owner, repo: repo.repo, state: 'all', labels: label, per_page: 100 })) as IssueJson[]);
  if (found.length === 0) {
    for (let page = 1; page <= RECENT_PAGES; page++) {
      const { data } = await client.request('GET /repos/{owner}/{repo}/issues', { owner: repo.owner, repo: repo.repo, state: 'all', sort: 'updated', direction: 'desc', per_page: 100, page });
      const list = data as IssueJson[];
      found = [...found, ...ours(list)];
      if (list.length < 100) break;
    }
  }
  return found.sort((a, b) => a.number - b.number).map((i) => ({ number: i.number, state: i.state, body: i.body ?? '', html_url: i.html_url }));
}

export interface IssueUpdate {
  model: string;
  label: string;
  title: string;
  report: string;
  records: DispatchRecord[];
  /** Reopen a closed issue (drift again). */
  reopen: boolean;
}

export interface IssueResult {
  operation: 'created' | 'updated' | 'unchanged';
  number: number;
  url: string;
}

/** Creates the model's issue or edits it in place; two runs racing converge on the oldest issue. */
export async function upsertDriftIssue(client: GitHubClient, repo: RepoRef, existing: DriftIssue | undefined, update: IssueUpdate, logger: Logger): Promise<IssueResult> {
  const body = issueBody(update.model, update.report, update.records);
  const base = { owner: repo.owner, repo: repo.repo };
  if (existing) {
    const reopen = update.reopen && existing.state === 'closed';
    if (existing.body === body && !reopen) return { operation: 'unchanged', number: existing.number, url: existing.html_url };
    const { data } = await client.request('PATCH /repos/{owner}/{repo}/issues/{issue_number}', { ...base, issue_number: existing.number, body, ...(reopen && { state: 'open' }) });
    logger.info(`drift issue #${existing.number} updated${reopen ? ' and reopened' : ''}`);
    return { operation: 'updated', number: existing.number, url: (data as IssueJson).html_url };
  }
  const { data } = await client.request('POST /repos/{owner}/{repo}/issues', { ...base, title: update.title, body, labels: [update.label] });
  const created = data as IssueJson;
  const all = await findDriftIssues(client, repo, update.model, update.label);
  const oldest = all[0];
  if (oldest && oldest.number !== created.number) {
    // Another run created the model's issue first: carry our report over and close ours as its duplicate.
    await client.request('PATCH /repos/{owner}/{repo}/issues/{issue_number}', { ...base, issue_number: oldest.number, body });
    try {
      await client.request('PATCH /repos/{owner}/{repo}/issues/{issue_number}', { ...base, issue_number: created.number, state: 'closed', state_reason: 'duplicate' });
    } catch (error) {
      if (httpStatus(error) !== 404) throw error;
    }
    return { operation: 'updated', number: oldest.number, url: oldest.html_url };
  }
  logger.info(`drift issue #${created.number} created`);
  return { operation: 'created', number: created.number, url: created.html_url };
}

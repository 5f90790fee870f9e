import type { Octokit } from '@octokit/core';
import { silentLogger, type Logger } from '../log.ts';

/** What this module needs from an Octokit: typed REST requests and GraphQL. The Octokit that src/github/octokit.ts builds has both. */
export type PullRequestClient = Pick<Octokit, 'request' | 'graphql'>;

export type MergeMethod = 'MERGE' | 'SQUASH' | 'REBASE';

export interface PullRequestSpec {
  owner: string;
  repo: string;
  /** Branch in the same repository. */
  head: string;
  base: string;
  title: string;
  body: string;
  labels?: string[];
  draft?: boolean;
  /** Turn on auto-merge with this method (needs "Allow auto-merge" on the repository and a protected base). */
  autoMerge?: MergeMethod;
}

export interface PullRequestOutcome {
  number: number;
  url: string;
  operation: 'created' | 'updated' | 'unchanged';
  labelsAdded: string[];
  autoMerge: boolean;
}

interface PullSummary {
  number: number;
  html_url: string;
  node_id: string;
  title: string;
  body: string | null;
  base: { ref: string };
  labels: { name?: string }[];
  auto_merge?: unknown;
}

/** Finds the open PR from `head` (one per branch), creates it when there is none, or brings it up to date. */
export async function upsertPullRequest(client: PullRequestClient, spec: PullRequestSpec, logger: Logger = silentLogger): Promise<PullRequestOutcome> {
  let pull = await findOpenPullRequest(client, spec);
  let operation: PullRequestOutcome['operation'];
  if (pull) {
    operation = await updateIfChanged(client, spec, pull, logger);
  } else {
    try {
      const created = await client.request('POST /repos/{owner}/{repo}/pulls', {
        owner: spec.owner,
        repo: spec.repo,
        head: spec.head,
        base: spec.base,
        title: spec.title,
        body: spec.body,
        draft: spec.draft ?? false,
        maintainer_can_modify: false,
      });
      pull = created.data as PullSummary;
      operation = 'created';
      logger.info(`opened pull request #${pull.number}: ${pull.html_url}`);
    } catch (error) {
      // Another run opened it between our lookup and our create.
      if (!isAlreadyExists(error)) throw error;
      pull = await findOpenPullRequest(client, spec);
      if (!pull) throw error;
      operation = await updateIfChanged(client, spec, pull, logger);
    }
  }
  const labelsAdded = await addMissingLabels(client, spec, pull);
  if (operation === 'unchanged' && labelsAdded.length > 0) operation = 'updated';
  const autoMerge = spec.autoMerge && !pull.auto_merge ? await enableAutoMerge(client, pull, spec.autoMerge, logger) : Boolean(pull.auto_merge);
  return { number: pull.number, url: pull.html_url, operation, labelsAdded, autoMerge };
}

export async function findOpenPullRequest(client: PullRequestClient, spec: Pick<PullRequestSpec, 'owner' | 'repo' | 'head'>): Promise<PullSummary | undefined> {
  const response = await client.request('GET /repos/{owner}/{repo}/pulls', {
    owner: spec.owner,
    repo: spec.repo,
    head: `${spec.owner}:${spec.head}`,
    state: 'open',
    per_page: 10,
  });
  const pulls = response.data as PullSummary[];
  return pulls[0];
}

async function updateIfChanged(client: PullRequestClient, spec: PullRequestSpec, pull: PullSummary, logger: Logger): Promise<'updated' | 'unchanged'> {
  const patch: { title?: string; body?: string; base?: string } = {};
  if (pull.title !== spec.title) patch.title = spec.title;
  if ((pull.body ?? '') !== spec.body) patch.body = spec.body;
  if (pull.base.ref !== spec.base) patch.base = spec.base;
  if (Object.keys(patch).length === 0) return 'unchanged';
  await client.request('PATCH /repos/{owner}/{repo}/pulls/{pull_number}', { owner: spec.owner, repo: spec.repo, pull_number: pull.number, ...patch });
  logger.info(`updated pull request #${pull.number} (${Object.keys(patch).join(', ')}): ${pull.html_url}`);
  return 'updated';
}

async function addMissingLabels(client: PullRequestClient, spec: PullRequestSpec, pull: PullSummary): Promise<string[]> {
  const present = new Set(pull.labels.map((l) => l.name));
  const missing = [...new Set(spec.labels ?? [])].filter((l) => !present.has(l));
  if (missing.length === 0) return [];
  await client.request('POST /repos/{owner}/{repo}/issues/{issue_number}/labels', { owner: spec.owner, repo: spec.repo, issue_number: pull.number, labels: missing });
  return missing;
}

// Octokit reserves `method`, `url` and `query` as variable names.
const ENABLE_AUTO_MERGE = `mutation($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod!) {
  enablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId, mergeMethod: $mergeMethod }) { pullRequest { number } }
}`;

/** Auto-merge is a convenience: when the repository does not allow it, say why and carry on. */
async function enableAutoMerge(client: PullRequestClient, pull: PullSummary, method: MergeMethod, logger: Logger): Promise<boolean> {
  try {
    await client.graphql(ENABLE_AUTO_MERGE, { pullRequestId: pull.node_id, mergeMethod: method });
    logger.info(`auto-merge (${method.toLowerCase()}) enabled on #${pull.number}`);
    return true;
  } catch (error) {
    logger.warning(
      `could not enable auto-merge on #${pull.number}: ${error instanceof Error ? error.message : String(error)}. ` +
        'It needs "Allow auto-merge" in the repository settings, a branch protection rule or ruleset on the base with required checks, and a token with contents: write and pull-requests: write',
    );
    return false;
  }
}

function isAlreadyExists(error: unknown): boolean {
  const e = error as { status?: number; message?: string; response?: { data?: unknown } };
  return e?.status === 422 && /already exists/i.test(`${e.message ?? ''} ${JSON.stringify(e.response?.data ?? '')}`);
}

/** `owner/name` → parts, or undefined when it is not that shape. */
export function parseRepository(value: string): { owner: string; repo: string } | undefined {
  const match = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/.exec(value);
  if (!match?.[1] || !match[2] || match[2] === '.' || match[2] === '..') return undefined;
  return { owner: match[1], repo: match[2].replace(/\.git$/, '') };
}

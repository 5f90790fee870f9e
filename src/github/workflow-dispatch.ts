/**
 * Starting a workflow from another: `workflow_dispatch` (POST …/actions/workflows/{workflow}/dispatches, at
 * most 25 inputs, `return_run_details` for the run's URL) or `repository_dispatch` (POST …/dispatches, an
 * event type and at most 10 top-level client_payload properties). GitHub's refusals come back as errors that
 * say what to change: the missing permission for a 403, the inputs for a 422.
 */
import { UsageError, errorMessage } from '../errors.ts';
import { httpStatus, type GitHubClient, type RepoRef } from './client.ts';

export const MAX_WORKFLOW_INPUTS = 25;
export const MAX_CLIENT_PAYLOAD_KEYS = 10;
export const WORKFLOW_DISPATCH = 'POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches';
export const REPOSITORY_DISPATCH = 'POST /repos/{owner}/{repo}/dispatches';
export const WORKFLOW_RUNS = 'GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs';

export type DispatchTarget =
  | { kind: 'workflow'; workflow: string; ref: string }
  | { kind: 'repository'; eventType: string };

/** The request, as sent (or as written to a file instead, by the demo and --dispatch-out). */
export interface DispatchRequest {
  route: typeof WORKFLOW_DISPATCH | typeof REPOSITORY_DISPATCH;
  params: Record<string, unknown>;
}

export interface DispatchOutcome {
  status: number;
  /** The run's page, when GitHub returned the run details. */
  runUrl?: string;
  runId?: number;
}

export function dispatchRequest(repo: RepoRef, target: DispatchTarget, inputs: Record<string, string>): DispatchRequest {
  const count = Object.keys(inputs).length;
  if (target.kind === 'workflow') {
    if (count > MAX_WORKFLOW_INPUTS) {
      throw new UsageError(`dispatch-inputs: ${count} inputs for ${target.workflow}, but GitHub takes at most ${MAX_WORKFLOW_INPUTS} workflow_dispatch inputs: drop ${count - MAX_WORKFLOW_INPUTS}`);
    }
    return {
      route: WORKFLOW_DISPATCH,
      params: { owner: repo.owner, repo: repo.repo, workflow_id: target.workflow, ref: target.ref, inputs, return_run_details: true },
    };
  }
  if (count > MAX_CLIENT_PAYLOAD_KEYS) {
    throw new UsageError(`dispatch-inputs: ${count} values, but a repository_dispatch client_payload takes at most ${MAX_CLIENT_PAYLOAD_KEYS} top-level properties: drop ${count - MAX_CLIENT_PAYLOAD_KEYS}`);
  }
  if (target.eventType.length === 0 || target.eventType.length > 100) throw new UsageError(`event-type: ${JSON.stringify(target.eventType)} must be 1 to 100 characters`);
  return { route: REPOSITORY_DISPATCH, params: { owner: repo.owner, repo: repo.repo, event_type: target.eventType, client_payload: inputs } };
}

/** The request as GitHub receives it (method, path, JSON body): what --dispatch-out and the demo write. */
export function describeDispatch(request: DispatchRequest): { method: string; path: string; body: Record<string, unknown> } {
  const [method, template] = request.route.split(' ') as [string, string];
  const used = new Set<string>();
  const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    used.add(name);
    return encodeURIComponent(String(request.params[name]));
  });
  return { method, path, body: Object.fromEntries(Object.entries(request.params).filter(([k]) => !used.has(k))) };
}

function githubMessage(error: unknown): string {
  const data = (error as { response?: { data?: { message?: unknown; errors?: unknown } } }).response?.data;
  const message = typeof data?.message === 'string' ? data.message : errorMessage(error);
  const details = Array.isArray(data?.errors) ? data.errors.map((e) => (typeof e === 'string' ? e : (e as { message?: string }).message ?? JSON.stringify(e))).join('; ') : '';
  return details ? `${message} (${details})` : message;
}

/** Why GitHub said no, and what to change. */
export function explainDispatchError(error: unknown, request: DispatchRequest): Error {
  const status = httpStatus(error);
  const message = githubMessage(error);
  const repo = `${request.params.owner}/${request.params.repo}`;
  const workflow = request.route === WORKFLOW_DISPATCH ? String(request.params.workflow_id) : undefined;
  const what = workflow ? `workflow_dispatch of ${workflow} in ${repo}` : `repository_dispatch to ${repo}`;
  let fix: string;
  if (status === 403 || status === 401) {
    fix = workflow
      ? 'the token may not start workflows: give the job `permissions: actions: write` (a fine-grained token needs Actions: write)'
      : 'the token may not send repository_dispatch: it needs `contents: write` (a fine-grained token needs Contents: write)';
  } else if (status === 404) {
    fix = workflow ? `no workflow ${workflow} is visible to the token in ${repo}: give its file name (e.g. retrain.yml) and check the repository` : `${repo} is not visible to the token`;
  } else if (status === 422) {
    if (/25|inputs/i.test(message) && /up to|at most|too many|maximum/i.test(message)) fix = `send at most ${MAX_WORKFLOW_INPUTS} inputs`;
    else if (/unexpected inputs/i.test(message)) fix = `declare the inputs under on.workflow_dispatch.inputs of ${workflow} (model, reason, profile-version, window: see templates/workflows/retrain-on-drift.yml)`;
    else if (/workflow_dispatch/i.test(message)) fix = `add "on: workflow_dispatch" to ${workflow}`;
    else if (/ref/i.test(message)) fix = 'set dispatch-ref to a branch or tag that exists';
    else fix = 'check the dispatch inputs';
  } else fix = 'try again later';
  const out = new Error(`GitHub refused the ${what} (${status ?? 'no status'}: ${message}): ${fix}`);
  (out as { status?: number }).status = status;
  return out;
}

export async function sendDispatch(client: GitHubClient, request: DispatchRequest): Promise<DispatchOutcome> {
  try {
    const response = await client.request(request.route, request.params);
    const data = response.data as { workflow_run_id?: number; html_url?: string } | undefined;
    return { status: response.status, ...(data?.html_url && { runUrl: data.html_url }), ...(data?.workflow_run_id !== undefined && { runId: data.workflow_run_id }) };
  } catch (error) {
    throw explainDispatchError(error, request);
  }
}

interface WorkflowRun {
  id: number;
  html_url: string;
  display_title?: string;
  name?: string;
}

/**
 * A run of the workflow already started for this window: its run name (the template's `run-name`) carries
 * `window <key>`. Only recent workflow_dispatch runs are looked at.
 */
export async function runForWindow(client: GitHubClient, repo: RepoRef, workflow: string, windowKey: string): Promise<WorkflowRun | undefined> {
  let runs: WorkflowRun[];
  try {
    const { data } = await client.request(WORKFLOW_RUNS, { owner: repo.owner, repo: repo.repo, workflow_id: workflow, event: 'workflow_dispatch', per_page: 100 });
    runs = (data as { workflow_runs?: WorkflowRun[] }).workflow_runs ?? [];
  } catch (error) {
    // The dispatch itself will say what is wrong (404, 403) with a better message.
    if (httpStatus(error) === 404 || httpStatus(error) === 403) return undefined;
    throw error;
  }
  const needle = `window ${windowKey}`;
  return runs.find((r) => (r.display_title ?? r.name ?? '').includes(needle));
}

/**
 * After the check: the model's sticky issue gets the latest report, and drift starts the retraining workflow —
 * once per window. A window already recorded in the issue, or a run of the workflow whose name carries the
 * window (the template's `run-name`), means the retrain was started already.
 */
import { badInput, errorMessage } from '../errors.ts';
import type { GitHubClient, RepoRef } from '../github/client.ts';
import { httpStatus } from '../github/client.ts';
import { DEFAULT_DRIFT_LABEL, dispatchRecords, findDriftIssues, upsertDriftIssue, type DispatchRecord, type DriftIssue, type IssueResult } from '../github/drift-issue.ts';
import { dispatchRequest, runForWindow, sendDispatch, type DispatchRequest, type DispatchTarget } from '../github/workflow-dispatch.ts';
import type { Logger } from '../log.ts';
import { formatStat } from './report.ts';
import type { DriftResult } from './run.ts';

export interface RetrainSettings {
  repo: RepoRef;
  /** The sticky issue's key and the `model` input of the dispatch. */
  model: string;
  issue: boolean;
  label?: string;
  dispatch?: DispatchTarget;
  /** More inputs (workflow_dispatch) or client_payload properties (repository_dispatch). */
  extraInputs?: Record<string, string>;
  /** Instead of sending the dispatch, hand it over (the demo and --dispatch-out write it to a file). */
  write?(request: DispatchRequest): Promise<void>;
}

export interface DispatchStatus {
  status: 'dispatched' | 'already-dispatched' | 'written' | 'not-needed' | 'off';
  runUrl?: string;
  request?: DispatchRequest;
  detail: string;
}

export interface RetrainOutcome {
  issue?: IssueResult;
  dispatch: DispatchStatus;
}

/** The model name keys the sticky issue's marker: letters, digits, ".", "_", "/" or "-". */
export function checkModelName(model: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(model) || model.includes('--')) throw badInput('model', model, 'must be letters, digits, ".", "_", "/" or "-" (it names the sticky issue), like "churn"');
  return model;
}

/** One line for the retrain's `reason` input: what drifted, by how much. */
export function driftReason(result: DriftResult): string {
  const drifted = result.features.filter((f) => f.drifted && f.severity === 'error');
  const items = drifted.map((f) => `${f.name} (${f.test} ${f.p_value !== undefined ? `p=${formatStat(f.p_value)}` : formatStat(f.statistic)})`);
  const text = `dataset drift: ${result.dataset.drifted} of ${result.dataset.tested} columns drifted: ${items.join(', ')}`;
  return text.length > 1000 ? `${text.slice(0, 997)}...` : text;
}

export function retrainInputs(result: DriftResult, model: string, extra: Record<string, string> = {}): Record<string, string> {
  return { model, reason: driftReason(result), 'profile-version': result.version ?? result.profile, window: result.window.key, ...extra };
}

function dispatchNote(d: DispatchStatus): string {
  switch (d.status) {
    case 'dispatched':
      return `**Retraining started** for this window${d.runUrl ? `: [the run](${d.runUrl})` : ''}.`;
    case 'already-dispatched':
      return `Retraining was already started for this window${d.runUrl && /^https?:\/\//.test(d.runUrl) ? `: [the run](${d.runUrl})` : ''}; not started again.`;
    case 'written':
      return 'The retrain dispatch was written to a file instead of being sent.';
    default:
      return '';
  }
}

function issueWarning(error: unknown): string {
  const status = httpStatus(error);
  const why = status === 403 ? 'the token may not write issues: give the job `permissions: issues: write`' : status === 410 ? 'issues are turned off in this repository' : errorMessage(error);
  return `Drift issue not written (${status ?? 'error'}): ${why}`;
}

export async function closeTheLoop(client: GitHubClient | undefined, result: DriftResult, report: string, settings: RetrainSettings, logger: Logger): Promise<RetrainOutcome> {
  checkModelName(settings.model);
  const label = settings.label ?? DEFAULT_DRIFT_LABEL;
  const key = result.window.key;
  // The issue is the report's home, not the retrain's: when it cannot be read or written (issues off, a token
  // without issues: write) the run says so and goes on; the workflow runs still keep the dispatch to one per window.
  let existing: DriftIssue | undefined;
  let issueProblem: string | undefined;
  if (settings.issue && client) {
    try {
      existing = (await findDriftIssues(client, settings.repo, settings.model, label))[0];
    } catch (error) {
      issueProblem = issueWarning(error);
    }
  }
  const records: DispatchRecord[] = dispatchRecords(existing?.body);
  let dispatch: DispatchStatus = { status: settings.dispatch ? 'not-needed' : 'off', detail: settings.dispatch ? (result.insufficient ? 'insufficient data' : 'no dataset drift') : 'no dispatch configured' };
  if (result.drifted && settings.dispatch) {
    const target = settings.dispatch;
    const recorded = records.find((r) => r.window === key);
    const run = !recorded && client && target.kind === 'workflow' && !settings.write ? await runForWindow(client, settings.repo, target.workflow, key) : undefined;
    if (recorded || run) {
      const runUrl = recorded?.run ?? run?.html_url;
      dispatch = { status: 'already-dispatched', ...(runUrl && { runUrl }), detail: `a retrain was already started for window ${key}` };
      if (run && !recorded) records.push({ window: key, run: run.html_url });
    } else {
      const request = dispatchRequest(settings.repo, target, retrainInputs(result, settings.model, settings.extraInputs));
      if (settings.write) {
        await settings.write(request);
        dispatch = { status: 'written', request, detail: 'written instead of sent' };
      } else {
        if (!client) throw new Error('dispatch: a GitHub token is needed to start the retrain workflow');
        const outcome = await sendDispatch(client, request);
        dispatch = { status: 'dispatched', request, ...(outcome.runUrl && { runUrl: outcome.runUrl }), detail: outcome.runUrl ? `run ${outcome.runUrl}` : 'dispatched (GitHub returned no run details)' };
        records.push({ window: key, ...(outcome.runUrl && { run: outcome.runUrl }) });
      }
      const what = target.kind === 'workflow' ? target.workflow : `repository_dispatch ${target.eventType}`;
      logger.info(`retrain ${dispatch.status === 'written' ? 'dispatch written, not sent' : 'dispatched'}: ${what} for window ${key}${dispatch.runUrl ? ` (${dispatch.runUrl})` : ''}`);
    }
  }
  let issue: IssueResult | undefined;
  if (settings.issue && client && !issueProblem && (result.drifted || existing)) {
    const note = dispatchNote(dispatch);
    try {
      issue = await upsertDriftIssue(
        client,
        settings.repo,
        existing,
        { model: settings.model, label, title: `Drift watch: ${settings.model}`, report: note ? `${report}\n${note}\n` : report, records, reopen: result.drifted },
        logger,
      );
    } catch (error) {
      issueProblem = issueWarning(error);
    }
  }
  if (issueProblem) logger.warning(issueProblem);
  return { ...(issue && { issue }), dispatch };
}

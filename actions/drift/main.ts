import * as core from '@actions/core';
import { context } from '@actions/github';
import { isAbsolute, relative, resolve } from 'node:path';
import { booleanInput, listInput, stringInput } from '../_lib/inputs.ts';
import { actionsLogger, runAction } from '../_lib/run.ts';
import { renderDriftReport } from '../../src/drift/report.ts';
import { checkModelName, closeTheLoop, type RetrainOutcome } from '../../src/drift/retrain.ts';
import { DEFAULT_RULES_FILE } from '../../src/drift/rules.ts';
import { driftJson, driftSettings, runDrift } from '../../src/drift/run.ts';
import { logSafe } from '../../src/drift/write-file.ts';
import { badInput } from '../../src/errors.ts';
import { DEFAULT_DRIFT_LABEL } from '../../src/github/drift-issue.ts';
import { createGitHubClient } from '../../src/github/octokit.ts';
import type { DispatchTarget } from '../../src/github/workflow-dispatch.ts';

const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();

/** A local path from an input must stay inside the workspace; URLs (s3://, file:// is refused) pass through. */
function inWorkspace(input: string, value: string | undefined): string | undefined {
  if (value === undefined || value.startsWith('s3://')) return value;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw badInput(input, value, 'must be a path inside the workspace or an s3:// URL');
  const rel = relative(workspace, resolve(workspace, value));
  if (rel.startsWith('..') || isAbsolute(rel)) throw badInput(input, value, 'must be a path inside the workspace');
  return value;
}

function keyValues(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf('=');
    if (at <= 0) throw badInput('dispatch-inputs', line, 'must be key=value, one per line');
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

function runUrl(): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = process.env;
  return server && repo && run ? `${server}/${repo}/actions/runs/${run}` : undefined;
}

await runAction(async () => {
  const token = stringInput('token');
  if (token) core.setSecret(token);
  const rules = stringInput('rules');
  const settings = driftSettings(
    {
      profile: inWorkspace('profile', stringInput('profile', { required: true })),
      'model-card': inWorkspace('model-card', stringInput('model-card')),
      current: listInput('current').map((c) => inWorkspace('current', c)!),
      format: stringInput('format'),
      since: stringInput('since'),
      until: stringInput('until'),
      ...(!stringInput('since') && !stringInput('until') && { window: stringInput('window') }),
      rules: rules === DEFAULT_RULES_FILE || rules === undefined || rules.includes('\n') ? rules : inWorkspace('rules', rules),
      endpoint: stringInput('endpoint'),
    },
    workspace,
  );
  const workflow = stringInput('dispatch');
  const eventType = stringInput('event-type');
  if (workflow && eventType) throw badInput('event-type', eventType, 'cannot be combined with dispatch: choose workflow_dispatch (dispatch) or repository_dispatch (event-type)');
  const ref = stringInput('dispatch-ref') ?? 'main';
  const target: DispatchTarget | undefined = workflow ? { kind: 'workflow', workflow, ref } : eventType ? { kind: 'repository', eventType } : undefined;
  const issue = booleanInput('issue', true);
  const label = stringInput('issue-label') ?? DEFAULT_DRIFT_LABEL;
  const extraInputs = keyValues(listInput('dispatch-inputs'));
  const failOnDrift = booleanInput('fail-on-drift', true);
  const modelInput = stringInput('model');
  if (modelInput) checkModelName(modelInput); // before any work

  const { result } = await runDrift(settings, { logger: actionsLogger });
  const model = checkModelName(modelInput ?? result.model ?? context.repo.repo);
  let retrain: RetrainOutcome | undefined;
  if ((issue || target) && token) {
    const client = createGitHubClient({ token, logger: actionsLogger });
    retrain = await closeTheLoop(client, result, renderDriftReport(result, { ...(runUrl() && { runUrl: runUrl()! }) }), { repo: context.repo, model, issue, label, ...(target && { dispatch: target }), extraInputs }, actionsLogger);
  } else if (issue || target) core.notice('Drift issue and dispatch skipped: no token');

  const extra = retrain && (retrain.dispatch.status === 'dispatched' || retrain.dispatch.status === 'already-dispatched') ? [`Retrain: ${retrain.dispatch.status}${retrain.dispatch.runUrl ? ` — ${retrain.dispatch.runUrl}` : ''}.`] : [];
  const report = renderDriftReport(result, { ...(runUrl() && { runUrl: runUrl()! }), extra });
  const drifted = result.features.filter((f) => f.drifted).map((f) => f.name);
  core.setOutput('drifted', String(result.drifted));
  core.setOutput('insufficient', String(result.insufficient));
  core.setOutput('report', report);
  core.setOutput('features-drifted', drifted.join(','));
  core.setOutput('window', result.window.key);
  core.setOutput('issue-url', retrain?.issue?.url ?? '');
  core.setOutput('dispatch', retrain?.dispatch.status ?? 'off');
  core.setOutput('run-url', retrain?.dispatch.runUrl ?? '');
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(report).write();
  core.debug(JSON.stringify(driftJson(result)));
  const verdict = result.insufficient
    ? `Insufficient data: ${result.rows} rows in the window, min-rows is ${result['min-rows']}`
    : result.drifted
      ? `Dataset drift: ${result.dataset.drifted} of ${result.dataset.tested} columns drifted (${logSafe(drifted.join(', '))})`
      : `No dataset drift (${result.dataset.drifted} of ${result.dataset.tested} columns drifted)`;
  core.info(verdict);
  if (result.drifted) {
    if (failOnDrift) core.setFailed(verdict);
    else core.warning(`${verdict} (fail-on-drift is false, so the step succeeds)`);
  }
});

import * as core from '@actions/core';
import { context } from '@actions/github';
import { booleanInput, listInput, stringInput } from '../_lib/inputs.ts';
import { actionsLogger, runAction } from '../_lib/run.ts';
import { badInput, errorMessage } from '../../src/errors.ts';
import type { ProductionBaselineResolver } from '../../src/gates/baseline.ts';
import type { GateResult } from '../../src/gates/evaluate.ts';
import { runGate } from '../../src/gates/run.ts';
import { championScoring, productionChampion } from '../../src/model/champion.ts';
import { workspacePath } from '../../src/model/workspace-path.ts';
import { openRemote } from '../../src/storage/open-remote.ts';
import { logValue } from '../../src/github/escape.ts';
import { createGitHubClient } from '../../src/github/octokit.ts';
import { findPullRequestNumber } from '../../src/github/pull-request-number.ts';
import { upsertStickyComment } from '../../src/github/sticky-comment.ts';
import { renderGateReport } from '../../src/report/gate-report.ts';
import { marker } from '../../src/report/marker.ts';
import { readLegParams } from '../../src/report/params-table.ts';

interface Settings {
  metrics: string[];
  rules: string;
  baseline: string | undefined;
  comment: boolean;
  commentKey: string;
  token: string | undefined;
  failOnRegression: boolean;
  workspace: string;
}

function readSettings(): Settings {
  const metrics = listInput('metrics');
  if (metrics.length === 0) throw badInput('metrics', '', 'is required: give a metrics file, a folder of leg artifacts or a glob');
  const token = stringInput('token');
  if (token) core.setSecret(token);
  const commentKey = stringInput('comment-key') ?? 'default';
  marker('gate', commentKey); // validates the key now, before any work
  return {
    metrics,
    rules: stringInput('rules') ?? '.mlops/gates.yml',
    baseline: stringInput('baseline'),
    comment: booleanInput('comment', true),
    commentKey,
    token,
    failOnRegression: booleanInput('fail-on-regression', true),
    workspace: process.env.GITHUB_WORKSPACE ?? process.cwd(),
  };
}

/**
 * `baseline: production`: the version the production manifest (or overlay) deploys, re-scored on the holdout
 * when one is given, else the metrics stored in its model.json.
 */
function productionBaseline(workspace: string): ProductionBaselineResolver | undefined {
  const holdout = stringInput('holdout');
  if (holdout) workspacePath(workspace, 'holdout', holdout); // inside the workspace, also through symlinks
  const rescore = championScoring({
    holdout,
    label: stringInput('label'),
    task: stringInput('task'),
    features: listInput('features'),
    'latency-samples': stringInput('latency-samples'),
    'batch-size': stringInput('batch-size'),
    'throughput-ms': stringInput('throughput-ms'),
    'champion-cache': stringInput('champion-cache'),
  });
  const manifest = stringInput('manifest');
  if (!manifest) {
    if (rescore) throw badInput('holdout', holdout, 're-scores the production model, which needs baseline production and the manifest input');
    return undefined;
  }
  const remote = stringInput('remote');
  const endpoint = stringInput('endpoint');
  const allowMissing = booleanInput('allow-missing-baseline', false);
  return () =>
    productionChampion(
      { manifest, ...(remote && { remote }), allowMissing, ...(rescore && { rescore }) },
      { cwd: workspace, logger: actionsLogger, openRemote: (url) => openRemote(url, { cwd: workspace, ...(endpoint && { endpoint }) }), tempDir: process.env.RUNNER_TEMP },
    );
}

function runUrl(): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = process.env;
  return server && repo && run ? `${server}/${repo}/actions/runs/${run}` : undefined;
}

async function comment(settings: Settings, report: string): Promise<string> {
  if (!settings.token) {
    core.notice('Gate comment skipped: no token; set the token input or turn comment off');
    return '';
  }
  const client = createGitHubClient({ token: settings.token, logger: actionsLogger });
  const { owner, repo } = context.repo;
  const event = { eventName: context.eventName, sha: context.sha, payload: context.payload as Record<string, unknown>, owner, repo };
  const issueNumber = await findPullRequestNumber(client, event, actionsLogger);
  if (issueNumber === undefined) {
    core.notice(`Gate comment skipped: this ${context.eventName} run has no open pull request`);
    return '';
  }
  const result = await upsertStickyComment(client, { owner, repo, issueNumber }, { kind: 'gate', key: settings.commentKey, body: report }, actionsLogger);
  return result.url;
}

function failureSummary(result: GateResult): string {
  const reasons = result.legs.flatMap((leg) =>
    leg.checks.filter((c) => c.verdict === 'fail').map((c) => `${result.legs.length > 1 ? `${leg.name} ` : ''}${c.metric} ${c.reason}`),
  );
  const shown = reasons.slice(0, 5).join('; ');
  return `Gate failed: ${shown}${reasons.length > 5 ? `; and ${reasons.length - 5} more (see the job summary)` : ''}`;
}

await runAction(async () => {
  const settings = readSettings();
  const resolver = productionBaseline(settings.workspace);
  const { result, rules } = await runGate(
    { metrics: settings.metrics, rules: settings.rules, ...(settings.baseline !== undefined && { baseline: settings.baseline }), cwd: settings.workspace },
    { logger: actionsLogger, ...(resolver && { resolveProductionBaseline: resolver }) },
  );
  const url = runUrl();
  const legParams = await readLegParams(result.legs, settings.workspace);
  const report = renderGateReport(result, { rules, legParams, ...(url && { runUrl: url }) });
  core.setOutput('passed', String(result.passed));
  core.setOutput('best-leg', result.bestLeg ?? '');
  core.setOutput('report', report);
  // Outside GitHub (e.g. a local runner without a summary file) there is nowhere to write it.
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(report).write();
  let commentUrl = '';
  if (settings.comment) {
    try {
      commentUrl = await comment(settings, report);
    } catch (error) {
      // A read-only token (pull requests from forks) must not turn a gate verdict into an error.
      core.warning(`Gate comment not written: ${errorMessage(error)}. The job needs "permissions: pull-requests: write"; pull requests from forks get a read-only token.`);
    }
  }
  core.setOutput('comment-url', commentUrl);
  actionsLogger.info(result.passed ? `Gate ${result.verdict === 'warn' ? 'passed with warnings' : 'passed'}${result.bestLeg ? `; best leg ${logValue(result.bestLeg)}` : ''}` : 'Gate failed');
  if (!result.passed) {
    if (settings.failOnRegression) core.setFailed(failureSummary(result));
    else core.warning(`${failureSummary(result)} (fail-on-regression is false, so the step succeeds)`);
  }
});

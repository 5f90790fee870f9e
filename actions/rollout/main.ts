import * as core from '@actions/core';
import { createGitHubClient } from '../../src/github/octokit.ts';
import type { PullRequestClient } from '../../src/github/pull-requests.ts';
import { rolloutSummary } from '../../src/rollout/report.ts';
import { runRollout } from '../../src/rollout/run.ts';
import { parseDuration, type ClusterMode, type OnFailure } from '../../src/rollout/settings.ts';
import { openRemote } from '../../src/storage/open-remote.ts';
import { booleanInput, choiceInput, listInput, requiredInput, stringInput } from '../_lib/inputs.ts';
import { actionsLogger, runAction } from '../_lib/run.ts';

await runAction(async () => {
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
  const token = stringInput('token');
  if (token) core.setSecret(token);
  const onFailure = choiceInput<OnFailure>('on-failure', ['revert-pr', 'fail'], 'revert-pr');
  const cluster = choiceInput<ClusterMode>('cluster', ['kubernetes', 'none'], 'kubernetes');
  const name = requiredInput('name');
  const s3Endpoint = stringInput('s3-endpoint');
  const runUrl = process.env.GITHUB_SERVER_URL && process.env.GITHUB_REPOSITORY && process.env.GITHUB_RUN_ID ? `${process.env.GITHUB_SERVER_URL}/${process.env.GITHUB_REPOSITORY}/actions/runs/${process.env.GITHUB_RUN_ID}` : undefined;
  const github = onFailure === 'revert-pr' && token ? (createGitHubClient({ token, logger: actionsLogger, baseUrl: process.env.GITHUB_API_URL }) as unknown as PullRequestClient) : undefined;
  // A cancelled workflow stops the wait (nothing is reverted for a check that never concluded).
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());

  const result = await runRollout(
    {
      cluster,
      namespace: stringInput('namespace'),
      name,
      storageUri: stringInput('storage-uri'),
      manifest: stringInput('manifest'),
      application: stringInput('application'),
      argocdNamespace: stringInput('argocd-namespace') ?? 'argocd',
      revision: stringInput('revision'),
      endpoint: stringInput('endpoint'),
      timeoutMs: parseDuration('timeout', stringInput('timeout') ?? '10m'),
      kubeconfig: stringInput('kubeconfig'),
      context: stringInput('context'),
      sample: stringInput('sample'),
      modelCard: stringInput('model-card'),
      onFailure,
      revert:
        onFailure === 'revert-pr'
          ? {
              repository: requiredInput('repository'),
              serverUrl: process.env.GITHUB_SERVER_URL ?? 'https://github.com',
              token,
              base: stringInput('base'),
              model: stringInput('model') ?? name,
              environment: requiredInput('environment'),
              author: { name: requiredInput('author-name'), email: requiredInput('author-email') },
              runUrl,
              labels: listInput('labels'),
            }
          : undefined,
      cwd: workspace,
    },
    { logger: actionsLogger, github, signal: stop.signal, openRemote: (url) => openRemote(url, { cwd: workspace, ...(s3Endpoint ? { endpoint: s3Endpoint } : {}) }) },
  );
  core.setOutput('status', result.status);
  core.setOutput('reason', result.reason);
  core.setOutput('revision', result.revision ?? '');
  core.setOutput('version', result.version ?? '');
  core.setOutput('revert-pull-request-number', result.revert?.number === undefined ? '' : String(result.revert.number));
  core.setOutput('revert-pull-request-url', result.revert?.url ?? '');
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(rolloutSummary({ ...result, name, revert: result.revert })).write();
  if (result.status === 'serving') {
    core.info(`serving: ${result.reason}`);
    return;
  }
  const revert = result.revert?.url ? `; revert pull request ${result.revert.url}` : result.revert?.operation === 'error' ? `; the revert pull request could not be opened: ${result.revert.reason}` : '';
  const message = `Rollout ${result.status}: ${result.reason}${revert}`;
  if (booleanInput('fail-on-not-serving', true)) core.setFailed(message);
  else core.warning(`${message} (fail-on-not-serving is false, so the step succeeds)`);
});

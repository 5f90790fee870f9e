import { resolve } from 'node:path';
import * as core from '@actions/core';
import { baselineFromModelCard, parseMergeMethod, remoteOpener } from '../../src/cli/commands/pull-request.ts';
import { code } from '../../src/github/escape.ts';
import { createGitHubClient } from '../../src/github/octokit.ts';
import type { PullRequestClient } from '../../src/github/pull-requests.ts';
import { runPullRequest, type ChangeSource } from '../../src/gitops/pull-request.ts';
import { booleanInput, listInput, requiredInput, stringInput } from '../_lib/inputs.ts';
import { actionsLogger, runAction } from '../_lib/run.ts';

await runAction(async () => {
  const token = stringInput('token');
  if (token) core.setSecret(token);
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
  const environment = requiredInput('environment');
  const checkout = stringInput('checkout');
  const change: ChangeSource = checkout
    ? { kind: 'files', checkout: resolve(workspace, checkout), paths: listInput('paths') }
    : {
        kind: 'bump',
        manifests: listInput('manifest'),
        bump: { images: listInput('image'), canaryTrafficPercent: stringInput('canary-traffic-percent'), annotations: listInput('annotations'), data: stringInput('data') },
      };
  const github = token ? (createGitHubClient({ token, logger: actionsLogger, baseUrl: process.env.GITHUB_API_URL }) as unknown as PullRequestClient) : undefined;
  const result = await runPullRequest(
    {
      repository: requiredInput('repository'),
      serverUrl: process.env.GITHUB_SERVER_URL ?? 'https://github.com',
      token,
      base: stringInput('base'),
      model: requiredInput('model'),
      environment,
      change,
      modelCard: stringInput('model-card'),
      modelVersion: stringInput('model-version'),
      storageUri: stringInput('storage-uri'),
      baseline: await baselineFromModelCard(stringInput('baseline-model-card'), workspace, environment),
      showMetrics: listInput('show-metrics'),
      remote: stringInput('remote'),
      commit: stringInput('commit'),
      runUrl: stringInput('run-url'),
      sourceRepository: process.env.GITHUB_REPOSITORY,
      title: stringInput('title'),
      labels: listInput('labels'),
      draft: booleanInput('draft', false),
      autoMerge: parseMergeMethod(stringInput('auto-merge')),
      force: booleanInput('force', false),
      author: { name: requiredInput('author-name'), email: requiredInput('author-email') },
      cwd: workspace,
    },
    { logger: actionsLogger, github, openRemote: remoteOpener(workspace, stringInput('endpoint')) },
  );
  core.setOutput('pull-request-number', result.number === undefined ? '' : String(result.number));
  core.setOutput('pull-request-url', result.url ?? '');
  core.setOutput('operation', result.operation);
  core.setOutput('branch', result.branch);
  core.setOutput('commit', result.commit ?? '');
  await core.summary
    .addHeading(`pull-request: ${result.operation} ${result.branch}`, 3)
    .addRaw(result.url ? `\n\n[#${result.number}](${result.url}) → ${code(result.base)}\n\n` : `\n\n${result.baseHasChange ? `${code(result.base)} already has this change.` : 'Branch pushed.'}\n\n`)
    .addRaw(result.body.replace(/^<!--.*-->\n/, ''))
    .write();
});

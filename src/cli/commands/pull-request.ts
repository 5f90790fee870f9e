import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { badInput, UsageError } from '../../errors.ts';
import { openRemote } from '../../storage/open-remote.ts';
import { parseCardInput, runPullRequest, type ChangeSource } from '../../gitops/pull-request.ts';
import type { PullRequestClient } from '../../github/pull-requests.ts';
import { EXIT, type Command } from '../command.ts';

const MERGE_METHODS = ['merge', 'squash', 'rebase'] as const;
export const DEFAULT_AUTHOR = { name: 'mlops-actions[bot]', email: 'mlops-actions@users.noreply.github.com' };

/** Reads a production model card into the PR body's baseline. */
export async function baselineFromModelCard(path: string | undefined, cwd: string, environment = 'production') {
  if (!path) return undefined;
  const file = resolve(cwd, path);
  const text = await readFile(file, 'utf8').catch(() => {
    throw badInput('baseline-model-card', path, 'cannot be read: give the model.json of the version the environment runs now');
  });
  const card = parseCardInput('baseline-model-card', text, file);
  return { label: `${environment[0]?.toUpperCase()}${environment.slice(1)} (${card.version})`, metrics: card.metrics };
}

/** Opens the model remote lazily, so the AWS SDK loads only when a remote is used. */
export function remoteOpener(cwd: string, endpoint: string | undefined) {
  return (url: string) => openRemote(url, { cwd, ...(endpoint ? { endpoint } : {}) });
}

export function parseMergeMethod(value: string | undefined) {
  if (value === undefined || value === '' || value === 'false') return undefined;
  if (!(MERGE_METHODS as readonly string[]).includes(value)) throw badInput('auto-merge', value, `must be one of ${MERGE_METHODS.join(', ')} (or false)`);
  return value.toUpperCase() as 'MERGE' | 'SQUASH' | 'REBASE';
}

export const command: Command = {
  summary: 'Commit a bump on mlops/<model>/<environment> in the GitOps repository and open or update its pull request',
  usage: [
    'pull-request --model <name> --environment <env> --manifest <path> --storage-uri <uri> [--repository owner/name|URL] [--pr-file <path>]',
    'pull-request --model <name> --environment <env> --checkout <dir> [--paths <file>]... [--repository owner/name|URL]',
  ],
  options: {
    repository: { type: 'string' },
    base: { type: 'string' },
    model: { type: 'string' },
    environment: { type: 'string' },
    manifest: { type: 'string', multiple: true },
    'storage-uri': { type: 'string' },
    image: { type: 'string', multiple: true },
    'canary-traffic-percent': { type: 'string' },
    annotation: { type: 'string', multiple: true },
    'model-version': { type: 'string' },
    'model-card': { type: 'string' },
    'baseline-model-card': { type: 'string' },
    'show-metrics': { type: 'string', multiple: true },
    remote: { type: 'string' },
    endpoint: { type: 'string' },
    commit: { type: 'string' },
    'run-url': { type: 'string' },
    data: { type: 'string' },
    checkout: { type: 'string' },
    paths: { type: 'string', multiple: true },
    title: { type: 'string' },
    labels: { type: 'string', multiple: true },
    draft: { type: 'boolean' },
    'auto-merge': { type: 'string' },
    force: { type: 'boolean' },
    'author-name': { type: 'string' },
    'author-email': { type: 'string' },
    'pr-file': { type: 'string' },
    'server-url': { type: 'string' },
  },
  help: [
    ['--repository <owner/name|URL>', 'GitOps repository (default: $GITHUB_REPOSITORY); an https:// or file:// URL for other hosts'],
    ['--base <branch>', 'Branch the PR targets (default: the repository\'s default branch)'],
    ['--model <name>, --environment <env>', 'Name the branch mlops/<model>/<environment>'],
    ['--manifest <path>', 'Manifest inside the GitOps repository to bump; repeatable'],
    ['--storage-uri <uri>', 'New storageUri; also --image, --canary-traffic-percent, --annotation, --data, as in `mlops bump`'],
    ['--model-card <model.json>', 'Published model card: version, metrics, data and source for the PR body'],
    ['--baseline-model-card <model.json>', 'Model card of what the environment runs now, for the metrics comparison'],
    ['--remote <url>', 'Model remote the versions were published to: the PR compares with the model the manifest deploys now'],
    ['--endpoint <url>', 'S3-compatible endpoint of the remote (MinIO, Ceph RGW)'],
    ['--show-metrics <name>', 'Metric to show in the PR body; repeatable (default: every metric in the model card)'],
    ['--model-version, --commit, --run-url', 'Provenance: commit trailers and annotations'],
    ['--checkout <dir>', 'Instead of bumping: commit the files changed in this checkout (only those given with --paths <file>, repeatable)'],
    ['--title, --labels, --draft', 'Pull request title (default "Deploy <model> <version> to <env>"), labels (repeatable), draft'],
    ['--auto-merge <merge|squash|rebase>', 'Enable auto-merge on the PR'],
    ['--force', 'Overwrite commits others pushed to our branch'],
    ['--author-name, --author-email', `Commit identity (default ${DEFAULT_AUTHOR.name} <${DEFAULT_AUTHOR.email}>)`],
    ['--pr-file <path>', 'Write the PR title and body to this file instead of calling GitHub'],
    ['--server-url <url>', 'GitHub server (default $GITHUB_SERVER_URL or https://github.com)'],
    ['(environment) GITHUB_TOKEN', 'Token for git and the API; never taken on the command line'],
  ],
  async run(args, ctx) {
    const v = args.values as Record<string, string | string[] | boolean | undefined>;
    const str = (name: string) => (typeof v[name] === 'string' ? (v[name] as string) : undefined);
    const list = (name: string) => (Array.isArray(v[name]) ? (v[name] as string[]) : []);
    const repository = str('repository') ?? ctx.env.GITHUB_REPOSITORY;
    if (!repository) throw badInput('repository', '', 'is required outside GitHub Actions: give owner/name or a clone URL');
    const model = str('model');
    const environment = str('environment');
    if (!model) throw badInput('model', '', 'is required: the model name, e.g. churn');
    if (!environment) throw badInput('environment', '', 'is required: e.g. staging or production');
    const checkout = str('checkout');
    if (checkout && list('manifest').length > 0) throw new UsageError('checkout: give either --checkout (commit changed files) or --manifest (bump), not both');
    const change: ChangeSource = checkout
      ? { kind: 'files', checkout: resolve(ctx.cwd, checkout), paths: list('paths') }
      : {
          kind: 'bump',
          manifests: list('manifest'),
          bump: { images: list('image'), canaryTrafficPercent: str('canary-traffic-percent'), annotations: list('annotation'), data: str('data') },
        };
    const token = ctx.env.GITHUB_TOKEN || ctx.env.GH_TOKEN || undefined;
    const serverUrl = str('server-url') ?? ctx.env.GITHUB_SERVER_URL ?? 'https://github.com';
    const prFile = str('pr-file');
    // The shared factory's Octokit (retry + throttling) also has graphql, which auto-merge uses.
    const github = prFile || !token ? undefined : ((await import('../../github/octokit.ts')).createGitHubClient({ token, logger: ctx.logger, baseUrl: ctx.env.GITHUB_API_URL }) as unknown as PullRequestClient);

    const result = await runPullRequest(
      {
        repository,
        serverUrl,
        token,
        base: str('base'),
        model,
        environment,
        change,
        modelCard: str('model-card'),
        modelVersion: str('model-version'),
        storageUri: str('storage-uri'),
        baseline: await baselineFromModelCard(str('baseline-model-card'), ctx.cwd, environment),
        showMetrics: list('show-metrics'),
        remote: str('remote'),
        commit: str('commit'),
        runUrl: str('run-url'),
        sourceRepository: ctx.env.GITHUB_REPOSITORY,
        title: str('title'),
        labels: list('labels'),
        draft: v.draft === true,
        autoMerge: parseMergeMethod(str('auto-merge')),
        force: v.force === true,
        author: { name: str('author-name') ?? DEFAULT_AUTHOR.name, email: str('author-email') ?? DEFAULT_AUTHOR.email },
        prFile,
        cwd: ctx.cwd,
      },
      { logger: ctx.logger, github, env: ctx.env, openRemote: remoteOpener(ctx.cwd, str('endpoint')) },
    );
    if (v.json) {
      const { body: _body, ...rest } = result;
      ctx.out(JSON.stringify(rest, null, 2));
    } else {
      ctx.out(`${result.operation}: ${result.branch} -> ${result.base}${result.url ? ` ${result.url}` : ''}${result.prFile ? ` (PR written to ${result.prFile})` : ''}`);
    }
    return EXIT.ok;
  },
};

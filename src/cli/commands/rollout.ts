import { badInput } from '../../errors.ts';
import type { PullRequestClient } from '../../github/pull-requests.ts';
import { runRollout, type RolloutResult } from '../../rollout/run.ts';
import { parseDuration, type ClusterMode, type OnFailure } from '../../rollout/settings.ts';
import { openRemote } from '../../storage/open-remote.ts';
import { EXIT, type Command } from '../command.ts';
import { DEFAULT_AUTHOR } from './pull-request.ts';

function choice<T extends string>(input: string, value: string | undefined, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) throw badInput(input, value, `must be one of ${choices.join(', ')}`);
  return value as T;
}

/** The `--json` document: status, reason, version and checks (the interface), then revision, timeline and the revert. */
export function rolloutJson(result: RolloutResult): string {
  const { status, reason, version, checks, revision, timeline, revert } = result;
  return JSON.stringify({ status, reason, version: version ?? null, checks, revision: revision ?? null, timeline, ...(revert ? { revert } : {}) }, null, 2);
}

export const command: Command = {
  summary: 'After the GitOps merge, wait until the cluster (or an endpoint) serves the expected model, or say why not',
  usage: [
    'rollout --namespace <ns> --name <isvc> (--storage-uri <uri> | --manifest <path>) [--application <app> --revision <sha>] [--timeout 10m]',
    'rollout --cluster none --endpoint <url> --name <model> --storage-uri <uri> [--timeout 60s]',
  ],
  options: {
    cluster: { type: 'string' },
    namespace: { type: 'string' },
    name: { type: 'string' },
    'storage-uri': { type: 'string' },
    manifest: { type: 'string' },
    application: { type: 'string' },
    'argocd-namespace': { type: 'string' },
    revision: { type: 'string' },
    endpoint: { type: 'string' },
    timeout: { type: 'string' },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    sample: { type: 'string' },
    'model-card': { type: 'string' },
    's3-endpoint': { type: 'string' },
    'on-failure': { type: 'string' },
    repository: { type: 'string' },
    base: { type: 'string' },
    model: { type: 'string' },
    environment: { type: 'string' },
    labels: { type: 'string', multiple: true },
    'author-name': { type: 'string' },
    'author-email': { type: 'string' },
    'pr-file': { type: 'string' },
    'server-url': { type: 'string' },
    'run-url': { type: 'string' },
  },
  help: [
    ['--cluster <kubernetes|none>', 'none: verify the endpoint alone, no Kubernetes (default kubernetes)'],
    ['--namespace <ns>, --name <isvc>', 'The InferenceService (its name is also the model name on the endpoint)'],
    ['--storage-uri <uri>', 'What must be served; default: the storageUri --manifest deploys'],
    ['--manifest <path>', 'The InferenceService manifest or overlay (default storage URI; what a revert edits)'],
    ['--application <app>, --argocd-namespace <ns>', 'Also require this ArgoCD Application synced at --revision with fresh health (default namespace argocd)'],
    ['--revision <sha>', 'The merged GitOps commit'],
    ['--endpoint <url>', 'Open Inference Protocol base URL to smoke-test (default: the InferenceService\'s status.url)'],
    ['--timeout <duration>', 'How long to wait, e.g. 10m, 90s (default 10m)'],
    ['--kubeconfig <file>, --context <name>', 'Cluster access (default: KUBECONFIG, ~/.kube/config, in-cluster; never localhost:8080)'],
    ['--sample <file>', 'Smoke request: {"inputs": [...]} or {"instances": [...]} (default: built from the model card\'s signature)'],
    ['--model-card <model.json>', 'The version\'s model card, when the storage URI is not readable from here'],
    ['--s3-endpoint <url>', 'S3-compatible endpoint for reading model.json from an s3:// storage URI'],
    ['--on-failure <fail|revert-pr>', 'revert-pr: open a PR on mlops/<model>/<environment>-revert restoring the previous storageUri (default fail)'],
    ['--repository, --base, --environment, --model', 'For revert-pr: the GitOps repository (owner/name or URL), its base, the environment, the model (default --name)'],
    ['--labels, --author-name, --author-email, --pr-file, --server-url, --run-url', 'For revert-pr: PR labels, commit identity, write the PR to a file instead of GitHub, server, run link'],
    ['(environment) GITHUB_TOKEN', 'Token for the revert PR; never taken on the command line'],
  ],
  async run(args, ctx) {
    const v = args.values as Record<string, string | string[] | boolean | undefined>;
    const str = (name: string) => (typeof v[name] === 'string' ? (v[name] as string) : undefined);
    const cluster = choice<ClusterMode>('cluster', str('cluster'), ['kubernetes', 'none'], 'kubernetes');
    const onFailure = choice<OnFailure>('on-failure', str('on-failure'), ['fail', 'revert-pr'], 'fail');
    const name = str('name');
    if (!name) throw badInput('name', '', 'is required: the InferenceService (or, with --cluster none, the model name on the endpoint)');
    const token = ctx.env.GITHUB_TOKEN || ctx.env.GH_TOKEN || undefined;
    const serverUrl = str('server-url') ?? ctx.env.GITHUB_SERVER_URL ?? 'https://github.com';
    const repository = str('repository') ?? ctx.env.GITHUB_REPOSITORY;
    const prFile = str('pr-file');
    let github: PullRequestClient | undefined;
    if (onFailure === 'revert-pr' && token && !prFile) {
      github = (await import('../../github/octokit.ts')).createGitHubClient({ token, logger: ctx.logger, baseUrl: ctx.env.GITHUB_API_URL }) as unknown as PullRequestClient;
    }
    const environment = str('environment');
    if (onFailure === 'revert-pr') {
      if (!repository) throw badInput('repository', '', 'is required with --on-failure revert-pr: the GitOps repository (owner/name or a clone URL)');
      if (!environment) throw badInput('environment', '', 'is required with --on-failure revert-pr: it names the branch mlops/<model>/<environment>-revert');
    }
    const s3Endpoint = str('s3-endpoint');
    const result = await runRollout(
      {
        cluster,
        namespace: str('namespace'),
        name,
        storageUri: str('storage-uri'),
        manifest: str('manifest'),
        application: str('application'),
        argocdNamespace: str('argocd-namespace') ?? 'argocd',
        revision: str('revision'),
        endpoint: str('endpoint'),
        timeoutMs: parseDuration('timeout', str('timeout') ?? '10m'),
        kubeconfig: str('kubeconfig'),
        context: str('context'),
        sample: str('sample'),
        modelCard: str('model-card'),
        onFailure,
        revert:
          onFailure === 'revert-pr'
            ? {
                repository: repository as string,
                serverUrl,
                token,
                base: str('base'),
                model: str('model') ?? name,
                environment: environment as string,
                author: { name: str('author-name') ?? DEFAULT_AUTHOR.name, email: str('author-email') ?? DEFAULT_AUTHOR.email },
                runUrl: str('run-url'),
                labels: Array.isArray(v.labels) ? (v.labels as string[]) : [],
                prFile,
              }
            : undefined,
        cwd: ctx.cwd,
      },
      { logger: ctx.logger, env: ctx.env, github, openRemote: (url) => openRemote(url, { cwd: ctx.cwd, ...(s3Endpoint ? { endpoint: s3Endpoint } : {}) }) },
    );
    if (v.json) ctx.out(rolloutJson(result));
    else {
      ctx.out(`${result.status}: ${result.reason}`);
      for (const check of result.checks) ctx.out(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
      if (result.revert) ctx.out(`revert: ${result.revert.operation}${result.revert.url ? ` ${result.revert.url}` : result.revert.branch ? ` (${result.revert.branch})` : ''}${result.revert.reason ? `: ${result.revert.reason}` : ''}`);
    }
    return result.status === 'serving' ? EXIT.ok : EXIT.no;
  },
};

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { badInput, UsageError } from '../errors.ts';
import { refuseSymlinks } from '../fs/no-symlinks.ts';
import { findOpenPullRequest, parseRepository, upsertPullRequest, type PullRequestClient, type MergeMethod } from '../github/pull-requests.ts';
import { silentLogger, type Logger } from '../log.ts';
import { bumpFile } from '../manifests/bump-file.ts';
import { productionBaseline } from '../model/production-baseline.ts';
import type { Remote } from '../storage/remote.ts';
import { bumpRequest, type BumpOptions } from '../manifests/settings.ts';
import type { Metrics } from '../metrics/parse.ts';
import { pullRequestBranch } from './branch.ts';
import { checkRemoteUrl, pushBranch, redactUrl, type BranchPushResult, type Edit, type Identity, type Operation } from './branch-push.ts';
import { applyChanges, changedFilesInCheckout, checkRelativePath, readChanges } from './edits.ts';
import { parseModelCard, type ModelCard } from '../model/card.ts';
import { pullRequestBody, pullRequestTitle } from './pr-body.ts';

/** How the change is made in the GitOps repository. */
export type ChangeSource =
  /** Run the bump core on these manifests (paths inside the GitOps repository). */
  | { kind: 'bump'; manifests: string[]; bump: BumpOptions }
  /** Commit files an earlier step already changed in a checkout of the GitOps repository (all changed files when `paths` is empty). */
  | { kind: 'files'; checkout: string; paths: string[] };

export interface PullRequestSettings {
  /** `owner/name` on `serverUrl`, or a clone URL (`https://…`, `file://…`). */
  repository: string;
  serverUrl: string;
  token?: string;
  base?: string;
  model: string;
  environment: string;
  change: ChangeSource;
  /** The published model card (model.json): version, metrics, data, source. */
  modelCard?: string;
  /** Version and storage URI when there is no model card (or to override it). */
  modelVersion?: string;
  storageUri?: string;
  /** Metrics and label of what the environment runs now, for the comparison table. */
  baseline?: { label: string; metrics: Metrics };
  /**
   * Model remote (s3://bucket/prefix or a directory) where the versions were published: when set and no
   * baseline is given, the PR compares with the model.json of the version the manifest deploys on the base.
   */
  remote?: string;
  /** Metric names the PR body shows (all when empty). */
  showMetrics?: string[];
  /** Provenance of this run (commit trailer and links). */
  commit?: string;
  runUrl?: string;
  sourceRepository?: string;
  title?: string;
  labels: string[];
  draft: boolean;
  autoMerge?: MergeMethod;
  force: boolean;
  author: Identity;
  /** Write the title and body here instead of calling GitHub. */
  prFile?: string;
  cwd: string;
}

export interface PullRequestDeps {
  logger?: Logger;
  /** Needed unless prFile is set or the repository is not on GitHub. */
  github?: PullRequestClient;
  env?: NodeJS.ProcessEnv;
  gitPath?: string;
  /** Opens `remote` (needed with the remote setting). */
  openRemote?: (url: string) => Remote;
}

/** What the branch push did (operation, branch, commits, attempts), then what became of the pull request. */
export interface PullRequestRunResult extends BranchPushResult {
  number: number | undefined;
  url: string | undefined;
  title: string;
  body: string;
  prFile: string | undefined;
}

/** `repository` input → clone URL and, when it is on GitHub, owner and repo for the API. */
export function resolveRepository(repository: string, serverUrl: string): { url: string; github?: { owner: string; repo: string } } {
  const short = parseRepository(repository);
  if (short) return { url: `${serverUrl.replace(/\/$/, '')}/${short.owner}/${short.repo}.git`, github: short };
  if (/^(https?|file):\/\//.test(repository)) {
    const url = checkRemoteUrl(repository);
    const server = new URL(serverUrl);
    const onGitHub = url.protocol !== 'file:' && url.host === server.host ? parseRepository(url.pathname.replace(/^\//, '').replace(/\.git$/, '')) : undefined;
    return onGitHub ? { url: repository, github: onGitHub } : { url: repository };
  }
  throw badInput('repository', redactUrl(repository), 'is neither owner/name nor an https:// or file:// URL');
}

type Deployed = { version: string; metrics: Metrics } | undefined;

/**
 * Builds the Edit for the change source. `diffs` collects the bump diffs of the last application; with
 * `readDeployed`, `deployed` receives the model the first manifest deploys on the base, read before the bump.
 */
async function makeEdit(change: ChangeSource, logger: Logger, diffs: string[], readDeployed?: (manifest: string) => Promise<Deployed>, deployed?: { value: Deployed }): Promise<Edit> {
  if (change.kind === 'files') {
    const paths = change.paths.length > 0 ? change.paths : await changedFilesInCheckout(change.checkout);
    if (paths.length === 0) throw badInput('paths', '', `found no changed files in ${change.checkout}: run bump there first or list the files in paths`);
    const changes = await readChanges(change.checkout, paths);
    return applyChanges(changes);
  }
  if (change.manifests.length === 0) throw badInput('manifest', '', 'is required with storage-uri: give the manifest path(s) inside the GitOps repository');
  const manifests = change.manifests.map((m) => checkRelativePath('manifest', m));
  const request = bumpRequest(change.bump);
  return async (worktree) => {
    diffs.length = 0;
    // The clone is the GitOps repository's tree: a symlinked manifest or folder would be read or written outside it.
    for (const manifest of manifests) await refuseSymlinks(worktree, manifest, 'manifest');
    if (readDeployed && deployed && manifests[0]) deployed.value = await readDeployed(join(worktree, manifests[0]));
    for (const manifest of manifests) {
      const result = await bumpFile(manifest, request, { cwd: worktree, logger });
      if (result.diff) diffs.push(result.diff);
    }
  };
}

/** The bump request with this run's version, storage URI and provenance (the data versions from the model card). */
function withProvenance(settings: PullRequestSettings, card: ModelCard | undefined, version: string): ChangeSource {
  if (settings.change.kind !== 'bump') return settings.change;
  const bump = settings.change.bump;
  return {
    ...settings.change,
    bump: {
      ...bump,
      modelVersion: version,
      storageUri: settings.storageUri || bump.storageUri,
      commit: settings.commit || bump.commit,
      runUrl: settings.runUrl || bump.runUrl,
      data: bump.data || card?.data.map((d) => `${d.path}:${d.md5}`).join(',') || undefined,
    },
  };
}

/** Reads the model a manifest deploys (its model.json on the remote), for the PR's comparison table. */
function deployedReader(remote: string, openRemote: (url: string) => Remote, logger: Logger) {
  return async (manifest: string): Promise<Deployed> => {
    // The comparison is a courtesy to reviewers: when it cannot be read, say why and carry on.
    try {
      const found = await productionBaseline({ manifest, remote, allowMissing: true }, { cwd: dirname(manifest), logger, openRemote });
      const version = /sha256-[0-9a-f]{16}/.exec(found?.source ?? '')?.[0];
      return found && version ? { version, metrics: found.metrics } : undefined;
    } catch (error) {
      logger.warning(`no metrics comparison in the PR: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  };
}

/** Commits the change on `mlops/<model>/<environment>`, pushes it and opens or updates the PR (or writes it to a file). */
export async function runPullRequest(settings: PullRequestSettings, deps: PullRequestDeps = {}): Promise<PullRequestRunResult> {
  const logger = deps.logger ?? silentLogger;
  const branch = pullRequestBranch(settings.model, settings.environment);
  const target = resolveRepository(settings.repository, settings.serverUrl);
  if (!settings.prFile && target.github && !deps.github) {
    throw badInput('token', '', 'is required to open the pull request on GitHub: pass a token that can write pull requests, or use --pr-file');
  }
  const card = settings.modelCard ? await readModelCard(resolve(settings.cwd, settings.modelCard)) : undefined;
  const version = settings.modelVersion || card?.version || /\/(sha256-[0-9a-f]{16})\/?$/.exec(settings.storageUri ?? '')?.[1];
  if (!version) throw badInput('model-version', '', 'is unknown: give model-card (the model.json from publish), model-version, or a storage-uri ending in the version');
  if (card && card.name !== settings.model) logger.warning(`model-card names model ${JSON.stringify(card.name)} but model is ${JSON.stringify(settings.model)}`);

  const diffs: string[] = [];
  const deployed: { value: Deployed } = { value: undefined };
  const readDeployed = settings.remote && deps.openRemote && !settings.baseline ? deployedReader(settings.remote, deps.openRemote, logger) : undefined;
  const edit = await makeEdit(withProvenance(settings, card, version), logger, diffs, readDeployed, deployed);
  const title = settings.title || pullRequestTitle({ model: settings.model, environment: settings.environment, version });
  const pushed = await pushBranch({
    remoteUrl: target.url,
    token: settings.token,
    base: settings.base,
    branch,
    edit,
    message: {
      title,
      trailers: { 'Model-Version': version, 'Storage-URI': settings.storageUri, 'Source-Commit': settings.commit, 'Run-URL': settings.runUrl },
    },
    author: settings.author,
    force: settings.force,
    logger,
    env: deps.env,
    gitPath: deps.gitPath,
  });

  const body = pullRequestBody({
    model: settings.model,
    environment: settings.environment,
    version,
    storageUri: settings.storageUri,
    metrics: card?.metrics,
    baseline: settings.baseline ?? (deployed.value && deployed.value.version !== version ? { label: `${capitalize(settings.environment)} (${deployed.value.version})`, metrics: deployed.value.metrics } : null),
    showMetrics: settings.showMetrics,
    provenance: {
      data: card?.data,
      repository: settings.sourceRepository ?? card?.source.repository,
      commit: settings.commit ?? card?.source.commit,
      serverUrl: settings.serverUrl,
      runUrl: settings.runUrl ?? card?.source['run-url'],
      leg: card?.source.leg,
    },
    changedFiles: pushed.changedFiles,
    diff: diffs.join('\n'),
  });
  const result: PullRequestRunResult = { ...pushed, number: undefined, url: undefined, title, body, prFile: undefined };

  if (settings.prFile) {
    result.prFile = resolve(settings.cwd, settings.prFile);
    if (pushed.baseHasChange) logger.info(`${pushed.base} already deploys ${version} to ${settings.environment}: no pull request needed`);
    else await writePullRequestFile(result.prFile, result);
    return result;
  }
  if (!target.github || !deps.github) {
    logger.notice(`${target.url} is not a GitHub repository: pushed ${branch}; open the pull request there by hand`);
    return result;
  }
  const spec = { ...target.github, head: branch, base: pushed.base };
  if (pushed.baseHasChange) {
    const open = await findOpenPullRequest(deps.github, spec);
    logger.info(`${pushed.base} already deploys ${version} to ${settings.environment}: no pull request needed${open ? ` (#${open.number} is still open)` : ''}`);
    return { ...result, number: open?.number, url: open?.html_url };
  }
  const pr = await upsertPullRequest(deps.github, { ...spec, title, body, labels: settings.labels, draft: settings.draft, autoMerge: settings.autoMerge }, logger);
  const operation: Operation = pushed.operation === 'created' || pr.operation === 'created' ? 'created' : pushed.operation === 'updated' || pr.operation === 'updated' ? 'updated' : 'unchanged';
  return { ...result, operation, number: pr.number, url: pr.url };
}

function capitalize(text: string): string {
  return `${text.slice(0, 1).toUpperCase()}${text.slice(1)}`;
}

async function readModelCard(path: string): Promise<ModelCard> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw badInput('model-card', path, 'does not exist: give the model.json that publish wrote');
    throw error;
  });
  return parseCardInput('model-card', text, path);
}

/** A model card given as input: a bad one is bad input (exit 2), named by the input. */
export function parseCardInput(input: string, text: string, path: string): ModelCard {
  try {
    return parseModelCard(text, path);
  } catch (error) {
    throw new UsageError(`${input}: ${error instanceof Error ? error.message : String(error)}: give the model.json that publish wrote`);
  }
}

/** The PR as a file: a small header (title, branch, operation, commit) and the body. Written whole or not at all. */
export async function writePullRequestFile(file: string, r: Pick<PullRequestRunResult, 'title' | 'branch' | 'base' | 'operation' | 'commit' | 'body'>): Promise<void> {
  const text = [`Title: ${r.title}`, `Branch: ${r.branch} -> ${r.base}`, `Operation: ${r.operation}`, `Commit: ${r.commit ?? ''}`, '', r.body].join('\n');
  await mkdir(dirname(file), { recursive: true });
  const temp = join(dirname(file), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, { flag: 'wx' });
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { badInput } from '../errors.ts';
import { upsertPullRequest, findOpenPullRequest, type PullRequestClient } from '../github/pull-requests.ts';
import { pullRequestBranch } from '../gitops/branch.ts';
import { pushBranch, type Identity } from '../gitops/branch-push.ts';
import { checkRelativePath } from '../gitops/edits.ts';
import { createGit } from '../gitops/git.ts';
import { resolveRepository, writePullRequestFile } from '../gitops/pull-request.ts';
import { predictorStorageUri, type InferenceService } from '../kube/kserve.ts';
import { silentLogger, type Logger } from '../log.ts';
import { bumpFile } from '../manifests/bump-file.ts';
import { parseManifest } from '../manifests/safe-yaml.ts';
import { bumpRequest } from '../manifests/settings.ts';
import { cell, code, escapeHtml, link, withMarker } from '../report/index.ts';
import { short, type Check } from './check.ts';
import { checksTable, timelineTable } from './report.ts';
import type { TimelineEntry } from './timeline.ts';

export interface RevertSettings {
  /** The GitOps repository: `owner/name` on `serverUrl`, or a clone URL. */
  repository: string;
  serverUrl: string;
  token?: string | undefined;
  base?: string | undefined;
  model: string;
  environment: string;
  /** The InferenceService manifest inside the GitOps repository whose storageUri the merge changed. */
  manifest: string;
  /** The merged GitOps commit whose rollout failed; its first parent holds the storageUri to restore. */
  revision: string;
  /** The storageUri that did not come up; the revert happens only while the base still deploys it. */
  failedStorageUri: string;
  author: Identity;
  runUrl?: string | undefined;
  labels?: string[];
  /** Write the PR's title and body here instead of calling GitHub. */
  prFile?: string | undefined;
}

export interface RevertContent {
  status: 'failed' | 'timeout';
  reason: string;
  checks: Check[];
  timeline: TimelineEntry[];
}

export interface RevertDeps {
  github?: PullRequestClient | undefined;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  gitPath?: string;
}

export interface RevertResult {
  /** `skipped`: nothing to revert (the base moved on, or the parent deployed the same); `error`: see reason. */
  operation: 'created' | 'updated' | 'unchanged' | 'skipped' | 'error';
  branch: string;
  restored?: string;
  reason?: string;
  commit?: string;
  number?: number;
  url?: string;
  prFile?: string;
}

/** `mlops/<model>/<environment>-revert`. */
export function revertBranch(model: string, environment: string): string {
  return `${pullRequestBranch(model, environment)}-revert`;
}

/** Checks the settings before any waiting, so a bad one is exit 2 now rather than after the rollout. */
export function checkRevertSettings(settings: RevertSettings, hasGitHubClient: boolean): void {
  revertBranch(settings.model, settings.environment);
  checkRelativePath('manifest', settings.manifest);
  if (!/^[0-9a-f]{7,40}$/.test(settings.revision)) throw badInput('revision', settings.revision, 'must be the merged GitOps commit (7 to 40 lowercase hex digits) to revert it');
  const target = resolveRepository(settings.repository, settings.serverUrl);
  if (target.github && !hasGitHubClient && !settings.prFile) throw badInput('token', '', 'is required to open the revert pull request on GitHub (on-failure: revert-pr): give a token that can push branches and write pull requests, or set on-failure: fail');
}

class NothingToRevert extends Error {}

/**
 * Opens (or updates) the revert PR on `mlops/<model>/<environment>-revert`: the manifest's storageUri back to
 * what the merged commit's parent deployed, with the failure reason and the timeline in the body. It changes
 * nothing when the base no longer deploys the failed storageUri (someone merged a fix or another version), or
 * when the parent deployed the same URI.
 */
export async function openRevertPullRequest(settings: RevertSettings, content: RevertContent, deps: RevertDeps = {}): Promise<RevertResult> {
  const logger = deps.logger ?? silentLogger;
  const branch = revertBranch(settings.model, settings.environment);
  const manifest = checkRelativePath('manifest', settings.manifest);
  const target = resolveRepository(settings.repository, settings.serverUrl);
  let restored: string | undefined;

  const edit = async (worktree: string) => {
    const git = createGit({ cwd: worktree, env: deps.env, gitPath: deps.gitPath });
    const parent = (await git.run(['rev-parse', '--verify', '--quiet', '--end-of-options', `${settings.revision}^1`], { allowFailure: true })).stdout.trim();
    if (!/^[0-9a-f]{40}$/.test(parent)) throw new NothingToRevert(`the merged commit ${short(settings.revision)} (or its parent) is not in the history of the base branch`);
    const before = await git.run(['show', `${parent}:${manifest}`], { allowFailure: true });
    if (before.code !== 0) throw new NothingToRevert(`${manifest} does not exist in ${short(parent)}, the parent of ${short(settings.revision)}: there is no earlier storageUri to restore`);
    const previous = storageUriIn(before.stdout, `${manifest} at ${short(parent)}`);
    const now = storageUriIn(await readFile(join(worktree, manifest), 'utf8'), manifest);
    if (now !== settings.failedStorageUri) throw new NothingToRevert(`the base no longer deploys ${settings.failedStorageUri} (it deploys ${now ?? 'no storageUri'}): nothing to revert`);
    if (!previous || previous === settings.failedStorageUri) throw new NothingToRevert(`${short(parent)} deployed ${previous ?? 'no storageUri'} too: nothing earlier to restore`);
    restored = previous;
    await bumpFile(manifest, bumpRequest({ storageUri: previous, runUrl: settings.runUrl }), { cwd: worktree, logger });
  };

  const version = (uri: string | undefined) => /\/(sha256-[0-9a-f]{16})\/?$/.exec(uri ?? '')?.[1];
  let pushed;
  try {
    pushed = await pushBranch({
      remoteUrl: target.url,
      token: settings.token,
      base: settings.base,
      branch,
      edit,
      message: {
        title: `Revert ${settings.model} in ${settings.environment}: ${version(settings.failedStorageUri) ?? settings.failedStorageUri} did not roll out`,
        body: content.reason,
        trailers: { 'Reverts-Storage-URI': settings.failedStorageUri, 'Rollout-Of': settings.revision, 'Run-URL': settings.runUrl },
      },
      author: settings.author,
      logger,
      env: deps.env,
      gitPath: deps.gitPath,
    });
  } catch (error) {
    if (error instanceof NothingToRevert) {
      logger.notice(`no revert pull request: ${error.message}`);
      return { operation: 'skipped', branch, reason: error.message };
    }
    throw error;
  }

  const title = `Revert ${settings.model} in ${settings.environment} to ${version(restored) ?? restored}`;
  const body = revertBody(settings, content, restored as string);
  const result: RevertResult = { operation: pushed.operation, branch, restored: restored as string, ...(pushed.commit ? { commit: pushed.commit } : {}) };
  if (settings.prFile) {
    await writePullRequestFile(settings.prFile, { title, branch, base: pushed.base, operation: pushed.operation, commit: pushed.commit, body });
    return { ...result, prFile: settings.prFile };
  }
  if (!target.github || !deps.github) {
    logger.notice(`${target.url} is not a GitHub repository: pushed ${branch}; open the revert pull request there by hand`);
    return result;
  }
  const spec = { ...target.github, head: branch, base: pushed.base };
  if (pushed.baseHasChange) {
    const open = await findOpenPullRequest(deps.github, spec);
    return { ...result, ...(open ? { number: open.number, url: open.html_url } : {}) };
  }
  const pr = await upsertPullRequest(deps.github, { ...spec, title, body, labels: settings.labels ?? [] }, logger);
  const operation = pushed.operation === 'created' || pr.operation === 'created' ? 'created' : pushed.operation === 'updated' || pr.operation === 'updated' ? 'updated' : 'unchanged';
  return { ...result, operation, number: pr.number, url: pr.url };
}

/** The one InferenceService's storageUri in a manifest's text. */
function storageUriIn(text: string, where: string): string | undefined {
  const services = parseManifest(text, where).values.filter((v): v is InferenceService => (v as { kind?: unknown } | null)?.kind === 'InferenceService');
  if (services.length !== 1) throw new NothingToRevert(`${where} holds ${services.length} InferenceServices: the revert needs exactly one`);
  return predictorStorageUri({ metadata: { name: '' }, ...services[0] } as InferenceService);
}

function revertBody(settings: RevertSettings, content: RevertContent, restored: string): string {
  const github = resolveRepository(settings.repository, settings.serverUrl).github;
  const revision =
    github && /^[0-9a-f]{40}$/.test(settings.revision)
      ? link(short(settings.revision), `${settings.serverUrl.replace(/\/$/, '')}/${github.owner}/${github.repo}/commit/${settings.revision}`)
      : code(short(settings.revision));
  const parts = [
    `## Revert ${escapeHtml(settings.model)} in ${escapeHtml(settings.environment)}`,
    `The rollout of ${code(settings.failedStorageUri)}, merged in ${revision}, **${content.status === 'failed' ? 'failed' : 'timed out'}**:`,
    `> ${cell(content.reason)}`,
    `This pull request restores ${code(restored)}, what the merged commit's parent deployed, in ${code(settings.manifest)}.${settings.runUrl ? ` Rollout run: ${link('logs', settings.runUrl)}.` : ''}`,
    '### Checks when it stopped',
    checksTable(content.checks),
    `<details><summary>Timeline of conditions (${content.timeline.length})</summary>\n\n${timelineTable(content.timeline)}\n\n</details>`,
    `<sub>Opened by mlops-actions rollout on branch ${code(revertBranch(settings.model, settings.environment))}. Merge it to go back; close it to keep the failed version.</sub>`,
  ];
  return withMarker('revert', `${settings.model}/${settings.environment}`, `${parts.join('\n\n')}\n`);
}

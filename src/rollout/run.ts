import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { badInput, errorMessage, UsageError } from '../errors.ts';
import type { PullRequestClient } from '../github/pull-requests.ts';
import type { KubeClient } from '../kube/client.ts';
import { silentLogger, type Logger } from '../log.ts';
import { parseModelCard, type ModelCard } from '../model/card.ts';
import { deployedStorageUri } from '../model/production-baseline.ts';
import type { Remote } from '../storage/remote.ts';
import type { RolloutOutcome } from './outcome.ts';
import { checkRevertSettings, openRevertPullRequest, type RevertResult, type RevertSettings } from './revert.ts';
import { requestFromSample, requestFromSignature, type SmokeRequest } from './sample.ts';
import { checkEndpoint, checkSettings, type RolloutSettings } from './settings.ts';
import { verifyCluster } from './verify-cluster.ts';
import { verifyEndpoint } from './verify-endpoint.ts';

export interface RolloutDeps {
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Opens the storage URI's folder to read model.json (s3:// or a directory). */
  openRemote?: (url: string) => Remote;
  /** For the revert PR on GitHub. */
  github?: PullRequestClient | undefined;
  /** Instead of loading the kubeconfig (tests may pass their own). */
  kubeClient?: KubeClient;
  fetch?: typeof fetch;
  gitPath?: string;
  now?: () => number;
  /** Stops the check before a verdict (SIGINT, SIGTERM): runRollout then throws and reverts nothing. */
  signal?: AbortSignal;
}

export interface RolloutResult extends RolloutOutcome {
  name: string;
  storageUri: string;
  /** The model version the storage URI names (or its model.json says). */
  version: string | undefined;
  revert?: RevertResult;
}

const VERSION = /(?:^|\/)(sha256-[0-9a-f]{16})\/?$/;

/** The version a storage URI or folder names (`…/models/churn/sha256-…/`). */
export function versionOf(uri: string): string | undefined {
  return VERSION.exec(uri)?.[1];
}

/**
 * `mlops rollout` and actions/rollout: after the GitOps merge, waits until what `storage-uri` names is served
 * (on the cluster, or at the endpoint alone with cluster: none), or says why not; on failure or timeout,
 * opens the revert PR unless on-failure is `fail`. Bad settings throw UsageError before anything is watched;
 * a cluster or endpoint that cannot be reached throws (exit 3) and reverts nothing.
 */
export async function runRollout(settings: RolloutSettings, deps: RolloutDeps = {}): Promise<RolloutResult> {
  const logger = deps.logger ?? silentLogger;
  const env = deps.env ?? process.env;
  checkSettings(settings);
  const endpoint = settings.endpoint ? checkEndpoint(settings.endpoint) : undefined;
  const storageUri = settings.storageUri ?? (settings.manifest ? await deployedStorageUri({ manifest: settings.manifest }, { cwd: settings.cwd }) : undefined);
  if (!storageUri) {
    throw settings.manifest
      ? badInput('manifest', settings.manifest, 'deploys no storageUri: give storage-uri')
      : badInput('storage-uri', '', 'is required: give the storage URI that must be served, or the manifest that deploys it');
  }
  const revert = settings.onFailure === 'revert-pr' ? revertSettings(settings, storageUri) : undefined;
  if (revert) checkRevertSettings(revert, Boolean(deps.github));

  const card = await modelCard(settings, storageUri, deps, logger);
  const version = versionOf(storageUri) ?? card?.version;
  if (card && version && card.version !== version) throw new Error(`the model card of ${storageUri} says version ${card.version}: the store was tampered with or the wrong card was given`);
  const request = await smokeRequest(settings, card);
  const expectation = request ? { request } : {};

  let outcome: RolloutOutcome;
  if (settings.cluster === 'none') {
    if (!version) throw badInput('storage-uri', storageUri, 'names no published version (…/sha256-<16 hex>/) and has no readable model.json: the endpoint\'s version cannot be checked');
    logger.info(`rollout: waiting up to ${settings.timeoutMs / 1000} s for ${endpoint} to serve ${settings.name} ${version}`);
    outcome = await verifyEndpoint(
      { endpoint: endpoint as string, name: settings.name, storageUri, version, timeoutMs: settings.timeoutMs, endpointExpectation: expectation, probeIntervalMs: settings.tuning?.probeIntervalMs, probeTimeoutMs: settings.tuning?.probeTimeoutMs },
      { fetch: deps.fetch, now: deps.now, signal: deps.signal },
    );
  } else {
    const client = deps.kubeClient ?? (await kubeClient(settings, env));
    logger.info(`rollout: waiting up to ${settings.timeoutMs / 1000} s for ${settings.namespace}/${settings.name} to serve ${storageUri} (API ${client.server})`);
    outcome = await verifyCluster(
      {
        namespace: settings.namespace as string,
        name: settings.name,
        storageUri,
        ...(settings.application ? { application: { namespace: settings.argocdNamespace, name: settings.application, revision: settings.revision as string } } : {}),
        ...(endpoint ? { endpoint } : {}),
        timeoutMs: settings.timeoutMs,
        endpointExpectation: { ...expectation, ...(version ? { version } : {}) },
        ...(settings.tuning ? { tuning: settings.tuning } : {}),
      },
      { client, logger, fetch: deps.fetch, now: deps.now, signal: deps.signal },
    );
  }
  const result: RolloutResult = { ...oneLine(outcome), name: settings.name, storageUri, version };
  if (outcome.status !== 'serving' && revert) {
    try {
      const status = result.status as 'failed' | 'timeout';
      result.revert = await openRevertPullRequest(revert, { status, reason: result.reason, checks: result.checks, timeline: result.timeline }, { github: deps.github, logger, env, gitPath: deps.gitPath });
    } catch (error) {
      // The verdict stands; the failed revert is said next to it.
      logger.error(`the revert pull request could not be opened: ${errorMessage(error)}`);
      result.revert = { operation: 'error', branch: '', reason: errorMessage(error) };
    }
  }
  return result;
}

/** @kubernetes/client-node loads only when a cluster is used (cluster: none never needs it). */
async function kubeClient(settings: RolloutSettings, env: NodeJS.ProcessEnv): Promise<KubeClient> {
  const [{ loadKubeConfig }, { KubeClient }] = await Promise.all([import('../kube/config.ts'), import('../kube/client.ts')]);
  return new KubeClient(loadKubeConfig({ kubeconfig: settings.kubeconfig, context: settings.context, env, cwd: settings.cwd, ...(env.HOME ? { home: env.HOME } : {}) }).config);
}

/**
 * Reasons and details carry words from the cluster and the endpoint (conditions, pod messages, response
 * bodies): one line each, without control characters, so none can start a workflow command (`::`) in a log.
 */
function oneLine(outcome: RolloutOutcome): RolloutOutcome {
  const clean = (text: string) => text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return {
    ...outcome,
    reason: clean(outcome.reason),
    checks: outcome.checks.map((c) => ({ ...c, detail: clean(c.detail) })),
    timeline: outcome.timeline.map((e) => ({ ...e, subject: clean(e.subject), change: clean(e.change) })),
  };
}

function revertSettings(settings: RolloutSettings, storageUri: string): RevertSettings {
  const r = settings.revert;
  if (!r) throw badInput('repository', '', 'is required with on-failure: revert-pr (the GitOps repository), or set on-failure: fail');
  if (!settings.manifest) throw badInput('manifest', '', 'is required with on-failure: revert-pr: the InferenceService manifest in the GitOps repository whose storageUri the revert restores');
  if (!settings.revision) throw badInput('revision', '', 'is required with on-failure: revert-pr: the merged GitOps commit whose parent holds the storageUri to restore');
  return {
    repository: r.repository,
    serverUrl: r.serverUrl,
    token: r.token,
    base: r.base,
    model: r.model,
    environment: r.environment,
    manifest: settings.manifest,
    revision: settings.revision,
    failedStorageUri: storageUri,
    author: r.author,
    runUrl: r.runUrl,
    labels: r.labels,
    prFile: r.prFile,
  };
}

/** The version's model.json: the given file (strict), else read from the storage URI (best effort). */
async function modelCard(settings: RolloutSettings, storageUri: string, deps: RolloutDeps, logger: Logger): Promise<ModelCard | undefined> {
  if (settings.modelCard) {
    const path = isAbsolute(settings.modelCard) ? settings.modelCard : resolve(settings.cwd, settings.modelCard);
    const text = await readFile(path, 'utf8').catch(() => {
      throw badInput('model-card', settings.modelCard, 'cannot be read: give the model.json of the version (the model-card output of publish)');
    });
    try {
      return parseModelCard(text, path);
    } catch (error) {
      throw new UsageError(`model-card: ${errorMessage(error)}`);
    }
  }
  if (settings.sample || !deps.openRemote) return undefined;
  if (!/^(s3|file):\/\//.test(storageUri) && /^[a-z][a-z0-9+.-]*:\/\//.test(storageUri)) return undefined;
  let remote: Remote | undefined;
  try {
    remote = deps.openRemote(storageUri.replace(/\/+$/, ''));
    const bytes = await remote.read('model.json');
    if (!bytes) {
      logger.warning(`${storageUri} has no model.json: the smoke inference is built from the endpoint's metadata`);
      return undefined;
    }
    return parseModelCard(bytes, `${storageUri.replace(/\/+$/, '')}/model.json`);
  } catch (error) {
    logger.warning(`cannot read the model card at ${storageUri} (${errorMessage(error)}): the smoke inference is built from the endpoint's metadata`);
    return undefined;
  } finally {
    await remote?.close().catch(() => {});
  }
}

async function smokeRequest(settings: RolloutSettings, card: ModelCard | undefined): Promise<SmokeRequest | undefined> {
  if (settings.sample) {
    const path = isAbsolute(settings.sample) ? settings.sample : resolve(settings.cwd, settings.sample);
    const text = await readFile(path, 'utf8').catch(() => {
      throw badInput('sample', settings.sample, 'cannot be read: give a JSON file with an infer request ({"inputs": [...]}) or a v1 body ({"instances": [...]})');
    });
    try {
      return requestFromSample(text, settings.sample, card?.signature);
    } catch (error) {
      throw new UsageError(`sample: ${errorMessage(error)}`);
    }
  }
  if (!card?.signature) return undefined;
  try {
    return requestFromSignature(card.signature, `the signature in ${card.name} ${card.version}'s model card`);
  } catch {
    return undefined;
  }
}

import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { promisify } from 'node:util';
import { UsageError, badInput, errorMessage } from '../errors.ts';
import { refuseSymlinks } from '../fs/no-symlinks.ts';
import type { Baseline } from '../gates/evaluate.ts';
import { hasControlCharacters, logValue } from '../github/escape.ts';
import type { Logger } from '../log.ts';
import { FRAMEWORKS } from '../manifests/bump.ts';
import { parseManifest } from '../manifests/safe-yaml.ts';
import type { Remote } from '../storage/remote.ts';
import { parseModelCard, type ModelCard } from './card.ts';

export interface ProductionBaselineSettings {
  /** The production InferenceService manifest, or a kustomize overlay directory (rendered with kubectl kustomize). */
  manifest: string;
  /** `InferenceService/<name>` when the manifest holds several. */
  select?: string;
  /**
   * The model remote to read model.json from (`s3://bucket/prefix`, a directory): the key is the
   * `models/<name>/<version>/` part of the storageUri. Default: the storageUri's own location.
   */
  remote?: string;
  /**
   * Treat a storageUri whose model.json does not exist as "not deployed yet" (a first rollout whose
   * manifest names a version never published there). Off by default: the gate fails closed.
   */
  allowMissing?: boolean;
}

export interface ProductionBaselineDeps {
  cwd: string;
  logger: Logger;
  openRemote: (url: string) => Remote;
  /** kubectl binary for overlays (default `kubectl` on PATH). */
  kubectl?: string;
}

const VERSION_DIR = /(?:^|\/)(models\/[^/]+\/sha256-[0-9a-f]{16})\/?$/;

/** The storageUri of the (selected) InferenceService in a manifest file or rendered overlay. */
export async function deployedStorageUri(settings: Pick<ProductionBaselineSettings, 'manifest' | 'select'>, deps: Pick<ProductionBaselineDeps, 'cwd' | 'kubectl'>): Promise<string | undefined> {
  const path = isAbsolute(settings.manifest) ? settings.manifest : resolve(deps.cwd, settings.manifest);
  let text: string;
  await refuseSymlinks(deps.cwd, path, 'manifest', settings.manifest);
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      const { stdout } = await promisify(execFile)(deps.kubectl ?? 'kubectl', ['kustomize', path], { maxBuffer: 64 << 20 }).catch((error: { stderr?: string; message: string }) => {
        throw new UsageError(`manifest: kubectl kustomize ${settings.manifest} failed: ${(error.stderr || error.message).trim().split('\n')[0]}`);
      });
      text = stdout;
    } else {
      text = await readFile(path, 'utf8');
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw badInput('manifest', settings.manifest, 'does not exist: give the production InferenceService manifest or its kustomize overlay directory');
    throw error;
  }
  const services = parseManifest(text, settings.manifest).values.filter(
    (v): v is Record<string, any> => typeof v === 'object' && v !== null && (v as Record<string, unknown>).kind === 'InferenceService',
  );
  const wanted = settings.select?.replace(/^InferenceService\//i, '');
  const chosen = wanted !== undefined ? services.filter((s) => s.metadata?.name === wanted) : services;
  if (chosen.length === 0) {
    throw badInput('manifest', settings.manifest, wanted ? `has no InferenceService named ${wanted}` : 'holds no InferenceService: point at the production manifest or overlay');
  }
  if (chosen.length > 1) {
    throw badInput('manifest', settings.manifest, `holds ${chosen.length} InferenceServices (${chosen.map((s) => logValue(String(s.metadata?.name))).join(', ')}): choose one with select`);
  }
  const predictor = chosen[0]?.spec?.predictor ?? {};
  const uri = predictor.model?.storageUri ?? FRAMEWORKS.map((f) => predictor[f]?.storageUri).find((u) => typeof u === 'string');
  return typeof uri === 'string' ? uri : undefined;
}

/** The version production serves, found through its manifest, with its model card. */
export interface DeployedVersion {
  /** The storageUri the manifest deploys. */
  storageUri: string;
  /** The remote to read the version from here, and the key prefix of the version directory in it ('' when the remote is that directory). */
  remoteUrl: string;
  prefix: string;
  /** Where model.json was read, for messages. */
  cardUrl: string;
  card: ModelCard;
}

/**
 * The version production serves and its model.json. Undefined only when nothing is deployed yet: the manifest
 * has no storageUri, or (with `allowMissing`) its model.json does not exist. Anything else that keeps the card
 * from being read (a wrong remote or prefix, a missing bucket, a refused secret, a corrupt card) throws, naming
 * the storageUri: a gate must never pass against nothing because it looked in the wrong place.
 */
export async function readDeployedVersion(settings: ProductionBaselineSettings, deps: ProductionBaselineDeps): Promise<DeployedVersion | undefined> {
  const uri = await deployedStorageUri(settings, deps);
  if (!uri) {
    deps.logger.info(`${settings.manifest}: the InferenceService has no storageUri yet`);
    return undefined;
  }
  const problem = uriProblem(uri);
  if (problem) throw badInput('manifest', settings.manifest, `deploys the storageUri ${JSON.stringify(logValue(uri))}, which ${problem}: fix the manifest`);
  const match = VERSION_DIR.exec(uri);
  let remoteUrl: string;
  let prefix: string;
  if (settings.remote) {
    if (!match) throw badInput('manifest', settings.manifest, `deploys ${uri}, which is not a published version (…/models/<name>/sha256-<16 hex>/): cannot find its model.json`);
    remoteUrl = settings.remote;
    prefix = match[1]!;
  } else {
    if (!/^(s3|file):\/\//.test(uri)) {
      throw badInput('remote', '', `is needed: production's storageUri ${uri} is not readable from here; give the remote the version was published to`);
    }
    remoteUrl = uri.replace(/\/+$/, '');
    prefix = '';
  }
  const key = prefix ? `${prefix}/model.json` : 'model.json';
  const remote = deps.openRemote(remoteUrl);
  const cardUrl = `${remote.url.replace(/\/+$/, '')}/${key}`;
  const unreadable = (why: string) =>
    new Error(`baseline: production deploys ${uri} (${settings.manifest}), but its model card ${cardUrl} ${why}; check the remote, its prefix and credentials${settings.remote ? '' : ' (or give the remote input)'}, or set allow-missing-baseline: true if that version was never published there`);
  try {
    let bytes: Uint8Array | undefined;
    try {
      bytes = await remote.read(key);
    } catch (error) {
      throw unreadable(`cannot be read (${errorMessage(error)})`);
    }
    if (!bytes) {
      if (!settings.allowMissing) throw unreadable('does not exist');
      deps.logger.notice(`${cardUrl} does not exist: allow-missing-baseline is true, so production is treated as not deployed yet`);
      return undefined;
    }
    const card = parseModelCard(bytes, cardUrl);
    const version = match?.[1]?.split('/').pop();
    const name = match?.[1]?.split('/')[1];
    if (version && card.version !== version) throw new Error(`${cardUrl}: says version ${card.version}, but it sits under ${version}: the remote was tampered with`);
    if (name && card.name !== name) throw new Error(`${cardUrl}: names model ${card.name}, but it sits under models/${name}/: the remote was tampered with`);
    return { storageUri: uri, remoteUrl, prefix, cardUrl, card };
  } finally {
    await remote.close();
  }
}

/**
 * `baseline: production` for the gate: the metrics in model.json of the version production serves
 * (see readDeployedVersion for when it is undefined and when it throws).
 */
export async function productionBaseline(settings: ProductionBaselineSettings, deps: ProductionBaselineDeps): Promise<Baseline | undefined> {
  const deployed = await readDeployedVersion(settings, deps);
  if (!deployed) return undefined;
  const { card } = deployed;
  return { source: `production ${card.name} ${card.version}`, metrics: Object.assign(Object.create(null) as Record<string, number>, card.metrics) };
}

/** Why a storageUri read from a manifest cannot be followed: control characters, or `.`/`..` segments (encoded or not). */
function uriProblem(uri: string): string | undefined {
  if (hasControlCharacters(uri)) return 'has control characters';
  let decoded: string;
  try {
    decoded = decodeURIComponent(uri.replace(/^[a-z][a-z0-9+.-]*:\/\//i, ''));
  } catch {
    return 'has an invalid percent-encoding';
  }
  if (decoded.split(/[/\\]/).some((segment) => segment === '..' || segment === '.')) return 'has a "." or ".." path segment';
  return undefined;
}

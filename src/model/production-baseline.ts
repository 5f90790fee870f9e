import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { promisify } from 'node:util';
import { UsageError, badInput } from '../errors.ts';
import type { Baseline } from '../gates/evaluate.ts';
import type { Logger } from '../log.ts';
import { FRAMEWORKS } from '../manifests/bump.ts';
import { parseManifest } from '../manifests/safe-yaml.ts';
import type { Remote } from '../storage/remote.ts';
import { parseModelCard } from './card.ts';

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
    throw badInput('manifest', settings.manifest, `holds ${chosen.length} InferenceServices (${chosen.map((s) => s.metadata?.name).join(', ')}): choose one with select`);
  }
  const predictor = chosen[0]?.spec?.predictor ?? {};
  const uri = predictor.model?.storageUri ?? FRAMEWORKS.map((f) => predictor[f]?.storageUri).find((u) => typeof u === 'string');
  return typeof uri === 'string' ? uri : undefined;
}

/**
 * `baseline: production` for the gate: the metrics in model.json of the version production serves.
 * Undefined when nothing is deployed yet (no storageUri, or no model.json there: the first rollout).
 */
export async function productionBaseline(settings: ProductionBaselineSettings, deps: ProductionBaselineDeps): Promise<Baseline | undefined> {
  const uri = await deployedStorageUri(settings, deps);
  if (!uri) {
    deps.logger.info(`${settings.manifest}: the InferenceService has no storageUri yet`);
    return undefined;
  }
  let remoteUrl: string;
  let key: string;
  if (settings.remote) {
    const match = VERSION_DIR.exec(uri);
    if (!match) throw badInput('manifest', settings.manifest, `deploys ${uri}, which is not a published version (…/models/<name>/sha256-<16 hex>/): cannot find its model.json`);
    remoteUrl = settings.remote;
    key = `${match[1]}/model.json`;
  } else {
    if (!/^(s3|file):\/\//.test(uri)) {
      throw badInput('remote', '', `is needed: production's storageUri ${uri} is not readable from here; give the remote the version was published to`);
    }
    remoteUrl = uri.replace(/\/+$/, '');
    key = 'model.json';
  }
  const remote = deps.openRemote(remoteUrl);
  try {
    const bytes = await remote.read(key);
    const where = `${remote.url}/${key}`;
    if (!bytes) {
      deps.logger.info(`${where} does not exist: treating production as not deployed yet`);
      return undefined;
    }
    const card = parseModelCard(bytes, where);
    const version = VERSION_DIR.exec(uri)?.[1]?.split('/').pop();
    if (version && card.version !== version) throw new Error(`${where}: says version ${card.version}, but it sits under ${version}: the remote was tampered with`);
    return { source: `production ${card.name} ${card.version}`, metrics: card.metrics };
  } finally {
    await remote.close();
  }
}

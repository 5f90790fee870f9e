import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pLimit from 'p-limit';
import { parse as parseYaml } from 'yaml';
import { readDvcFile } from '../data/dvc-file.ts';
import { UsageError, badInput } from '../errors.ts';
import type { Logger } from '../log.ts';
import { readMetricsFile } from '../metrics/index.ts';
import { describeJsonError } from '../metrics/yaml-error.ts';
import { objectKey, type Remote } from '../storage/remote.ts';
import { MODEL_CARD_SCHEMA, MODEL_NAME, ModelSourceSchema, parseModelCard, serializeCard, type ModelCard, type ModelSource } from './card.ts';
import { hashFile, listModelFiles, versionOf, type ModelFile } from './files.ts';
import { onnxSignature, type ModelSignature } from './signature.ts';

export interface PublishSettings {
  /** Directory of model files (as the train step wrote it). */
  modelDir: string;
  name: string;
  /** Reference statistics for drift, uploaded as profile.json. */
  profile?: string;
  /** Metrics file (JSON/YAML, DESIGN §4.1); defaults to the one run.json names. */
  metrics?: string;
  /** Params file (JSON/YAML object); defaults to run.json's params. */
  params?: string;
  /** `.dvc` files of the data the model was trained on; default: run.json's data. */
  dvcFiles?: string[];
  /** run.json written by the train action: source, params, data and metrics come from it. */
  runJson?: string;
  /** Matrix leg name, when not in run.json. */
  leg?: string;
  /** Model format; default: onnx when the directory holds an .onnx file. */
  format?: string;
  concurrency?: number;
}

export interface PublishDeps {
  remote: Remote;
  logger: Logger;
  cwd: string;
  env: NodeJS.ProcessEnv;
  now?: () => Date;
}

export interface PublishResult {
  /** `published` when this run wrote model.json, `unchanged` when the version already existed. */
  status: 'published' | 'unchanged';
  version: string;
  /** The version directory with a trailing `/`: what KServe's storageUri must say. */
  storageUri: string;
  card: ModelCard;
  /** Object keys this run created. */
  created: string[];
  /** Local files that make up the version (model files and profile.json), for the GitHub artifact. */
  files: { path: string; source: string }[];
}

const NAME = MODEL_NAME;
/** Where the source fields come from without run.json. */
const ENV_OF: Record<string, string> = { repository: 'GITHUB_REPOSITORY', commit: 'GITHUB_SHA', ref: 'GITHUB_REF', 'run-url': 'GITHUB_SERVER_URL' };

/**
 * Uploads a model directory as an immutable version `models/<name>/<version>/` (DESIGN §4.4):
 * model files, then profile.json, then model.json last, each only if absent. A version whose
 * model.json exists is complete and is left alone (no PUT at all).
 */
export async function publishModel(settings: PublishSettings, deps: PublishDeps): Promise<PublishResult> {
  if (!NAME.test(settings.name)) {
    throw badInput('name', settings.name, 'is not a model name: use 1-64 lowercase letters, digits, . _ - (starting and ending alphanumeric)');
  }
  const at = (p: string) => (isAbsolute(p) ? p : resolve(deps.cwd, p));
  const { modelFiles, files, version } = await versionFiles(settings, deps.cwd);
  const prefix = objectKey('models', settings.name, version);
  const cardKey = `${prefix}/model.json`;
  const storageUri = `${remoteUrl(deps.remote)}/${prefix}/`;
  const { remote, logger } = deps;
  const localFiles = files.map((f) => ({ path: f.path, source: f.source }));

  // Every input is read and checked before the "already published" answer, so a wrong --metrics or
  // --run-json is exit 2 on every run, not only on the first.
  const card = await buildCard(settings, deps, version, files, at);
  const existing = await remote.read(cardKey);
  if (existing) {
    const published = parseModelCard(existing, `${storageUri}model.json`);
    if (published.version !== version || versionOf(published.files) !== version) {
      throw new Error(`${storageUri}model.json: describes other files than its version name says: the remote was tampered with; publish nothing and investigate`);
    }
    logger.info(`${settings.name} ${version} is already published at ${storageUri}: nothing to upload`);
    return { status: 'unchanged', version, storageUri, card: published, created: [], files: localFiles };
  }

  const created: string[] = [];
  const put = async (file: { path: string; source: string; size: number }, contentType?: string) => {
    const key = `${prefix}/${file.path}`;
    const result = await remote.putIfAbsent(key, { path: file.source }, contentType ? { contentType } : {});
    if (result === 'created') {
      created.push(key);
      return;
    }
    // Written by an earlier, interrupted run or a concurrent one: same name, so it must be the same bytes.
    const info = await remote.head(key);
    if (info && info.size !== file.size) {
      throw new Error(`${remote.url}/${key}: exists with ${info.size} bytes, but this version's file has ${file.size}: the remote object is corrupt; remove the version and publish again`);
    }
  };
  const limit = pLimit(settings.concurrency ?? 8);
  await Promise.all(modelFiles.map((file) => limit(() => put(file))));
  const profile = files.find((f) => f.path === 'profile.json' && !modelFiles.includes(f));
  if (profile) await put(profile, 'application/json');
  // model.json last: its presence is what marks the version complete.
  const cardResult = await remote.putIfAbsent(cardKey, { data: serializeCard(card) }, { contentType: 'application/json' });
  if (cardResult === 'exists') {
    const winner = parseModelCard((await remote.read(cardKey)) ?? '', `${storageUri}model.json`);
    logger.info(`${settings.name} ${version} was published concurrently by another run: keeping its model.json`);
    return { status: 'unchanged', version, storageUri, card: winner, created, files: localFiles };
  }
  created.push(cardKey);
  logger.info(`published ${settings.name} ${version} (${files.length} files, ${created.length} objects written) at ${storageUri}`);
  return { status: 'published', version, storageUri, card, created, files: localFiles };
}

/** The files of the version (model files, then profile.json) and the version they name. */
export async function versionFiles(settings: Pick<PublishSettings, 'modelDir' | 'profile'>, cwd: string): Promise<{ modelFiles: ModelFile[]; files: ModelFile[]; version: string }> {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  const modelFiles = await listModelFiles(at(settings.modelDir));
  const files: ModelFile[] = [...modelFiles];
  if (settings.profile) {
    const source = at(settings.profile);
    const hashed = await hashFile(source).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'EISDIR') throw badInput('profile', settings.profile, 'is not a file: give the profile.json the train step wrote');
      throw error;
    });
    files.push({ path: 'profile.json', source, ...hashed });
  }
  return { modelFiles, files, version: versionOf(files) };
}

function remoteUrl(remote: Remote): string {
  return /^[a-z][a-z0-9+.-]*:\/\//.test(remote.url) ? remote.url.replace(/\/+$/, '') : pathToFileURL(remote.url).href.replace(/\/+$/, '');
}

interface RunJson {
  params?: Record<string, unknown>;
  data?: { path: string; md5: string }[];
  source?: ModelSource;
  metrics?: string;
  leg?: string;
  'working-directory'?: string;
}

async function readStructured(path: string, input: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw badInput(input, path, 'does not exist: check the path');
    throw error;
  }
  try {
    return path.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (error) {
    // Where it broke, never the text: Node's JSON message quotes the file, and the file may hold secrets.
    const where = path.endsWith('.json') ? describeJsonError(error, text).replace(/^not valid JSON/, '') : / at line \d+, column \d+/.exec((error as Error).message)?.[0] ?? '';
    throw badInput(input, path, `is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}${where}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function buildCard(settings: PublishSettings, deps: PublishDeps, version: string, files: ModelFile[], at: (p: string) => string): Promise<ModelCard> {
  let run: RunJson = {};
  if (settings.runJson) {
    const raw = await readStructured(at(settings.runJson), 'run-json');
    if (!isObject(raw)) throw badInput('run-json', settings.runJson, 'is not a JSON object: give the run.json the train action wrote');
    run = raw as RunJson;
  }

  let metrics: Record<string, number> = {};
  // run.json names its metrics file relative to the training's working directory.
  const runDir = at(typeof run['working-directory'] === 'string' ? run['working-directory'] : '.');
  const metricsFile = settings.metrics ? at(settings.metrics) : run.metrics ? resolve(runDir, run.metrics) : undefined;
  if (metricsFile) metrics = { ...(await readMetricsFile(metricsFile, settings.metrics ?? metricsFile)) };

  let params: Record<string, unknown> = isObject(run.params) ? run.params : {};
  if (settings.params) {
    const raw = await readStructured(at(settings.params), 'params');
    if (!isObject(raw)) throw badInput('params', settings.params, 'is not an object of name: value');
    params = raw;
  }

  let data = Array.isArray(run.data) ? run.data.map((d) => ({ path: String(d.path), md5: String(d.md5) })) : [];
  if (settings.dvcFiles && settings.dvcFiles.length > 0) {
    data = [];
    for (const file of settings.dvcFiles) {
      const dvc = await readDvcFile(at(file));
      // The tracked path is relative to the .dvc file's folder; record it relative to the working directory.
      const tracked = join(dirname(file), dvc.out.path).split('\\').join('/');
      data.push({ path: tracked, md5: dvc.out.md5 });
    }
  }

  const fromRun = isObject(run.source);
  const leg = settings.leg ?? (fromRun ? (run.source as ModelSource).leg : undefined) ?? run.leg;
  const checked = ModelSourceSchema.safeParse({ ...(fromRun ? run.source : sourceFromEnv(deps.env)), ...(leg !== undefined && { leg }) });
  if (!checked.success) {
    // The card's provenance reaches PR bodies, commit trailers and annotations: hold it to its shape here.
    const issue = checked.error.issues[0]!;
    const field = String(issue.path[0]);
    const problem = `source.${field} (${issue.message})`;
    if (field === 'leg' && settings.leg !== undefined) throw badInput('leg', settings.leg, `is not a valid ${problem}: name the leg with printable characters`);
    if (fromRun) throw badInput('run-json', settings.runJson, `has an invalid ${problem}: write it with the train action`);
    throw new UsageError(`${ENV_OF[field] ?? 'leg'}: gives an invalid ${problem}: run publish in GitHub Actions or set the variable to a valid value`);
  }
  const source: ModelSource = checked.data;

  const onnxFiles = files.filter((f) => f.path.endsWith('.onnx'));
  const format = settings.format ?? (onnxFiles.length > 0 ? 'onnx' : extensionOf(files));
  let signature: ModelSignature | undefined;
  if (onnxFiles.length === 1) {
    const file = onnxFiles[0] as ModelFile;
    try {
      signature = onnxSignature(await readFile(file.source));
    } catch (error) {
      throw new UsageError(`model-dir: ${file.path} is not a readable ONNX model (${(error as Error).message}): export it again`);
    }
  } else if (onnxFiles.length > 1) {
    deps.logger.warning(`model-dir holds ${onnxFiles.length} .onnx files: the model card records no signature`);
  }

  const card: ModelCard = {
    schema: MODEL_CARD_SCHEMA,
    name: settings.name,
    version,
    format,
    files: files.map(({ path, sha256, size }) => ({ path, sha256, size })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    metrics,
    params,
    data,
    source,
    created: (deps.now ?? (() => new Date()))().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  if (signature) card.signature = signature;
  return card;
}

function extensionOf(files: ModelFile[]): string {
  const main = files.find((f) => !f.path.includes('/')) ?? files[0];
  const name = basename(main?.path ?? '');
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1) : 'unknown';
}

export function sourceFromEnv(env: NodeJS.ProcessEnv): ModelSource {
  const source: ModelSource = {};
  if (env.GITHUB_REPOSITORY) source.repository = env.GITHUB_REPOSITORY;
  if (env.GITHUB_SHA) source.commit = env.GITHUB_SHA;
  if (env.GITHUB_REF) source.ref = env.GITHUB_REF;
  if (env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID) {
    source['run-url'] = `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`;
  }
  return source;
}

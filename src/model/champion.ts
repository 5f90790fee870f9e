import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { evaluateModel, type EvaluateSettings } from '../evaluate/evaluate.ts';
import { ONNXRUNTIME_VERSION } from '../evaluate/onnxruntime-loader.ts';
import { evaluateSettings } from '../evaluate/settings.ts';
import type { Task } from '../evaluate/signature.ts';
import { badInput, isUsageError, UsageError } from '../errors.ts';
import type { Baseline, ProductionOrigin } from '../gates/evaluate.ts';
import type { Metrics } from '../metrics/parse.ts';
import { downloadModelVersion, onnxFile, type DownloadDeps } from './download.ts';
import { readDeployedVersion, type DeployedVersion, type ProductionBaselineDeps, type ProductionBaselineSettings } from './production-baseline.ts';

/**
 * Champion vs challenger on the same rows (DESIGN §4.2): with a holdout, `baseline: production` downloads the
 * version production serves (every file checked against its model.json), scores it with the evaluate settings the
 * candidates were scored with, and compares with those numbers instead of the ones stored in its card, which were
 * measured on the holdout of its own day. Metrics only the card has (training time, say) still come from the card.
 */

/** How the candidates were evaluated: `mlops evaluate`'s options, which the gate takes under the same names. */
export interface ChampionScoring {
  /** The holdout file the candidates were scored on (relative to cwd). */
  holdout: string;
  label: string;
  task: Task;
  features?: string[];
  latencySamples: number;
  batchSize: number;
  throughputMs: number;
  /**
   * A folder keeping the champion's scores per (version, holdout md5, settings) between gate runs on one machine,
   * e.g. matrix legs gated one by one. Only trusted steps may write there: an entry is believed as it stands.
   */
  cacheDir?: string;
}

export interface ChampionDeps extends ProductionBaselineDeps {
  /** Scores a model (default: evaluateModel with onnxruntime). */
  evaluate?: (settings: EvaluateSettings) => Promise<{ metrics: Metrics; rows: number }>;
  /** Folder for the temporary copy of the champion (default: the system temporary folder). */
  tempDir?: string;
}

/** The evaluate options as the gate takes them (the same names as `mlops evaluate` and the evaluate action). */
export interface RawChampionOptions {
  holdout?: string;
  label?: string;
  task?: string;
  features?: string[];
  'latency-samples'?: string;
  'batch-size'?: string;
  'throughput-ms'?: string;
  'champion-cache'?: string;
}

/** Validates the options with evaluate's own rules; undefined when no holdout is given (compare with the card). */
export function championScoring(raw: RawChampionOptions): ChampionScoring | undefined {
  const holdout = raw.holdout?.trim();
  if (!holdout) {
    const stray = (['label', 'task', 'features', 'latency-samples', 'batch-size', 'throughput-ms'] as const).find((k) => raw[k] !== undefined && String(raw[k]).trim() !== '');
    if (stray) throw badInput(stray, raw[stray], 'only applies with holdout (re-scoring production): give holdout too, or drop it');
    return undefined;
  }
  const s = evaluateSettings({ ...raw, model: 'production', data: holdout });
  const cacheDir = raw['champion-cache']?.trim();
  return {
    holdout,
    label: s.label,
    task: s.task,
    ...(s.features && { features: s.features }),
    latencySamples: s.latencySamples,
    batchSize: s.batchSize,
    throughputMs: s.throughputMs,
    ...(cacheDir && { cacheDir }),
  };
}

const CACHE_SCHEMA = 'mlops-actions/champion-scores/v1';
const CacheEntry = z.object({
  schema: z.literal(CACHE_SCHEMA),
  key: z.string(),
  rows: z.number().int().positive(),
  metrics: z.record(z.string(), z.number().refine(Number.isFinite)),
});

/**
 * The production baseline: the deployed version's stored metrics, or, given `rescore`, its scores on that holdout.
 * Undefined when nothing is deployed yet; fails closed otherwise (see readDeployedVersion).
 */
export async function productionChampion(settings: ProductionBaselineSettings & { rescore?: ChampionScoring }, deps: ChampionDeps): Promise<(Baseline & { production: ProductionOrigin }) | undefined> {
  const deployed = await readDeployedVersion(settings, deps);
  if (!deployed) return undefined;
  const { card } = deployed;
  const stored = Object.assign(Object.create(null) as Record<string, number>, card.metrics);
  const label = `production ${card.name} ${card.version}`;
  if (!settings.rescore) {
    return {
      source: `${label}, stored metrics from its model card`,
      metrics: stored,
      production: { name: card.name, version: card.version, storageUri: deployed.storageUri, fromCard: Object.keys(stored) },
    };
  }
  const scored = await scoreChampion(deployed, settings.rescore, deps);
  const metrics = Object.assign(Object.create(null) as Record<string, number>, stored, scored.metrics);
  const fromCard = Object.keys(stored).filter((name) => !Object.hasOwn(scored.metrics, name));
  const holdout = settings.rescore.holdout;
  return {
    source: `${label}, re-scored on ${holdout} (${scored.rows} rows)`,
    metrics,
    production: { name: card.name, version: card.version, storageUri: deployed.storageUri, rescored: { holdout, rows: scored.rows, md5: scored.md5, cached: scored.cached }, fromCard },
  };
}

interface Scored {
  metrics: Metrics;
  rows: number;
  md5: string;
  cached: boolean;
}

async function scoreChampion(deployed: DeployedVersion, scoring: ChampionScoring, deps: ChampionDeps): Promise<Scored> {
  const { card } = deployed;
  const holdoutPath = resolve(deps.cwd, scoring.holdout);
  const md5 = await md5File(holdoutPath).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'EISDIR') throw badInput('holdout', scoring.holdout, 'is not a file: give the holdout the candidates were evaluated on (CSV or JSON Lines)');
    throw error;
  });
  const key = cacheKey(card.version, md5, scoring);
  const entry = scoring.cacheDir ? join(resolve(deps.cwd, scoring.cacheDir), `${key}.json`) : undefined;
  const hit = entry ? await readCache(entry, key) : undefined;
  if (hit) {
    deps.logger.info(`production ${card.name} ${card.version}: scores on ${scoring.holdout} (md5 ${md5}) from the champion cache`);
    return { ...hit, md5, cached: true };
  }

  const where = deployed.prefix ? `${deployed.remoteUrl.replace(/\/+$/, '')}/${deployed.prefix}/` : `${deployed.remoteUrl.replace(/\/+$/, '')}/`;
  const version = await downloadModelVersion(where, deps as DownloadDeps, deps.tempDir ? { parent: deps.tempDir } : {});
  try {
    if (version.card.version !== card.version) throw new Error(`${where}: now holds ${version.card.version}, not the ${card.version} production deploys`);
    const model = onnxFile(version);
    if (!model) throw badInput('holdout', scoring.holdout, `cannot be used: production ${card.name} ${card.version} has no .onnx file to score; drop holdout to compare with its stored metrics`);
    const settings: EvaluateSettings = {
      model,
      data: holdoutPath,
      label: scoring.label,
      task: scoring.task,
      ...(scoring.features && { features: scoring.features }),
      out: join(version.dir, '.champion-metrics.json'),
      latencySamples: scoring.latencySamples,
      batchSize: scoring.batchSize,
      throughputMs: scoring.throughputMs,
    };
    const evaluate = deps.evaluate ?? ((s: EvaluateSettings) => evaluateModel(s, { logger: deps.logger }));
    let result: { metrics: Metrics; rows: number };
    try {
      result = await evaluate(settings);
    } catch (error) {
      if (!isUsageError(error)) throw error;
      throw new UsageError(`holdout: re-scoring production ${card.name} ${card.version} on ${scoring.holdout}: ${error.message.replace(/^data: /, '')}`);
    }
    deps.logger.info(`re-scored production ${card.name} ${card.version} on ${scoring.holdout} (${result.rows} rows, md5 ${md5})`);
    if (entry) await writeCache(entry, { schema: CACHE_SCHEMA, key, rows: result.rows, metrics: { ...result.metrics } });
    return { metrics: result.metrics, rows: result.rows, md5, cached: false };
  } finally {
    await version.remove();
  }
}

/** (version, holdout md5, every evaluate setting that changes a number, the scorer's version) → a file name. */
export function cacheKey(version: string, holdoutMd5: string, s: Omit<ChampionScoring, 'holdout' | 'cacheDir'>): string {
  const settings = JSON.stringify({ label: s.label, task: s.task, features: s.features ?? null, latencySamples: s.latencySamples, batchSize: s.batchSize, throughputMs: s.throughputMs, onnxruntime: ONNXRUNTIME_VERSION });
  return `${version}-${holdoutMd5}-${createHash('sha256').update(settings).digest('hex').slice(0, 16)}`;
}

async function readCache(file: string, key: string): Promise<{ metrics: Metrics; rows: number } | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = CacheEntry.safeParse(JSON.parse(text));
    return parsed.success && parsed.data.key === key ? { metrics: Object.assign(Object.create(null) as Record<string, number>, parsed.data.metrics), rows: parsed.data.rows } : undefined;
  } catch {
    return undefined;
  }
}

async function writeCache(file: string, entry: z.infer<typeof CacheEntry>): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(entry, null, 2)}\n`);
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
}

async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(path), async function* (chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) hash.update(chunk);
    yield* [];
  });
  return hash.digest('hex');
}

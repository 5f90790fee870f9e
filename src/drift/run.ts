/**
 * One drift check, end to end: the reference, the rules, the window read from every source, the decision.
 * Shared by `mlops drift` and the drift action; GitHub (issue, dispatch) is the caller's next step.
 */
import { badInput } from '../errors.ts';
import type { Logger } from '../log.ts';
import { openRemote as defaultOpenRemote } from '../storage/open-remote.ts';
import type { Remote } from '../storage/remote.ts';
import { checkDrift, type ColumnResult, type CheckResult } from './check.ts';
import { FORMATS, readCurrent, type Format, type RecordStats, type SourceSummary } from './read/index.ts';
import { loadReference, type Reference } from './reference.ts';
import { loadDriftRules, type DriftRules } from './rules.ts';
import { logSafe } from './write-file.ts';

export interface DriftSettings {
  profile: string;
  modelCard?: string;
  current: string[];
  format: Format;
  since?: number;
  until?: number;
  rules?: string;
  endpoint?: string;
  cwd: string;
}

export interface RawDriftOptions {
  profile?: string;
  'model-card'?: string;
  current?: string[];
  format?: string;
  since?: string;
  until?: string;
  /** The last complete window of this length (1h, 24h, 7d), aligned to UTC; instead of since/until. */
  window?: string;
  rules?: string;
  endpoint?: string;
}

export interface WindowInfo {
  since: string | null;
  until: string | null;
  /** The earliest and latest record time seen (for tables, file times). */
  first: string | null;
  last: string | null;
  /** What a retrain dispatch is idempotent on: since..until when given, else the records' own range. */
  key: string;
}

/** The `--json` result (see the drift issue's interface), plus where it came from. */
export interface DriftResult extends Omit<CheckResult, 'features' | 'minRows'> {
  features: ColumnResult[];
  model: string | null;
  version: string | null;
  profile: string;
  window: WindowInfo;
  records: RecordStats;
  sources: SourceSummary[];
  'min-rows': number;
}

export interface DriftDeps {
  logger: Logger;
  openRemote?(url: string): Remote;
}

function isoTime(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = text.trim();
  const t = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(/T/.test(value) && !/(Z|[+-]\d{2}:?\d{2})$/.test(value) ? `${value}Z` : value) : Number.NaN;
  if (Number.isNaN(t)) throw badInput(name, text, 'is not an ISO 8601 time: give e.g. 2026-11-22T10:00:00Z (UTC when no offset is given)');
  return t;
}

/** `90m`, `1h`, `24h`, `7d` → milliseconds. */
export function windowLength(text: string): number {
  const m = /^(\d+)\s*(m|h|d)$/.exec(text.trim());
  const ms = m ? Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'] : 0;
  if (!(ms > 0) || ms > 366 * 86_400_000) throw badInput('window', text, 'must be a duration such as 1h, 24h or 7d (the last complete one, aligned to UTC)');
  return ms;
}

export function driftSettings(raw: RawDriftOptions, cwd: string, now = Date.now()): DriftSettings {
  if (!raw.profile?.trim()) throw badInput('profile', raw.profile ?? '', 'is required: a profile.json, or the storage URI of a published version');
  const current = (raw.current ?? []).map((c) => c.trim()).filter(Boolean);
  if (current.length === 0) throw badInput('current', '', 'is required: a CSV or JSON Lines file, a folder of them, or an s3:// prefix of payload logs');
  const format = (raw.format?.trim() || 'auto') as Format;
  if (!(FORMATS as readonly string[]).includes(format)) throw badInput('format', raw.format, `must be one of ${FORMATS.join(', ')}`);
  let since = isoTime('since', raw.since);
  let until = isoTime('until', raw.until);
  if (raw.window?.trim()) {
    if (since !== undefined || until !== undefined) throw badInput('window', raw.window, 'cannot be combined with since/until: give one or the other');
    const length = windowLength(raw.window);
    until = Math.floor(now / length) * length;
    since = until - length;
  }
  if (since !== undefined && until !== undefined && since >= until) throw badInput('until', raw.until, `must be after since (${raw.since})`);
  return {
    profile: raw.profile.trim(),
    ...(raw['model-card']?.trim() && { modelCard: raw['model-card'].trim() }),
    current,
    format,
    ...(since !== undefined && { since }),
    ...(until !== undefined && { until }),
    ...(raw.rules?.trim() && { rules: raw.rules }),
    ...(raw.endpoint?.trim() && { endpoint: raw.endpoint.trim() }),
    cwd,
  };
}

const iso = (t: number | undefined) => (t === undefined || !Number.isFinite(t) ? null : new Date(t).toISOString());

export interface DriftRun {
  result: DriftResult;
  reference: Reference;
  rules: DriftRules;
}

export async function runDrift(settings: DriftSettings, deps: DriftDeps): Promise<DriftRun> {
  const open = deps.openRemote ?? ((url: string) => defaultOpenRemote(url, { cwd: settings.cwd, ...(settings.endpoint && { endpoint: settings.endpoint }) }));
  const reference = await loadReference(settings.profile, settings.modelCard, { cwd: settings.cwd, openRemote: open });
  const rules = await loadDriftRules(settings.rules, settings.cwd);
  const window = { ...(settings.since !== undefined && { since: settings.since }), ...(settings.until !== undefined && { until: settings.until }) };
  const read = await readCurrent(
    { current: settings.current, format: settings.format, window, cwd: settings.cwd, ...(settings.endpoint && { endpoint: settings.endpoint }) },
    reference.profile,
    reference.card?.signature,
    { logger: deps.logger },
  );
  for (const example of read.records.examples) deps.logger.warning(logSafe(`malformed record skipped: ${example.where}${example.id ? ` (id ${JSON.stringify(example.id)})` : ''}: ${example.reason}`));
  for (const [column, n] of read.data.badCells) deps.logger.warning(logSafe(`${n} value(s) of ${JSON.stringify(column)} are not numbers: counted as missing`));
  const check = checkDrift(reference.profile, read.data, rules);
  const first = iso(read.data.first);
  const last = iso(read.data.last);
  const since = iso(settings.since);
  const until = iso(settings.until);
  const { minRows, ...rest } = check;
  const result: DriftResult = {
    ...rest,
    'min-rows': minRows,
    model: reference.card?.name ?? null,
    version: reference.card?.version ?? null,
    profile: reference.source,
    window: { since, until, first, last, key: `${since ?? first ?? 'start'}..${until ?? last ?? 'end'}` },
    records: read.records,
    sources: read.sources,
  };
  return { result, reference, rules };
}

/** The machine-readable result: the issue's shape, without the report's histograms. */
export function driftJson(result: DriftResult): Record<string, unknown> {
  return { ...result, features: result.features.map(({ histogram, ...f }) => (void histogram, f)) };
}

import type { Metrics } from '../metrics/parse.ts';
import { formatNumber } from '../metrics/format.ts';
import { delta } from './gate-report.ts';
import { cell, code, codeCell, escapeHtml, link, table } from './markdown.ts';

/**
 * The metrics of a model against a baseline (e.g. production) as a table: every metric of either side,
 * Δ with arrows. For PR bodies and promotion summaries, where no rules decide a verdict.
 */
export function metricsComparisonTable(current: Metrics, baseline: Metrics | null, labels = { current: 'This model', baseline: 'Production' }): string {
  const names = [...new Set([...Object.keys(current), ...Object.keys(baseline ?? {})])].sort();
  const rows = names.map((name) => {
    const value = current[name];
    const base = baseline?.[name];
    const d = value !== undefined && base !== undefined ? value - base : null;
    const pct = d === null || base === undefined || base === 0 ? null : (d / Math.abs(base)) * 100;
    return [codeCell(name), base === undefined ? '—' : formatNumber(base), value === undefined ? '—' : formatNumber(value), delta({ delta: d, deltaPercent: pct })];
  });
  return table(['Metric', cell(labels.baseline), cell(labels.current), 'Δ'], rows, ['left', 'right', 'right', 'right']);
}

export interface Provenance {
  model?: string;
  version?: string;
  storageUri?: string;
  /** Data versions: DVC paths and their md5 (`….dir` for folders). */
  data?: ReadonlyArray<{ path: string; md5: string }>;
  repository?: string;
  commit?: string;
  /** `https://github.com` or a GHES URL, to link the commit. */
  serverUrl?: string;
  runUrl?: string;
  leg?: string;
}

/** A bullet list of where a model came from: version, storage URI, data, commit, run. */
export function provenanceList(p: Provenance): string {
  const lines: string[] = [];
  if (p.model) lines.push(`- **Model:** ${code(p.model)}`);
  if (p.version) lines.push(`- **Version:** ${code(p.version)}`);
  if (p.storageUri) lines.push(`- **Storage URI:** ${code(p.storageUri)}`);
  if (p.leg) lines.push(`- **Leg:** ${code(p.leg)}`);
  for (const d of p.data ?? []) lines.push(`- **Data:** ${code(d.path)} ${code(d.md5)}`);
  if (p.commit) {
    const url = p.repository && /^[\w.-]+\/[\w.-]+$/.test(p.repository) && p.serverUrl ? `${p.serverUrl.replace(/\/$/, '')}/${p.repository}/commit/${p.commit}` : undefined;
    lines.push(`- **Commit:** ${/^[0-9a-f]{40}$/.test(p.commit) ? link(p.commit.slice(0, 12), url) : code(p.commit)}${p.repository ? ` in ${code(p.repository)}` : ''}`);
  }
  if (p.runUrl) lines.push(`- **Run:** ${runLink(p.runUrl, p.serverUrl)}`);
  return lines.join('\n');
}

/**
 * A run URL from a model card is data: it becomes a link only when it is a workflow run on the GitHub server
 * (`<server>/<owner>/<repo>/actions/runs/<id>`), else it is shown as code, so a card cannot plant a link.
 */
function runLink(url: string, serverUrl: string | undefined): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return code(url);
  }
  const sameServer = serverUrl === undefined || (URL.canParse(serverUrl) && new URL(serverUrl).origin === parsed.origin);
  const isRun = /^https?:$/.test(parsed.protocol) && !parsed.username && !parsed.password && !parsed.search && !parsed.hash && /^\/[\w.-]+\/[\w.-]+\/actions\/runs\/\d+(\/attempts\/\d+)?\/?$/.test(parsed.pathname);
  return isRun && sameServer ? link(url, url) : code(url);
}

export interface ModelSummary extends Provenance {
  title: string;
  metrics: Metrics;
  baseline: Metrics | null;
  baselineLabel?: string;
}

/** A PR body or summary: title, metrics vs baseline, provenance. Add a marker with withMarker() if it must be found again. */
export function renderModelSummary(s: ModelSummary): string {
  const parts = [`### ${escapeHtml(s.title)}`];
  parts.push(
    Object.keys(s.metrics).length > 0 || s.baseline
      ? metricsComparisonTable(s.metrics, s.baseline, { current: 'This model', baseline: s.baselineLabel ?? 'Production' })
      : '_No metrics recorded._',
  );
  if (!s.baseline) parts.push('_Nothing in production yet to compare with._');
  const prov = provenanceList(s);
  if (prov) parts.push(prov);
  return `${parts.join('\n\n')}\n`;
}

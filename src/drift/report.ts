/**
 * The drift report in Markdown (job summary, the sticky issue, `mlops drift` without --json): the verdict,
 * a table of every column, what could not be tested and why, and for each drifted column a Mermaid chart of
 * its reference and current distribution (GitHub renders Mermaid with no image host).
 */
import { cell, code, escapeHtml, table } from '../report/markdown.ts';
import type { ColumnResult } from './check.ts';
import type { DriftResult } from './run.ts';

const ICON = { drifted: '🔴', warn: '🟠', ok: '🟢', insufficient: '⚪' } as const;
const MAX_CHARTS = 8;

export function formatStat(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs < 1e-4 || abs >= 1e6) return n.toExponential(2);
  return String(Number(n.toPrecision(4)));
}

function verdictOf(f: ColumnResult): string {
  if (f.insufficient) return `${ICON.insufficient} insufficient`;
  if (!f.drifted) return `${ICON.ok} ok`;
  return f.severity === 'warn' ? `${ICON.warn} drift (warn)` : `${ICON.drifted} drift`;
}

function thresholdOf(f: ColumnResult, correction: string): string {
  if (f.test === 'ks' || f.test === 'chi2') return `p < ${formatStat(f.threshold)}${correction === 'bonferroni' ? ' (Bonferroni)' : ''}`;
  return `> ${formatStat(f.threshold)}`;
}

function heading(r: DriftResult): string {
  const who = r.model ? `${escapeHtml(r.model)}: ` : '';
  if (r.insufficient) return `### ${ICON.insufficient} ${who}insufficient data to judge drift`;
  if (r.drifted) return `### ${ICON.drifted} ${who}dataset drift — ${r.dataset.drifted} of ${r.dataset.tested} columns drifted`;
  const some = r.features.filter((f) => f.drifted).length;
  return `### ${ICON.ok} ${who}no dataset drift${some > 0 ? ` (${some} column${some === 1 ? '' : 's'} drifted, below the drift share)` : ''}`;
}

function context(r: DriftResult): string {
  const window = r.window.since || r.window.until ? `window ${code(`${r.window.since ?? '…'} → ${r.window.until ?? '…'}`)}` : r.window.first ? `records ${code(`${r.window.first} → ${r.window.last}`)}` : 'the whole input';
  const share = `${(r.dataset.share * 100).toFixed(1)} % of ${r.dataset.tested} tested columns drifted (dataset drift at ${(r.dataset['drift-share'] * 100).toFixed(0)} %)`;
  const version = r.version ? `, version ${code(r.version)}` : '';
  return `${r.rows} rows in ${window}; ${share}. Reference ${code(r.profile)}${version}.`;
}

function columnsTable(r: DriftResult): string {
  const rows = r.features.map((f) => [
    `${f.role === 'output' ? '↳ ' : ''}${cell(f.name)}`,
    f.kind,
    f.test,
    formatStat(f.statistic),
    f.p_value === undefined ? '' : formatStat(f.p_value),
    thresholdOf(f, r.correction),
    String(f.rows),
    verdictOf(f),
  ]);
  return table(['Column', 'Kind', 'Test', 'Statistic', 'p-value', 'Drift when', 'Rows', 'Verdict'], rows, ['left', 'left', 'left', 'right', 'right', 'left', 'right', 'left']);
}

function notes(r: DriftResult): string[] {
  const out: string[] = [];
  const short = r.features.filter((f) => f.insufficient);
  if (short.length > 0) out.push(`Not tested: ${short.map((f) => `${code(f.name)} (${escapeHtml(f.reason ?? 'insufficient')})`).join('; ')}.`);
  for (const f of r.features.filter((x) => (x.new_categories?.length ?? 0) > 0)) {
    const list = f.new_categories!.slice(0, 10).map((c) => code(c)).join(', ');
    out.push(`New categories in ${code(f.name)}: ${list}${f.new_categories!.length > 10 ? ` and ${f.new_categories!.length - 10} more` : ''} (${formatStat((f.statistics.new_share ?? 0) * 100)} % of its current values).`);
  }
  const rec = r.records;
  if (rec.records > 0 && (rec.requests > 0 || rec.responses > 0 || rec.malformed > 0)) {
    const parts = [`${rec.requests} requests`, `${rec.responses} responses`];
    if (rec.unpairedRequests) parts.push(`${rec.unpairedRequests} requests without a response`);
    if (rec.unpairedResponses) parts.push(`${rec.unpairedResponses} responses without a request`);
    if (rec.outside) parts.push(`${rec.outside} outside the window`);
    if (rec.malformed) parts.push(`${rec.malformed} malformed, skipped`);
    out.push(`Payload records: ${parts.join(', ')}.`);
  }
  return out;
}

/** Mermaid strings cannot hold a double quote, a backtick or a line break. */
function quote(text: string, max = 40): string {
  const clean = text.replace(/["\r\n`\\]/g, "'").replace(/</g, '‹').replace(/>/g, '›').replace(/&/g, '+');
  return `"${clean.length > max ? `${clean.slice(0, max - 1)}…` : clean}"`;
}

/** A Mermaid xychart: reference shares as bars, current shares as a line, per bin or category. */
export function histogramChart(f: ColumnResult): string {
  const h = f.histogram;
  const pct = (xs: number[]) => xs.map((x) => Number((x * 100).toFixed(2)));
  const ref = pct(h.reference);
  const cur = pct(h.current);
  const top = Math.max(1, ...ref, ...cur);
  const max = Math.ceil((top * 1.1) / 5) * 5;
  return [
    '```mermaid',
    'xychart-beta',
    `  title "${quote(f.name).slice(1, -1)}: reference (bars) vs current (line), % of rows"`,
    `  x-axis [${h.labels.map((label) => quote(label)).join(', ')}]`,
    `  y-axis "%" 0 --> ${max}`,
    `  bar [${ref.join(', ')}]`,
    `  line [${cur.join(', ')}]`,
    '```',
  ].join('\n');
}

export function renderDriftReport(r: DriftResult, options: { runUrl?: string; extra?: string[] } = {}): string {
  const parts = [heading(r), context(r), columnsTable(r), ...notes(r)];
  const drifted = r.features.filter((f) => f.drifted);
  for (const f of drifted.slice(0, MAX_CHARTS)) parts.push(histogramChart(f));
  if (drifted.length > MAX_CHARTS) parts.push(`(${drifted.length - MAX_CHARTS} more drifted columns are in the table.)`);
  parts.push(...(options.extra ?? []));
  if (options.runUrl && /^https?:\/\//.test(options.runUrl)) parts.push(`<sub>[Workflow run](${options.runUrl}) · mlops-actions drift</sub>`);
  return `${parts.join('\n\n')}\n`;
}

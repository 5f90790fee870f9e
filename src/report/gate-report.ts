import type { GateResult, LegResult, MetricCheck, Verdict } from '../gates/evaluate.ts';
import type { GateRules, MetricRule } from '../gates/rules.ts';
import { formatNumber, formatPercent, formatSigned } from '../metrics/format.ts';
import { mermaidBarChart } from './chart.ts';
import { code, codeCell, escapeHtml, table } from './markdown.ts';
import { paramsTable, type LegParams } from './params-table.ts';

export const VERDICT_ICON: Record<Verdict, string> = { pass: '✅', warn: '⚠️', fail: '❌' };

export interface GateReportOptions {
  /** The rules, to show each metric's limits; optional. */
  rules?: GateRules;
  /** Heading text before the verdict, e.g. the model name. */
  title?: string;
  /** Link to the workflow run, shown at the end. */
  runUrl?: string;
  /** Each leg's hyperparameters (readLegParams), for a params-vs-metric table. */
  legParams?: LegParams;
}

/** The gate's Markdown report: verdict line, metrics table, failures, and a chart when there are several legs. */
export function renderGateReport(result: GateResult, options: GateReportOptions = {}): string {
  const parts = [heading(result, options.title), context(result), metricsTable(result, options.rules)];
  const params = options.legParams && paramsTable(result, options.legParams);
  if (params) parts.push(params);
  const problems = problemList(result);
  if (problems) parts.push(problems);
  const chart = legChart(result);
  if (chart) parts.push(chart);
  if (options.runUrl) parts.push(`<sub>[Workflow run](${options.runUrl}) · mlops-actions gate</sub>`);
  return `${parts.join('\n\n')}\n`;
}

function heading(result: GateResult, title: string | undefined): string {
  const prefix = title ? `${escapeHtml(title)}: ` : '';
  const what = result.verdict === 'fail' ? 'Gate failed' : result.verdict === 'warn' ? 'Gate passed with warnings' : 'Gate passed';
  const best = result.bestLeg !== null && result.legs.length > 1 ? ` — best leg ${code(result.bestLeg)}` : '';
  return `### ${VERDICT_ICON[result.verdict]} ${prefix}${what}${best}`;
}

function context(result: GateResult): string {
  const selectRule = result.legs[0]?.checks.find((c) => c.metric === result.select);
  const direction = selectRule?.direction === 'lower' ? 'lower is better' : 'higher is better';
  const legs = result.legs.length === 1 ? '1 leg' : `${result.legs.length} legs, ${result.aggregate === 'all' ? 'all must pass' : 'the best passing leg counts'}`;
  return `${legs}; ranked by ${code(result.select)} (${direction}); ${describeBaseline(result.baseline)}.`;
}

/** Which baseline the gate compared with: a file, production's stored metrics, or production re-scored on the holdout. */
function describeBaseline(baseline: GateResult['baseline']): string {
  if (!baseline) return 'no baseline';
  const p = baseline.production;
  if (!p) return `baseline ${code(baseline.source)}`;
  const version = `baseline ${code(`production ${p.name} ${p.version}`)}`;
  if (!p.rescored) return `${version}: stored metrics from its model card`;
  const shown = p.fromCard.slice(0, 5).map(code).join(', ') + (p.fromCard.length > 5 ? ` and ${p.fromCard.length - 5} more` : '');
  const card = p.fromCard.length > 0 ? `; ${shown} from its model card` : '';
  return `${version} re-scored on ${code(p.rescored.holdout)} (${p.rescored.rows} rows)${card}`;
}

function metricsTable(result: GateResult, rules: GateRules | undefined): string {
  const metrics = result.legs[0]?.checks.map((c) => c.metric) ?? [];
  const ruleOf = new Map(rules?.metrics ?? []);
  const single = result.legs.length === 1;
  const header = ['Metric', ...(rules ? ['Rule'] : []), 'Baseline'];
  if (single) header.push('Value', 'Δ', 'Verdict');
  else header.push(...result.legs.map((l) => `${codeCell(l.name)}${l.name === result.bestLeg ? ' ★' : ''}`));
  const rows = metrics.map((metric, i) => {
    const first = result.legs[0]!.checks[i]!;
    const row = [codeCell(metric), ...(rules ? [describeRule(ruleOf.get(metric))] : []), first.baseline === null ? '—' : formatNumber(first.baseline)];
    if (single) {
      const check = first;
      row.push(check.value === null ? 'missing' : formatNumber(check.value), delta(check), `${VERDICT_ICON[check.verdict]}`);
    } else {
      row.push(...result.legs.map((leg) => legCell(leg.checks[i]!)));
    }
    return row;
  });
  const align = header.map((_, i) => (i === 0 || (rules && i === 1) ? 'left' : 'right') as 'left' | 'right');
  const legLine = single ? '' : `\n\n${legVerdicts(result.legs, result.bestLeg)}`;
  return `${table(header, rows, align)}${legLine}`;
}

function legCell(check: MetricCheck): string {
  if (check.value === null) return `missing ${VERDICT_ICON.fail}`;
  const d = delta({ delta: check.delta, deltaPercent: null });
  return `${formatNumber(check.value)}${d === '—' ? '' : ` ${d}`} ${VERDICT_ICON[check.verdict]}`;
}

function legVerdicts(legs: readonly LegResult[], best: string | null): string {
  return legs.map((l) => `${VERDICT_ICON[l.verdict]} ${code(l.name)}${l.name === best ? ' (best)' : ''}`).join(' · ');
}

/** `↑ +0.01 (+1.08%)`, `↓ -2`, `= 0` */
export function delta(check: Pick<MetricCheck, 'delta' | 'deltaPercent'>): string {
  if (check.delta === null) return '—';
  const arrow = check.delta > 0 ? '↑' : check.delta < 0 ? '↓' : '=';
  const pct = check.deltaPercent === null || check.delta === 0 ? '' : ` (${formatPercent(check.deltaPercent)})`;
  return `${arrow} ${formatSigned(check.delta)}${pct}`;
}

function describeRule(rule: MetricRule | undefined): string {
  if (!rule) return '';
  const parts: string[] = [];
  if (rule.min !== undefined) parts.push(`≥ ${formatNumber(rule.min)}`);
  if (rule.max !== undefined) parts.push(`≤ ${formatNumber(rule.max)}`);
  const tol = rule.maxDrop ?? rule.maxRise;
  if (tol) parts.push(`${rule.maxDrop ? 'drop' : 'rise'} ≤ ${formatNumber(tol.amount)}${tol.kind === 'percent' ? '%' : ''}`);
  if (parts.length === 0 && rule.direction) parts.push(rule.direction === 'higher' ? 'higher is better' : 'lower is better');
  if (rule.severity === 'warn') parts.push('warn only');
  return parts.join(', ');
}

function problemList(result: GateResult): string {
  const groups: Record<'fail' | 'warn', string[]> = { fail: [], warn: [] };
  for (const leg of result.legs) {
    for (const check of leg.checks) {
      if (check.verdict === 'pass') continue;
      const where = result.legs.length > 1 ? `${code(leg.name)} · ` : '';
      groups[check.verdict].push(`- ${VERDICT_ICON[check.verdict]} ${where}${code(check.metric)} ${escapeHtml(check.reason)}`);
    }
  }
  const parts: string[] = [];
  if (groups.fail.length > 0) parts.push(`**Failed checks**\n\n${groups.fail.join('\n')}`);
  if (groups.warn.length > 0) parts.push(`**Warnings**\n\n${groups.warn.join('\n')}`);
  return parts.join('\n\n');
}

function legChart(result: GateResult): string {
  const legs = result.legs.filter((l) => l.checks.some((c) => c.metric === result.select && c.value !== null));
  if (legs.length < 2) return '';
  const checks = legs.map((l) => l.checks.find((c) => c.metric === result.select)!);
  const reference = checks[0]!.baseline ?? undefined;
  return mermaidBarChart({
    title: `${result.select} by leg${reference === undefined ? '' : ` (line: baseline ${formatNumber(reference)})`}`,
    axis: result.select,
    categories: legs.map((l) => l.name),
    values: checks.map((c) => c.value!),
    ...(reference !== undefined && { reference }),
  });
}

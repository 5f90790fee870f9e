import type { Metrics } from '../metrics/parse.ts';
import type { Leg } from '../metrics/legs.ts';
import { formatNumber, formatPercent } from '../metrics/format.ts';
import type { Direction, GateRules, MetricRule, Severity, Tolerance } from './rules.ts';

export type Verdict = 'pass' | 'warn' | 'fail';

export interface MetricCheck {
  metric: string;
  direction: Direction | null;
  severity: Severity;
  value: number | null;
  baseline: number | null;
  /** value − baseline */
  delta: number | null;
  /** delta as a percent of |baseline|; null without a baseline or when it is 0. */
  deltaPercent: number | null;
  verdict: Verdict;
  /** Why: the broken limits, or the limits met. */
  reason: string;
}

export interface LegResult {
  name: string;
  file: string;
  verdict: Verdict;
  checks: MetricCheck[];
}

export interface Baseline {
  /** Where the numbers came from: a file path, or the production model version and how it was measured. */
  source: string;
  metrics: Metrics;
  /** For `baseline: production`: the version, and whether its numbers were re-scored or read from its card. */
  production?: ProductionOrigin;
}

export interface ProductionOrigin {
  name: string;
  version: string;
  storageUri: string;
  /** Set when the champion was scored again on the candidates' holdout; absent for the card's stored metrics. */
  rescored?: { holdout: string; rows: number; md5: string; cached: boolean };
  /** Metrics taken from the model card (all of them when not re-scored). */
  fromCard: string[];
}

export interface GateResult {
  passed: boolean;
  verdict: Verdict;
  aggregate: GateRules['aggregate'];
  select: string;
  /** The best passing leg by `select`, or null when no leg passes. */
  bestLeg: string | null;
  baseline: Baseline | null;
  /** Ranked best first by `select`; legs missing it come last. */
  legs: LegResult[];
}

/** Pure: the verdict of every leg on every rule, the best leg and the overall verdict. */
export function evaluateGate(legs: readonly Leg[], rules: GateRules, baseline: Baseline | null): GateResult {
  const results = legs.map((leg) => evaluateLeg(leg, rules, baseline?.metrics));
  const direction = rules.metrics.find(([name]) => name === rules.select)?.[1].direction ?? 'higher';
  const ranked = rank(results, legs, rules.select, direction);
  const best = ranked.find((leg) => leg.verdict !== 'fail') ?? null;
  const counted = rules.aggregate === 'all' ? ranked : best ? [best] : [];
  const passed = rules.aggregate === 'all' ? ranked.length > 0 && ranked.every((l) => l.verdict !== 'fail') : best !== null;
  const verdict: Verdict = !passed ? 'fail' : counted.some((l) => l.verdict === 'warn') ? 'warn' : 'pass';
  return { passed, verdict, aggregate: rules.aggregate, select: rules.select, bestLeg: best?.name ?? null, baseline, legs: ranked };
}

function rank(results: LegResult[], legs: readonly Leg[], select: string, direction: Direction): LegResult[] {
  const score = (i: number) => legs[i]!.metrics[select];
  const order = results.map((_, i) => i);
  order.sort((a, b) => {
    const x = score(a);
    const y = score(b);
    if (x === undefined || y === undefined) return (x === undefined ? 1 : 0) - (y === undefined ? 1 : 0) || a - b;
    return (direction === 'higher' ? y - x : x - y) || a - b;
  });
  return order.map((i) => results[i]!);
}

function evaluateLeg(leg: Leg, rules: GateRules, baseline: Metrics | undefined): LegResult {
  const checks = rules.metrics.map(([metric, rule]) => checkMetric(metric, rule, leg.metrics[metric], baseline?.[metric]));
  const verdict: Verdict = checks.some((c) => c.verdict === 'fail') ? 'fail' : checks.some((c) => c.verdict === 'warn') ? 'warn' : 'pass';
  return { name: leg.name, file: leg.file, verdict, checks };
}

export function checkMetric(metric: string, rule: MetricRule, value: number | undefined, base: number | undefined): MetricCheck {
  const baseline = base ?? null;
  const common = { metric, direction: rule.direction ?? null, severity: rule.severity, baseline };
  if (value === undefined) {
    // A missing metric fails the leg whatever the severity: a gate must never pass on numbers it did not see.
    return { ...common, value: null, delta: null, deltaPercent: null, verdict: 'fail', reason: 'missing from this leg\'s metrics' };
  }
  const delta = baseline === null ? null : value - baseline;
  const deltaPercent = delta === null || baseline === 0 || baseline === null ? null : (delta / Math.abs(baseline)) * 100;
  const broken: string[] = [];
  const met: string[] = [];
  if (rule.min !== undefined) {
    if (below(value, rule.min)) broken.push(`below min ${formatNumber(rule.min)}`);
    else met.push(`≥ min ${formatNumber(rule.min)}`);
  }
  if (rule.max !== undefined) {
    if (below(rule.max, value)) broken.push(`above max ${formatNumber(rule.max)}`);
    else met.push(`≤ max ${formatNumber(rule.max)}`);
  }
  const limit = rule.maxDrop ? { tol: rule.maxDrop, word: 'drop', sign: -1 } : rule.maxRise ? { tol: rule.maxRise, word: 'rise', sign: 1 } : undefined;
  if (limit && delta !== null && baseline !== null) {
    const change = limit.sign * delta;
    const allowed = allowance(limit.tol, baseline);
    const shown = `${limit.word} ${formatNumber(Math.max(change, 0))}${deltaPercent === null ? '' : ` (${formatPercent(Math.abs(deltaPercent), { signed: false })})`}`;
    if (below(allowed, change)) broken.push(`${shown} exceeds max-${limit.word} ${describeTolerance(limit.tol)}`);
    else met.push(change > 0 ? `${shown} ≤ max-${limit.word} ${describeTolerance(limit.tol)}` : 'no regression');
  } else if (limit) {
    met.push('no baseline value to compare');
  }
  const failed = broken.length > 0;
  const verdict: Verdict = !failed ? 'pass' : rule.severity === 'warn' ? 'warn' : 'fail';
  const reason = failed ? `${formatNumber(value)}: ${broken.join('; ')}` : met.join('; ') || 'recorded';
  return { ...common, value, delta, deltaPercent, verdict, reason };
}

function allowance(tol: Tolerance, baseline: number): number {
  return tol.kind === 'absolute' ? tol.amount : (tol.amount / 100) * Math.abs(baseline);
}

function describeTolerance(tol: Tolerance): string {
  return tol.kind === 'absolute' ? formatNumber(tol.amount) : `${formatNumber(tol.amount)}%`;
}

/**
 * a < b beyond floating-point noise, so 0.93 − 0.92 (= 0.010000000000000009) is not "more than 0.01".
 */
function below(a: number, b: number): boolean {
  return b - a > 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

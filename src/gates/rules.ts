import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isMap, isScalar, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../errors.ts';
import { describeYamlError } from '../metrics/yaml-error.ts';
import { closest } from './suggest.ts';

export type Direction = 'higher' | 'lower';
export type Severity = 'error' | 'warn';
/** An allowed change vs the baseline: absolute units, or a percent of the baseline value. */
export type Tolerance = { kind: 'absolute'; amount: number } | { kind: 'percent'; amount: number };

export interface MetricRule {
  min?: number;
  max?: number;
  /** Undefined only for a plain range (`min` and `max` with no direction): such a metric cannot rank legs. */
  direction?: Direction;
  maxDrop?: Tolerance;
  maxRise?: Tolerance;
  severity: Severity;
}

export interface GateRules {
  aggregate: 'best' | 'all';
  /** The metric that ranks legs; its direction decides which is best. */
  select: string;
  /** `production`, `none`, or a metrics file path; undefined when the rules do not say. */
  baseline?: string;
  /** In the order written. */
  metrics: ReadonlyArray<readonly [name: string, rule: MetricRule]>;
}

const PERCENT = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%\s*$/;

const Amount = z.union([
  z.number().refine((n) => Number.isFinite(n) && n >= 0, 'must be a finite number ≥ 0'),
  z.string().regex(PERCENT, 'must be a number ≥ 0 or a percent such as 2%'),
]);

const RULE_KEYS = ['min', 'max', 'direction', 'max-drop', 'max-rise', 'severity'] as const;
const RawRule = z.strictObject({
  min: z.number().refine(Number.isFinite, 'must be a finite number').optional(),
  max: z.number().refine(Number.isFinite, 'must be a finite number').optional(),
  direction: z.enum(['higher', 'lower']).optional(),
  'max-drop': Amount.optional(),
  'max-rise': Amount.optional(),
  severity: z.enum(['error', 'warn']).optional(),
});

const TOP_KEYS = ['aggregate', 'select', 'baseline', 'metrics'] as const;
const RawRules = z.strictObject({
  aggregate: z.enum(['best', 'all']).optional(),
  select: z.string().min(1).optional(),
  baseline: z.string().min(1).optional(),
  metrics: z.record(z.string().min(1), RawRule).refine((m) => Object.keys(m).length > 0, 'must name at least one metric'),
});

/** Reads rules from a file path, or from inline YAML when the text itself looks like YAML. */
export async function loadRules(rulesInput: string, cwd: string): Promise<GateRules> {
  if (looksInline(rulesInput)) return parseRules(rulesInput, 'rules (inline YAML)');
  let text: string;
  try {
    text = await readFile(resolve(cwd, rulesInput), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new UsageError(`rules: ${JSON.stringify(rulesInput)} does not exist; create it (see examples/gates.yml) or pass inline YAML`);
    }
    if (code === 'EISDIR') throw new UsageError(`rules: ${JSON.stringify(rulesInput)} is a directory; give the rules file in it (e.g. .mlops/gates.yml) or inline YAML`);
    throw error;
  }
  return parseRules(text, rulesInput);
}

export function looksInline(value: string): boolean {
  return value.includes('\n') || /:(\s|$)/.test(value) || value.trimStart().startsWith('{');
}

export function parseRules(text: string, file: string): GateRules {
  const doc = parseDocument(text, { uniqueKeys: true });
  const first = doc.errors[0];
  if (first) throw new UsageError(`${describeYamlError(first, text, file)}; fix the file`);
  refuseReservedNames(doc, file);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    if (error instanceof ReferenceError || error instanceof RangeError) {
      throw new UsageError(`${file}: expands too many YAML aliases (or nests too deep), which is how a YAML bomb looks; write the rules out without anchors`);
    }
    throw error;
  }
  const parsed = RawRules.safeParse(raw);
  if (!parsed.success) throw new UsageError(`${file}: ${describeIssue(parsed.error.issues[0]!, raw)}`);
  const data = parsed.data;
  const metrics = Object.entries(data.metrics).map(([name, r]) => [name, toRule(name, r, file)] as const);
  const select = data.select ?? metrics.find(([, r]) => r.direction !== undefined)?.[0];
  if (select === undefined) {
    throw new UsageError(`${file}: no metric has a direction to rank legs by; add "select: <metric>" and give it min, max or direction`);
  }
  const selected = metrics.find(([name]) => name === select);
  if (!selected) {
    const hint = closest(select, metrics.map(([n]) => n));
    throw new UsageError(`${file}: key "select" has value ${JSON.stringify(select)}, which is not under metrics${hint ? `; did you mean "${hint}"?` : '; add it under metrics'}`);
  }
  if (selected[1].direction === undefined) {
    throw new UsageError(`${file}: key "select" names "${select}", which has no direction; add direction: higher or lower to its rule`);
  }
  return { aggregate: data.aggregate ?? 'best', select, ...(data.baseline !== undefined && { baseline: data.baseline }), metrics };
}

/**
 * Metric names that are also properties of every JavaScript object: `__proto__` would vanish when the YAML
 * becomes an object, and `constructor` or `toString` would compare with a function. Read from the syntax tree,
 * before any object is built.
 */
function refuseReservedNames(doc: Document.Parsed, file: string): void {
  const metrics = isMap(doc.contents) ? doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'metrics')?.value : undefined;
  if (!isMap(metrics)) return;
  for (const pair of metrics.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (name !== undefined && (name in Object.prototype || name === 'prototype')) {
      throw new UsageError(`${file}: key "metrics.${name}" is not allowed as a metric name (it is a property of every object); rename the metric`);
    }
  }
}

function toRule(name: string, raw: z.infer<typeof RawRule>, file: string): MetricRule {
  const at = `key "metrics.${name}"`;
  if (raw.min !== undefined && raw.max !== undefined && raw.min > raw.max) {
    throw new UsageError(`${file}: ${at} has min ${raw.min} above max ${raw.max}; no value can pass, swap them`);
  }
  if (raw['max-drop'] !== undefined && raw['max-rise'] !== undefined) {
    throw new UsageError(`${file}: ${at} has both max-drop and max-rise; keep the one for its direction (max-drop when higher is better, max-rise when lower is better)`);
  }
  const implied: Direction | undefined =
    raw['max-drop'] !== undefined ? 'higher'
    : raw['max-rise'] !== undefined ? 'lower'
    : raw.min !== undefined && raw.max === undefined ? 'higher'
    : raw.max !== undefined && raw.min === undefined ? 'lower'
    : undefined;
  const direction = raw.direction ?? implied;
  if (raw.direction === 'higher' && raw['max-rise'] !== undefined) {
    throw new UsageError(`${file}: ${at} limits max-rise, but a rise is an improvement when higher is better; use max-drop`);
  }
  if (raw.direction === 'lower' && raw['max-drop'] !== undefined) {
    throw new UsageError(`${file}: ${at} limits max-drop, but a drop is an improvement when lower is better; use max-rise`);
  }
  if (direction === undefined && raw.min === undefined && raw.max === undefined) {
    throw new UsageError(`${file}: ${at} checks nothing; give min, max, max-drop, max-rise or direction`);
  }
  return {
    ...(raw.min !== undefined && { min: raw.min }),
    ...(raw.max !== undefined && { max: raw.max }),
    ...(direction !== undefined && { direction }),
    ...(raw['max-drop'] !== undefined && { maxDrop: tolerance(raw['max-drop']) }),
    ...(raw['max-rise'] !== undefined && { maxRise: tolerance(raw['max-rise']) }),
    severity: raw.severity ?? 'error',
  };
}

function tolerance(value: number | string): Tolerance {
  if (typeof value === 'number') return { kind: 'absolute', amount: value };
  return { kind: 'percent', amount: Number(PERCENT.exec(value)![1]) };
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const inMetric = path.length === 2 && path[0] === 'metrics';
    const known: readonly string[] = inMetric ? RULE_KEYS : TOP_KEYS;
    const full = [...path, key].join('.');
    const guess = closest(key, known);
    const nested = inMetric && isObject(lookup(raw, [...path, key]));
    if (nested) return `key "${full}" is not a rule key; write nested metrics with a dot, as "${path[1]}.${key}"`;
    return `key "${full}" is not a known key${guess ? `; did you mean "${guess}"?` : ''} (known: ${known.join(', ')})`;
  }
  const key = path.join('.') || '(top level)';
  if (path.length === 0 && issue.code === 'invalid_type') return 'the rules must be a YAML mapping with a "metrics" key; see examples/gates.yml';
  const value = lookup(raw, path);
  if (issue.code === 'invalid_type' && value === undefined) return `key "${key}" is missing; add it`;
  if (issue.code === 'invalid_type' && path.length === 2 && path[0] === 'metrics') {
    return `key "${key}" has value ${JSON.stringify(value)}; give it a mapping such as { min: 0.9 }`;
  }
  const message = issue.code === 'invalid_union' ? 'must be a number ≥ 0 or a percent such as 2%' : issue.message;
  return `key "${key}" has value ${JSON.stringify(value)}: ${message}`;
}

function lookup(raw: unknown, path: readonly string[]): unknown {
  let node = raw;
  for (const part of path) {
    if (!isObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

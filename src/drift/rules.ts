/**
 * Drift rules (`.mlops/drift.yml`, or the `rules` input as a path or inline YAML):
 *
 *   default: { test: psi, max: 0.2 }        # numeric columns
 *   default-categorical: { test: chi2, min-p: 0.01 }
 *   min-rows: 1000                          # fewer rows in the window: "insufficient data", never "no drift"
 *   drift-share: 0.5                        # dataset drift when this share of tested columns drifted
 *   correction: bonferroni                  # or none: for the p-value tests (ks, chi2)
 *   features:
 *     tenure: { test: ks, min-p: 0.01 }
 *     plan:   { test: chi2, min-p: 0.01, severity: warn }
 *
 * `features` may name model outputs too (`probabilities[1]`); outputs default to severity warn, so the
 * prediction distribution is reported but does not decide dataset drift unless a rule says so.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { UsageError } from '../errors.ts';
import { closest } from '../gates/suggest.ts';
import { describeYamlError } from '../metrics/yaml-error.ts';
import type { Profile } from './profile.ts';

export const TESTS = ['psi', 'ks', 'chi2', 'js', 'wasserstein'] as const;
export type TestName = (typeof TESTS)[number];
export type Severity = 'error' | 'warn';

/** p-value tests take `min-p`; the others are distances and take `max`. */
export const P_VALUE_TESTS: readonly TestName[] = ['ks', 'chi2'];
export const DEFAULT_THRESHOLD: Record<TestName, number> = { psi: 0.2, ks: 0.01, chi2: 0.01, js: 0.1, wasserstein: 0.1 };
const NUMERIC_ONLY: readonly TestName[] = ['ks', 'wasserstein'];

export interface ColumnRule {
  test: TestName;
  /** `max` for distances, `min-p` for p-value tests (before the multiple-testing correction). */
  threshold: number;
  severity: Severity;
}

export interface DriftRules {
  numeric: ColumnRule;
  categorical: ColumnRule;
  minRows: number;
  driftShare: number;
  correction: 'bonferroni' | 'none';
  features: Map<string, RawRule>;
  /** Where the rules came from, for messages and the report. */
  source: string;
}

/** A rule as written: any part may be missing; `key` says whether the threshold was given as max or min-p. */
type RawRule = Partial<ColumnRule> & { key?: 'max' | 'min-p' };

export const DEFAULT_RULES_FILE = '.mlops/drift.yml';
const TOP_KEYS = ['default', 'default-categorical', 'min-rows', 'drift-share', 'correction', 'features'];
const RULE_KEYS = ['test', 'max', 'min-p', 'severity'];

export function defaultRules(source = 'defaults'): DriftRules {
  return {
    numeric: { test: 'psi', threshold: DEFAULT_THRESHOLD.psi, severity: 'error' },
    categorical: { test: 'chi2', threshold: DEFAULT_THRESHOLD.chi2, severity: 'error' },
    minRows: 1000,
    driftShare: 0.5,
    correction: 'bonferroni',
    features: new Map(),
    source,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(file: string, key: string, value: unknown, fix: string): never {
  throw new UsageError(`${file}: key "${key}" has value ${JSON.stringify(value)}: ${fix}`);
}

function unknownKey(file: string, at: string, key: string, known: readonly string[]): never {
  const guess = closest(key, known);
  throw new UsageError(`${file}: key "${at ? `${at}.` : ''}${key}" is not a known key${guess ? `; did you mean "${guess}"?` : ''} (known: ${known.join(', ')})`);
}

function parseRule(file: string, at: string, raw: unknown, partial: boolean): RawRule {
  if (!isObject(raw)) bad(file, at, raw, 'give a mapping such as { test: psi, max: 0.2 }');
  for (const key of Object.keys(raw)) if (!RULE_KEYS.includes(key)) unknownKey(file, at, key, RULE_KEYS);
  const rule: RawRule = {};
  if (raw.test !== undefined) {
    if (typeof raw.test !== 'string' || !(TESTS as readonly string[]).includes(raw.test)) {
      const guess = typeof raw.test === 'string' ? closest(raw.test, TESTS) : undefined;
      bad(file, `${at}.test`, raw.test, `is not a test; use one of ${TESTS.join(', ')}${guess ? ` (did you mean "${guess}"?)` : ''}`);
    }
    rule.test = raw.test as TestName;
  } else if (!partial) bad(file, `${at}.test`, undefined, `is required; use one of ${TESTS.join(', ')}`);
  if (raw.max !== undefined && raw['min-p'] !== undefined) bad(file, at, raw, 'gives both max and min-p; a distance test takes max, a p-value test (ks, chi2) takes min-p');
  if (raw.max !== undefined) {
    if (typeof raw.max !== 'number' || !Number.isFinite(raw.max) || raw.max < 0) bad(file, `${at}.max`, raw.max, 'must be a finite number ≥ 0');
    rule.threshold = raw.max;
    rule.key = 'max';
    if (rule.test && P_VALUE_TESTS.includes(rule.test)) bad(file, `${at}.max`, raw.max, `does not apply to ${rule.test}, a p-value test: give min-p instead`);
  }
  if (raw['min-p'] !== undefined) {
    const p = raw['min-p'];
    if (typeof p !== 'number' || !(p > 0 && p < 1)) bad(file, `${at}.min-p`, p, 'must be a probability between 0 and 1 (exclusive), such as 0.01');
    rule.threshold = p;
    rule.key = 'min-p';
    if (rule.test && !P_VALUE_TESTS.includes(rule.test)) bad(file, `${at}.min-p`, p, `does not apply to ${rule.test}, a distance: give max instead`);
  }
  if (raw.severity !== undefined) {
    if (raw.severity !== 'error' && raw.severity !== 'warn') bad(file, `${at}.severity`, raw.severity, 'must be error or warn');
    rule.severity = raw.severity;
  }
  return rule;
}

/** Fills a rule from a fallback; a threshold given without a test must fit the inherited test. */
function complete(file: string, at: string, rule: RawRule, fallback: ColumnRule): ColumnRule {
  const test = rule.test ?? fallback.test;
  if (rule.key && !rule.test) {
    const wants = P_VALUE_TESTS.includes(test) ? 'min-p' : 'max';
    if (rule.key !== wants) bad(file, `${at}.${rule.key}`, rule.threshold, `does not apply to ${test} (the test it inherits): give ${wants}, or name the test`);
  }
  const threshold = rule.threshold ?? (rule.test ? DEFAULT_THRESHOLD[test] : fallback.threshold);
  return { test, threshold, severity: rule.severity ?? fallback.severity };
}

/** Parses rules text; `file` names it in messages. */
export function parseDriftRules(text: string, file: string): DriftRules {
  const doc = parseDocument(text, { uniqueKeys: true });
  const first = doc.errors[0];
  if (first) throw new UsageError(`${describeYamlError(first, text, file)}; fix the file`);
  const raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const rules = defaultRules(file);
  if (raw === null || raw === undefined) return rules;
  if (!isObject(raw)) throw new UsageError(`${file}: the rules must be a YAML mapping (default, min-rows, drift-share, correction, features)`);
  for (const key of Object.keys(raw)) if (!TOP_KEYS.includes(key)) unknownKey(file, '', key, TOP_KEYS);
  if (raw.default !== undefined) {
    const rule = parseRule(file, 'default', raw.default, true);
    if (rule.test === 'chi2') bad(file, 'default.test', 'chi2', 'is a test for categories; the default is for numeric columns (use default-categorical for categories)');
    rules.numeric = complete(file, 'default', rule, rules.numeric);
  }
  if (raw['default-categorical'] !== undefined) {
    const rule = parseRule(file, 'default-categorical', raw['default-categorical'], true);
    if (rule.test && NUMERIC_ONLY.includes(rule.test)) bad(file, 'default-categorical.test', rule.test, 'needs numbers; categories take chi2, psi or js');
    rules.categorical = complete(file, 'default-categorical', rule, rules.categorical);
  }
  if (raw['min-rows'] !== undefined) {
    const v = raw['min-rows'];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) bad(file, 'min-rows', v, 'must be a whole number ≥ 1');
    rules.minRows = v;
  }
  if (raw['drift-share'] !== undefined) {
    const v = raw['drift-share'];
    if (typeof v !== 'number' || !(v > 0 && v <= 1)) bad(file, 'drift-share', v, 'must be a share in (0, 1], such as 0.5');
    rules.driftShare = v;
  }
  if (raw.correction !== undefined) {
    if (raw.correction !== 'bonferroni' && raw.correction !== 'none') bad(file, 'correction', raw.correction, 'must be bonferroni or none');
    rules.correction = raw.correction;
  }
  if (raw.features !== undefined && raw.features !== null) {
    if (!isObject(raw.features)) bad(file, 'features', raw.features, 'must map feature names to rules');
    for (const [name, rule] of Object.entries(raw.features)) rules.features.set(name, parseRule(file, `features.${name}`, rule, true));
  }
  return rules;
}

/** Reads the rules: a file, inline YAML, or the default file when it exists (built-in defaults otherwise). */
export async function loadDriftRules(input: string | undefined, cwd: string): Promise<DriftRules> {
  const value = input?.trim();
  if (value && (value.includes('\n') || /:(\s|$)/.test(value) || value.startsWith('{'))) return parseDriftRules(value, 'rules (inline YAML)');
  const file = value || DEFAULT_RULES_FILE;
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') {
      if (!value || value === DEFAULT_RULES_FILE) return defaultRules();
      throw new UsageError(`rules: ${JSON.stringify(value)} does not exist; create it (see the rules in actions/drift/README.md) or pass inline YAML`);
    }
    throw error;
  }
  return parseDriftRules(text, file);
}

/** The rule each profiled column is checked with; names in `features` the profile lacks are an error. */
export function columnRules(rules: DriftRules, profile: Profile): Map<string, ColumnRule> {
  const out = new Map<string, ColumnRule>();
  const columns = [...profile.features.map((c) => ({ c, output: false })), ...profile.outputs.map((c) => ({ c, output: true }))];
  const names = columns.map(({ c }) => c.name);
  for (const name of rules.features.keys()) {
    if (!names.includes(name)) {
      const prefixed = names.filter((n) => n.startsWith(name) || name.startsWith(n));
      const guess = closest(name, names) ?? (prefixed.length === 1 ? prefixed[0] : undefined);
      throw new UsageError(`${rules.source}: key "features.${name}" names no feature or output of the profile${guess ? `; did you mean "${guess}"?` : ''} (the profile has ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', …' : ''})`);
    }
  }
  for (const { c, output } of columns) {
    const fallback = c.kind === 'numeric' ? rules.numeric : rules.categorical;
    const own = rules.features.get(c.name) ?? {};
    const test = own.test ?? fallback.test;
    if (c.kind === 'categorical' && NUMERIC_ONLY.includes(test)) {
      throw new UsageError(`${rules.source}: key "features.${c.name}.test" is ${test}, which needs numbers, but ${JSON.stringify(c.name)} is categorical in the profile: use chi2, psi or js`);
    }
    if (c.kind === 'numeric' && test === 'chi2') {
      throw new UsageError(`${rules.source}: key "features.${c.name}.test" is chi2, a test for categories, but ${JSON.stringify(c.name)} is numeric in the profile: use psi, ks, js or wasserstein`);
    }
    const rule = complete(rules.source, `features.${c.name}`, own, fallback);
    out.set(c.name, { ...rule, severity: own.severity ?? (output ? 'warn' : fallback.severity) });
  }
  return out;
}

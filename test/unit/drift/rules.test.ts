// Drift rules: bad rules name the key; min-rows makes a small window "insufficient", never "no drift";
// Bonferroni divides min-p by the number of p-value tests; dataset drift by the share of drifted columns.
import { describe, expect, it } from 'vitest';
import { checkDrift } from '../../../src/drift/check.ts';
import { CurrentData } from '../../../src/drift/current.ts';
import { buildProfile, type Profile } from '../../../src/drift/profile.ts';
import { columnRules, parseDriftRules } from '../../../src/drift/rules.ts';
import { isUsageError } from '../../../src/errors.ts';
import { sampler } from '../../helpers/scipy.ts';

const s = sampler(17);

function reference(): Profile {
  return buildProfile(
    5000,
    [
      { name: 'a', values: s.normals(5000) },
      { name: 'b', values: s.normals(5000) },
      { name: 'c', values: s.normals(5000) },
      { name: 'd', values: s.normals(5000) },
      { name: 'plan', values: Array.from({ length: 5000 }, (_, i) => ['basic', 'pro', 'team'][i % 3]), kind: 'categorical' },
    ],
    [{ name: 'score', values: s.normals(5000) }],
  );
}

/** A window with `shifted` columns moved by `shift` standard deviations. */
function window(profile: Profile, rows: number, shifted: string[], shift = 1): CurrentData {
  const data = new CurrentData(profile);
  for (let i = 0; i < rows; i++) {
    for (const name of ['a', 'b', 'c', 'd', 'score']) data.addNumber(name, s.normal() + (shifted.includes(name) ? shift : 0));
    data.add('plan', shifted.includes('plan') ? 'basic' : ['basic', 'pro', 'team'][i % 3]);
  }
  for (const name of ['a', 'b', 'c', 'd', 'plan', 'score']) data.seen.add(name);
  data.rows = rows;
  data.outputRows = rows;
  return data;
}

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isUsageError(error)) return error.message;
    throw error;
  }
  throw new Error('expected a usage error');
}

describe('drift rules', () => {
  it('exit 2 errors name the key: unknown test, negative threshold, unknown feature, wrong threshold kind, unknown key', () => {
    const profile = reference();
    expect(usage(() => parseDriftRules('features:\n  a: { test: kss }\n', 'drift.yml'))).toMatch(/drift.yml: key "features.a.test" has value "kss": is not a test; use one of psi, ks, chi2, js, wasserstein \(did you mean "ks"\?\)/);
    expect(usage(() => parseDriftRules('default: { test: psi, max: -0.1 }\n', 'drift.yml'))).toMatch(/key "default.max" has value -0.1: must be a finite number ≥ 0/);
    expect(usage(() => columnRules(parseDriftRules('features:\n  tenur: { test: ks }\n', 'drift.yml'), buildProfile(1, [{ name: 'tenure', values: [1] }])))).toMatch(/key "features.tenur" names no feature or output of the profile; did you mean "tenure"\?/);
    expect(usage(() => parseDriftRules('features:\n  a: { test: ks, max: 0.2 }\n', 'drift.yml'))).toMatch(/key "features.a.max" .* does not apply to ks, a p-value test: give min-p/);
    expect(usage(() => columnRules(parseDriftRules('features:\n  a: { min-p: 0.01 }\n', 'drift.yml'), profile))).toMatch(/key "features.a.min-p" .* does not apply to psi \(the test it inherits\)/);
    expect(usage(() => columnRules(parseDriftRules('features:\n  plan: { test: ks }\n', 'drift.yml'), profile))).toMatch(/key "features.plan.test" is ks, which needs numbers/);
    expect(usage(() => parseDriftRules('min-row: 10\n', 'drift.yml'))).toMatch(/key "min-row" is not a known key; did you mean "min-rows"\?/);
    expect(usage(() => parseDriftRules('drift-share: 1.5\n', 'drift.yml'))).toMatch(/key "drift-share" has value 1.5/);
    expect(usage(() => parseDriftRules('correction: holm\n', 'drift.yml'))).toMatch(/key "correction" has value "holm": must be bonferroni or none/);
    expect(usage(() => parseDriftRules('min-rows: 10\nmin-rows: 20\n', 'drift.yml'))).toMatch(/drift.yml:2:1: not valid YAML/);
  });

  it('defaults: PSI > 0.2 for numbers, chi2 p < 0.01 for categories, outputs reported as warnings', () => {
    const rules = columnRules(parseDriftRules('', 'drift.yml'), reference());
    expect(rules.get('a')).toEqual({ test: 'psi', threshold: 0.2, severity: 'error' });
    expect(rules.get('plan')).toEqual({ test: 'chi2', threshold: 0.01, severity: 'error' });
    expect(rules.get('score')).toEqual({ test: 'psi', threshold: 0.2, severity: 'warn' });
  });

  it('below min-rows the window is insufficient, never "no drift"', () => {
    const profile = reference();
    const result = checkDrift(profile, window(profile, 300, ['a', 'b', 'c']), parseDriftRules('', 'drift.yml'));
    expect(result.insufficient).toBe(true);
    expect(result.drifted).toBe(false);
    expect(result.features.every((f) => f.insufficient && f.statistic === null)).toBe(true);
    expect(result.features[0]!.reason).toMatch(/300 rows with a value, fewer than min-rows \(1000\)/);
    const enough = checkDrift(profile, window(profile, 300, ['a', 'b', 'c']), parseDriftRules('min-rows: 200\n', 'drift.yml'));
    expect(enough.insufficient).toBe(false);
    expect(enough.drifted).toBe(true);
  });

  it('Bonferroni divides min-p by the number of p-value tests run; correction none does not', () => {
    const profile = reference();
    const text = 'default: { test: ks, min-p: 0.05 }\nfeatures:\n  plan: { test: chi2, min-p: 0.05 }\n  score: { test: ks, min-p: 0.05 }\n';
    const bonferroni = checkDrift(profile, window(profile, 2000, []), parseDriftRules(text, 'drift.yml'));
    expect(bonferroni.features.map((f) => f.threshold)).toEqual(Array(6).fill(0.05 / 6));
    expect(bonferroni.features.every((f) => typeof f.p_value === 'number')).toBe(true);
    const none = checkDrift(profile, window(profile, 2000, []), parseDriftRules(`${text}correction: none\n`, 'drift.yml'));
    expect(none.features.map((f) => f.threshold)).toEqual(Array(6).fill(0.05));
    // A p-value between the two thresholds drifts without the correction only.
    const f = none.features.find((x) => x.p_value! < 0.05 && x.p_value! >= 0.05 / 6);
    if (f) expect(bonferroni.features.find((x) => x.name === f.name)!.drifted).toBe(false);
  });

  it('dataset drift when the share of drifted error-severity columns reaches drift-share', () => {
    const profile = reference();
    const two = window(profile, 2000, ['a', 'b']);
    const result = checkDrift(profile, two, parseDriftRules('', 'drift.yml'));
    expect(result.features.filter((f) => f.drifted).map((f) => f.name)).toEqual(['a', 'b']);
    expect(result.dataset).toEqual({ share: 2 / 5, 'drift-share': 0.5, drifted: 2, tested: 5 });
    expect(result.drifted).toBe(false);
    const lower = checkDrift(profile, window(profile, 2000, ['a', 'b']), parseDriftRules('drift-share: 0.4\n', 'drift.yml'));
    expect(lower.drifted).toBe(true);
    // A warn-severity column is reported but does not count.
    const warned = checkDrift(profile, window(profile, 2000, ['a', 'b', 'c']), parseDriftRules('features:\n  c: { severity: warn }\n', 'drift.yml'));
    expect(warned.features.find((f) => f.name === 'c')!.drifted).toBe(true);
    expect(warned.dataset).toMatchObject({ drifted: 2, tested: 4, share: 0.5 });
    expect(warned.drifted).toBe(true);
  });

  it('reports categories the reference never had, and keeps chi-square finite', () => {
    const profile = reference();
    const data = window(profile, 1500, []);
    for (let i = 0; i < 300; i++) data.add('plan', i % 2 ? 'enterprise' : 'trial');
    const result = checkDrift(profile, data, parseDriftRules('', 'drift.yml'));
    const plan = result.features.find((f) => f.name === 'plan')!;
    expect(plan.new_categories).toEqual(['enterprise', 'trial']);
    expect(Number.isFinite(plan.statistic)).toBe(true);
    expect(plan.drifted).toBe(true);
  });
});

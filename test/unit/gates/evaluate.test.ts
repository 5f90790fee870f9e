import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveBaseline } from '../../../src/gates/baseline.ts';
import { evaluateGate, type GateResult } from '../../../src/gates/evaluate.ts';
import { parseRules } from '../../../src/gates/rules.ts';
import type { Leg } from '../../../src/metrics/legs.ts';
import { tempDir } from '../../helpers/tmp.ts';

const leg = (name: string, metrics: Record<string, number>): Leg => ({ name, file: `${name}/metrics.json`, metrics });
const gate = (rules: string, legs: Leg[], baseline?: Record<string, number>): GateResult =>
  evaluateGate(legs, parseRules(rules, 'gates.yml'), baseline ? { source: 'baseline.json', metrics: baseline } : null);
const check = (result: GateResult, legName: string, metric: string) => result.legs.find((l) => l.name === legName)!.checks.find((c) => c.metric === metric)!;

describe('evaluateGate', () => {
  it('passes one leg that meets min and max, with per-metric values and reasons', () => {
    const r = gate('metrics:\n  accuracy: { min: 0.9 }\n  latency.p99_ms: { max: 50 }', [leg('only', { accuracy: 0.93, 'latency.p99_ms': 12 })]);
    expect(r).toMatchObject({ passed: true, verdict: 'pass', bestLeg: 'only', select: 'accuracy', baseline: null });
    expect(check(r, 'only', 'accuracy')).toEqual({
      metric: 'accuracy', direction: 'higher', severity: 'error', value: 0.93, baseline: null, delta: null, deltaPercent: null, verdict: 'pass', reason: '≥ min 0.9',
    });
  });

  it('fails one leg below its floor and says why', () => {
    const r = gate('metrics:\n  accuracy: { min: 0.9 }', [leg('only', { accuracy: 0.85 })]);
    expect(r).toMatchObject({ passed: false, verdict: 'fail', bestLeg: null });
    expect(check(r, 'only', 'accuracy').reason).toBe('0.85: below min 0.9');
  });

  it('fails a leg missing a metric named in the rules, even a warn-only one', () => {
    const r = gate('metrics:\n  accuracy: { min: 0.9 }\n  rmse: { max: 1, severity: warn }', [leg('a', { accuracy: 0.95 })]);
    expect(r.passed).toBe(false);
    expect(check(r, 'a', 'rmse')).toMatchObject({ value: null, verdict: 'fail', reason: "missing from this leg's metrics" });
  });

  it('detects an absolute regression against the baseline, ignoring float noise at the limit', () => {
    const rules = 'metrics:\n  accuracy: { max-drop: 0.01 }';
    const atLimit = gate(rules, [leg('a', { accuracy: 0.92 })], { accuracy: 0.93 });
    expect(atLimit.passed).toBe(true);
    const over = gate(rules, [leg('a', { accuracy: 0.915 })], { accuracy: 0.93 });
    expect(over.passed).toBe(false);
    expect(check(over, 'a', 'accuracy')).toMatchObject({ baseline: 0.93, verdict: 'fail', reason: '0.915: drop 0.015 (1.61%) exceeds max-drop 0.01' });
    expect(check(over, 'a', 'accuracy').delta).toBeCloseTo(-0.015, 12);
    expect(check(over, 'a', 'accuracy').deltaPercent).toBeCloseTo(-1.6129, 3);
  });

  it('detects a percent regression relative to the baseline for lower-is-better metrics', () => {
    const rules = 'metrics:\n  latency.p99_ms: { max: 100, max-rise: 10% }';
    expect(gate(rules, [leg('a', { 'latency.p99_ms': 54.9 })], { 'latency.p99_ms': 50 }).passed).toBe(true);
    const slow = gate(rules, [leg('a', { 'latency.p99_ms': 56 })], { 'latency.p99_ms': 50 });
    expect(slow.passed).toBe(false);
    expect(check(slow, 'a', 'latency.p99_ms').reason).toBe('56: rise 6 (12%) exceeds max-rise 10%');
    // Getting faster is never a regression.
    expect(gate(rules, [leg('a', { 'latency.p99_ms': 10 })], { 'latency.p99_ms': 50 }).passed).toBe(true);
  });

  it('passes a metric the baseline lacks (a new metric) and says so', () => {
    const r = gate('metrics:\n  f1: { max-drop: 1% }', [leg('a', { f1: 0.5 })], { accuracy: 0.9 });
    expect(check(r, 'a', 'f1')).toMatchObject({ verdict: 'pass', baseline: null, reason: 'no baseline value to compare' });
  });

  it('warn severity reports without failing', () => {
    const r = gate('metrics:\n  accuracy: { min: 0.9 }\n  rmse: { direction: lower, max-rise: 0.02, severity: warn }', [leg('a', { accuracy: 0.95, rmse: 0.5 })], { rmse: 0.4 });
    expect(r).toMatchObject({ passed: true, verdict: 'warn', bestLeg: 'a' });
    expect(check(r, 'a', 'rmse')).toMatchObject({ verdict: 'warn', reason: '0.5: rise 0.1 (25%) exceeds max-rise 0.02' });
  });

  const legs = [leg('node-22', { accuracy: 0.91, f1: 0.7 }), leg('python-3.12', { accuracy: 0.95, f1: 0.9 }), leg('node-24', { accuracy: 0.93, f1: 0.9 })];

  it('aggregate best: the best passing leg by select decides, failing legs do not', () => {
    const r = gate('aggregate: best\nselect: accuracy\nmetrics:\n  accuracy: { min: 0.9 }\n  f1: { min: 0.8 }', legs);
    expect(r).toMatchObject({ passed: true, verdict: 'pass', bestLeg: 'python-3.12' });
    expect(r.legs.map((l) => [l.name, l.verdict])).toEqual([['python-3.12', 'pass'], ['node-24', 'pass'], ['node-22', 'fail']]);
  });

  it('aggregate best skips a better-ranked leg that fails another rule', () => {
    const r = gate('select: accuracy\nmetrics:\n  accuracy: { min: 0.9 }\n  f1: { min: 0.95 }', [leg('a', { accuracy: 0.99, f1: 0.5 }), leg('b', { accuracy: 0.92, f1: 0.96 })]);
    expect(r).toMatchObject({ passed: true, bestLeg: 'b' });
  });

  it('aggregate all: one failing leg fails the gate, best leg is still reported', () => {
    const r = gate('aggregate: all\nselect: accuracy\nmetrics:\n  accuracy: { min: 0.9 }\n  f1: { min: 0.8 }', legs);
    expect(r).toMatchObject({ passed: false, verdict: 'fail', bestLeg: 'python-3.12' });
    const ok = gate('aggregate: all\nmetrics:\n  accuracy: { min: 0.9 }', legs);
    expect(ok).toMatchObject({ passed: true, bestLeg: 'python-3.12' });
  });

  it('ranks by a lower-is-better select metric, legs missing it last', () => {
    const r = gate('select: rmse\nmetrics:\n  rmse: { max: 10 }', [leg('a', { rmse: 3 }), leg('b', {}), leg('c', { rmse: 1 })]);
    expect(r.legs.map((l) => l.name)).toEqual(['c', 'a', 'b']);
    expect(r.bestLeg).toBe('c');
  });

  it('fails when every leg fails under aggregate best', () => {
    const r = gate('metrics:\n  accuracy: { min: 0.99 }', legs);
    expect(r).toMatchObject({ passed: false, verdict: 'fail', bestLeg: null });
  });
});

describe('resolveBaseline', () => {
  it('reads a metrics file, or none', async () => {
    const dir = tempDir('baseline');
    await writeFile(join(dir, 'prod.json'), '{"accuracy": 0.9}');
    expect(await resolveBaseline('prod.json', { cwd: dir })).toEqual({ source: 'prod.json', metrics: { accuracy: 0.9 } });
    expect(await resolveBaseline('none', { cwd: dir })).toBeNull();
    await expect(resolveBaseline('missing.json', { cwd: dir })).rejects.toThrow(/baseline missing\.json: no such file/);
  });

  it('production without a resolver is a usage error naming the inputs to give', async () => {
    await expect(resolveBaseline('production', { cwd: '.' })).rejects.toThrow(/baseline: "production" needs .* manifest and remote inputs/);
  });

  it('production asks the pluggable resolver; nothing deployed means no baseline', async () => {
    expect(await resolveBaseline('production', { cwd: '.', resolveProductionBaseline: async () => ({ accuracy: 0.8 }) })).toEqual({ source: 'production', metrics: { accuracy: 0.8 } });
    expect(await resolveBaseline('production', { cwd: '.', resolveProductionBaseline: async () => ({ source: 'churn@sha256-ab', metrics: { a: 1 } }) })).toEqual({ source: 'churn@sha256-ab', metrics: { a: 1 } });
    let noticed = false;
    expect(await resolveBaseline('production', { cwd: '.', resolveProductionBaseline: async () => undefined, onNoProduction: () => (noticed = true) })).toBeNull();
    expect(noticed).toBe(true);
  });
});

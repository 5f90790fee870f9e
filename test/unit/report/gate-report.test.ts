import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateGate } from '../../../src/gates/evaluate.ts';
import { parseRules } from '../../../src/gates/rules.ts';
import { renderGateReport } from '../../../src/report/gate-report.ts';
import { mermaidBarChart } from '../../../src/report/chart.ts';
import { marker, startsWithMarker, withMarker } from '../../../src/report/marker.ts';
import { metricsComparisonTable, renderModelSummary } from '../../../src/report/model-summary.ts';
import { formatNumber } from '../../../src/metrics/format.ts';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'gates');
const rules = parseRules(
  'select: accuracy\nmetrics:\n  accuracy: { min: 0.9, max-drop: 0.01 }\n  latency.p99_ms: { max: 50, max-rise: 10% }\n  rmse: { direction: lower, max-rise: 0.02, severity: warn }\n',
  'gates.yml',
);
const baseline = { source: 'prod.json', metrics: { accuracy: 0.93, 'latency.p99_ms': 40, rmse: 0.3 } };

describe('renderGateReport', () => {
  it('renders several legs: verdict heading, per-leg columns with arrows, reasons and a Mermaid chart (golden file)', () => {
    const result = evaluateGate(
      [
        { name: 'node-22', file: 'a', metrics: { accuracy: 0.915, 'latency.p99_ms': 41, rmse: 0.31 } },
        { name: 'python-3.12', file: 'b', metrics: { accuracy: 0.95, 'latency.p99_ms': 39, rmse: 0.35 } },
      ],
      rules,
      baseline,
    );
    const report = renderGateReport(result, { rules, runUrl: 'https://github.com/acme/churn/actions/runs/1' });
    expect(report).toBe(readFileSync(join(fixtures, 'report-two-legs.md'), 'utf8'));
  });

  it('renders one leg with value, delta and verdict columns and no chart', () => {
    const result = evaluateGate([{ name: 'only', file: 'm.json', metrics: { accuracy: 0.91, 'latency.p99_ms': 45 } }], rules, baseline);
    const report = renderGateReport(result, { rules });
    expect(report).toContain('### ❌ Gate failed');
    expect(report).toContain('| Metric | Rule | Baseline | Value | Δ | Verdict |');
    expect(report).toContain('| `accuracy` | ≥ 0.9, drop ≤ 0.01 | 0.93 | 0.91 | ↓ -0.02 (-2.15%) | ❌ |');
    expect(report).toContain('| `latency.p99_ms` | ≤ 50, rise ≤ 10% | 40 | 45 | ↑ +5 (+12.5%) | ❌ |');
    expect(report).toContain('| `rmse` | rise ≤ 0.02, warn only | 0.3 | missing | — | ❌ |');
    expect(report).toContain("- ❌ `rmse` missing from this leg's metrics");
    expect(report).not.toContain('mermaid');
  });

  it('escapes names so they cannot break the table or inject HTML', () => {
    const pipes = parseRules('metrics:\n  a|b: { min: 0 }', 'g');
    const result = evaluateGate([
      { name: 'x|y', file: 'x', metrics: { 'a|b': 1 } },
      { name: '<img src=x onerror=alert(1)>', file: 'y', metrics: { 'a|b': 2 } },
    ], pipes, null);
    const rows = renderGateReport(result).split('\n').filter((l) => l.startsWith('| '));
    expect(rows[0]).toBe('| Metric | Baseline | `<img src=x onerror=alert(1)>` ★ | `x\\|y` |');
    expect(rows[2]).toBe('| `a\\|b` | — | 2 ✅ | 1 ✅ |');
  });
});

describe('mermaidBarChart', () => {
  it('draws bars per category with the baseline as a line, on an axis that shows the differences', () => {
    expect(mermaidBarChart({ title: 'accuracy by leg', axis: 'accuracy', categories: ['node "22"', 'py'], values: [0.91, 0.95], reference: 0.93 })).toBe(
      ['```mermaid', 'xychart-beta', '  title "accuracy by leg"', `  x-axis ["node '22'", "py"]`, '  y-axis "accuracy" 0.9 --> 0.96', '  bar [0.91, 0.95]', '  line [0.93, 0.93]', '```'].join('\n'),
    );
  });
});

describe('markers', () => {
  it('builds the hidden marker and finds it only at the start of a body', () => {
    expect(marker('gate', 'churn/production')).toBe('<!-- mlops-actions:gate:churn/production -->');
    const body = withMarker('gate', 'default', 'hello');
    expect(startsWithMarker(body, 'gate', 'default')).toBe(true);
    expect(startsWithMarker(body, 'gate', 'other')).toBe(false);
    expect(startsWithMarker(`> ${body}`, 'gate', 'default')).toBe(false);
    expect(() => marker('gate', 'a --> b')).toThrow(/comment-key: "a --> b" must be/);
  });
});

describe('model summary for pull request bodies', () => {
  it('compares a model with production and lists provenance', () => {
    const text = renderModelSummary({
      title: 'churn sha256-0123456789abcdef → production',
      metrics: { accuracy: 0.95, f1: 0.9 },
      baseline: { accuracy: 0.93, rmse: 1 },
      model: 'churn',
      version: 'sha256-0123456789abcdef',
      storageUri: 's3://models/models/churn/sha256-0123456789abcdef/',
      data: [{ path: 'data/train', md5: '5ea40360f5b4ec688df672a4db9c17d1.dir' }],
      repository: 'acme/churn',
      commit: 'a'.repeat(40),
      serverUrl: 'https://github.com',
      runUrl: 'https://github.com/acme/churn/actions/runs/9',
    });
    expect(text).toContain('| `accuracy` | 0.93 | 0.95 | ↑ +0.02 (+2.15%) |');
    expect(text).toContain('| `f1` | — | 0.9 | — |');
    expect(text).toContain('| `rmse` | 1 | — | — |');
    expect(text).toContain('- **Storage URI:** `s3://models/models/churn/sha256-0123456789abcdef/`');
    expect(text).toContain('- **Data:** `data/train` `5ea40360f5b4ec688df672a4db9c17d1.dir`');
    expect(text).toContain(`- **Commit:** [aaaaaaaaaaaa](https://github.com/acme/churn/commit/${'a'.repeat(40)}) in \`acme/churn\``);
    expect(text).toContain('- **Run:** [https://github.com/acme/churn/actions/runs/9](https://github.com/acme/churn/actions/runs/9)');
  });

  it('says when there is nothing in production', () => {
    expect(renderModelSummary({ title: 't', metrics: { a: 1 }, baseline: null })).toContain('_Nothing in production yet to compare with._');
    expect(metricsComparisonTable({ a: 1 }, null)).toContain('| `a` | — | 1 | — |');
  });
});

describe('formatNumber', () => {
  it.each([
    [0.1 + 0.2, '0.3'],
    [0.93, '0.93'],
    [12345.678, '12346'],
    [3, '3'],
    [0.00001234, '1.234e-5'],
    [-0.5, '-0.5'],
  ])('%s → %s', (n, text) => {
    expect(formatNumber(n)).toBe(text);
  });
});

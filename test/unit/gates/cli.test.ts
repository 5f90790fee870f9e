import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { tempDir } from '../../helpers/tmp.ts';

const workspace = join(import.meta.dirname, '..', '..', 'fixtures', 'gates', 'workspace');

async function mlops(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const logger = { debug() {}, info: (m: string) => err.push(m), notice: (m: string) => err.push(m), warning: (m: string) => err.push(m), error: (m: string) => err.push(m) };
  const code = await main(argv, { out: (t) => out.push(t), logger, cwd: workspace, env: {} });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('mlops gate', () => {
  it('prints the report and exits 0 when the gate passes (rules from .mlops/gates.yml by default)', async () => {
    const r = await mlops('gate', '--metrics', 'legs', '--baseline', 'baseline.json');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('### ✅ Gate passed — best leg `python-3.12`');
    expect(r.stdout).toContain('baseline `baseline.json`');
  });

  it('exits 1 when the gate fails', async () => {
    const r = await mlops('gate', '--metrics', 'legs/node-22', '--baseline', 'regressed-baseline.json');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('### ❌ Gate failed');
  });

  it('prints the typed result with --json', async () => {
    const r = await mlops('gate', '--metrics', 'legs/node-22', '--metrics', 'legs/python-3.12', '--rules', 'aggregate: all\nmetrics:\n  accuracy: { min: 0.92 }', '--json');
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ passed: false, verdict: 'fail', aggregate: 'all', select: 'accuracy', bestLeg: 'python-3.12', baseline: null });
    expect(result.legs[1]).toEqual({
      name: 'node-22',
      file: 'legs/node-22/metrics.json',
      verdict: 'fail',
      checks: [{ metric: 'accuracy', direction: 'higher', severity: 'error', value: 0.914, baseline: null, delta: null, deltaPercent: null, verdict: 'fail', reason: '0.914: below min 0.92' }],
    });
  });

  it.each([
    [['--metrics', 'broken'], /broken\/metrics\.json: key "f1" has value "NaN"/],
    [['--metrics', 'legs', '--rules', 'metrics:\n  accuracy: { mni: 1 }'], /rules \(inline YAML\): key "metrics\.accuracy\.mni" is not a known key; did you mean "min"\?/],
    [['--metrics', 'legs', '--rules', 'missing.yml'], /rules: "missing\.yml" does not exist/],
    [['--metrics', 'legs', '--baseline', 'broken/metrics.json'], /baseline broken\/metrics\.json: key "f1" has value "NaN"/],
    [['--metrics', 'legs', '--baseline', 'production'], /baseline: "production" needs/],
    [[], /metrics: nothing given/],
    [['--metrics', 'legs', '--bogus'], /Unknown option '--bogus'/],
  ])('exits 2 on bad input %j with one line naming the file and key', async (args, pattern) => {
    const r = await mlops('gate', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  it('has --help', async () => {
    const r = await mlops('gate', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: mlops gate --metrics <path>...');
    // In the synopsis and in the options table.
    expect(r.stdout.match(/--baseline <file\|none\|production>/g)).toHaveLength(2);
  });
});

describe('mlops gate on bad metrics files', () => {
  it.each([
    ['NaN', '{"accuracy": NaN}', 'key "accuracy" has value "NaN"'],
    ['Infinity', '{"accuracy": Infinity}', 'key "accuracy" has value "Infinity"'],
    ['a string', '{"accuracy": "high"}', 'key "accuracy" is text, not a finite number'],
    ['null', '{"latency": {"p99_ms": null}}', 'key "latency.p99_ms" has value null'],
    ['a boolean', '{"accuracy": false}', 'key "accuracy" has value false'],
    ['a duplicate key', '{"accuracy": 0.9, "accuracy": 0.8}', 'key "accuracy" appears twice'],
    ['__proto__', '{"__proto__": {"accuracy": 1}}', 'key "__proto__" is not allowed'],
  ])('exits 2 on %s, naming the file and key', async (_name, text, message) => {
    const { mkdir, writeFile } = await import('node:fs/promises');
    const dir = tempDir('gate-cli');
    await mkdir(join(dir, 'leg'));
    await writeFile(join(dir, 'leg', 'metrics.json'), text);
    const err: string[] = [];
    const logger = { debug() {}, info() {}, notice() {}, warning() {}, error: (m: string) => err.push(m) };
    const code = await main(['gate', '--metrics', 'leg', '--rules', 'metrics:\n  accuracy: { min: 0 }'], { out: () => {}, logger, cwd: dir, env: {} });
    expect(code).toBe(2);
    expect(err.join('\n')).toContain(`mlops gate: leg/metrics.json: ${message}`);
  });
});

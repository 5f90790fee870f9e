// The profile format (DESIGN §4.8): written and read back, every bad field refused with where it is,
// categories capped at 1,000 plus __other__, exact values only within 32 KB; and the report's escaping.
import { describe, expect, it } from 'vitest';
import { checkDrift } from '../../../src/drift/check.ts';
import { CurrentData } from '../../../src/drift/current.ts';
import { MAX_CATEGORIES, OTHER, buildProfile, categoricalProfile, numericProfile, parseProfile, serializeProfile } from '../../../src/drift/profile.ts';
import { renderDriftReport } from '../../../src/drift/report.ts';
import { parseDriftRules } from '../../../src/drift/rules.ts';
import type { DriftResult } from '../../../src/drift/run.ts';
import { sortFloat64 } from '../../../src/drift/sort.ts';
import { logSafe } from '../../../src/drift/write-file.ts';
import { sampler } from '../../helpers/scipy.ts';

const s = sampler(3);

describe('profile.json', () => {
  it('reads back what it writes, byte for byte, one column per line', () => {
    const profile = buildProfile(3000, [
      { name: 'x', values: s.normals(3000) },
      { name: 'k', values: s.ties(3000) },
      { name: 'plan', values: Array.from({ length: 3000 }, (_, i) => `p${i % 7}`) },
      { name: 'empty', values: Array(3000).fill('') },
    ], [{ name: 'score', values: s.normals(3000) }], [{ name: 'input', features: ['x', 'k', 'plan', 'empty'] }]);
    const text = serializeProfile(profile);
    expect(text.split('\n').slice(0, 4)).toEqual(['{', '  "schema": "mlops-actions/profile/v1",', '  "rows": 3000,', '  "epsilon": 0.0001,']);
    expect(serializeProfile(parseProfile(text, 'p.json'))).toBe(text);
    expect(profile.features.map((f) => f.kind)).toEqual(['numeric', 'numeric', 'categorical', 'numeric']);
  });

  it('refuses a hostile or broken profile, naming the field', () => {
    const good = JSON.parse(serializeProfile(buildProfile(10, [{ name: 'x', values: s.normals(10) }]))) as Record<string, unknown> & { features: Record<string, unknown>[] };
    const bad = (edit: (p: typeof good) => void) => {
      const copy = structuredClone(good);
      edit(copy);
      return () => parseProfile(JSON.stringify(copy), 's3://b/profile.json');
    };
    expect(bad((p) => (p.schema = 'mlops-actions/profile/v2'))).toThrow(/s3:\/\/b\/profile\.json: schema: must be "mlops-actions\/profile\/v1"/);
    expect(bad((p) => (p.epsilon = 0))).toThrow(/epsilon: must be a number in \(0, 0\.1\]/);
    expect(bad((p) => ((p.features[0]!.quantiles as number[])[5] = -1e9))).toThrow(/features\[0\] \("x"\)\.quantiles\[5\]: is below the previous quantile/);
    expect(bad((p) => ((p.features[0]!.quantiles as number[]).pop()))).toThrow(/quantiles: must hold 1001 points, got 1000/);
    expect(bad((p) => ((p.features[0]!.bins as { shares: number[] }).shares = [1]))).toThrow(/bins\.shares: must hold one share per bin/);
    expect(bad((p) => (p.features[0]!.count = -3))).toThrow(/count: must be a whole number ≥ 0, got -3/);
    expect(bad((p) => (p.features[0]!.kind = 'image'))).toThrow(/kind: must be "numeric" or "categorical"/);
    expect(bad((p) => p.features.push({ ...p.features[0]! }))).toThrow(/name "x" appears twice/);
    expect(() => parseProfile('{"schema": "mlops-actions/profile/v1", "rows": 1, "epsilon": 0.0001, "features": [{"name": "c", "kind": "categorical", "count": 2, "nulls": 0, "distinct": 1, "counts": {"__proto__": 1, "a": 5}}]}', 'p')).toThrow(/counts: add up to 6, but count is 2/);
    const proto = parseProfile('{"schema": "mlops-actions/profile/v1", "rows": 6, "epsilon": 0.0001, "features": [{"name": "c", "kind": "categorical", "count": 6, "nulls": 0, "distinct": 2, "counts": {"__proto__": 1, "a": 5}}]}', 'p');
    const column = proto.features[0]!;
    expect(column.kind === 'categorical' && [...column.counts.keys()]).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).a).toBeUndefined();
    expect(() => parseProfile('not json', 'p')).toThrow(/p: is not JSON/);
  });

  it('keeps the 1,000 most frequent categories and pools the rest in __other__', () => {
    const values = Array.from({ length: 5000 }, (_, i) => `c${i % 1500}`).concat(Array(100).fill('top'));
    const c = categoricalProfile('many', values);
    expect(c.counts.size).toBe(MAX_CATEGORIES + 1);
    expect([...c.counts.keys()][0]).toBe('top');
    expect(c.distinct).toBe(1501);
    expect(c.counts.get(OTHER)).toBe(5100 - [...c.counts.entries()].filter(([k]) => k !== OTHER).reduce((a, [, n]) => a + n, 0));
  });

  it('keeps exact values only while the column fits in 32 KB', () => {
    const few = numericProfile('few', Array.from({ length: 20_000 }, (_, i) => i % 50));
    expect(few.exact?.values.length).toBe(50);
    const wide = numericProfile('wide', Array.from({ length: 20_000 }, (_, i) => (i % 1000) + Math.PI * 1e-7 * i));
    expect(wide.exact).toBeUndefined();
    expect(Buffer.byteLength(JSON.stringify(wide))).toBeLessThanOrEqual(32 * 1024);
  });
});

describe('sortFloat64', () => {
  it('sorts like Float64Array.prototype.sort: negatives, zeros, duplicates, large and small arrays', () => {
    for (const n of [0, 1, 5, 4095, 4096, 50_000]) {
      const values = Float64Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : i % 11 === 0 ? -0 : Math.round(s.normal() * 1e4) / 100 * (i % 3 === 0 ? 1e-300 : 1)));
      expect(Array.from(sortFloat64(values.slice())).map(String)).toEqual(Array.from(values.slice().sort()).map(String));
    }
  });
});

describe('the drift report', () => {
  it('escapes names and categories from the data in the table, the notes and the Mermaid charts', () => {
    const evil = 'a|b<script>`x`\n::error::';
    const profile = buildProfile(2000, [
      { name: evil, values: s.normals(2000) },
      { name: 'plan', values: Array.from({ length: 2000 }, (_, i) => `p${i % 2}`) },
    ]);
    const data = new CurrentData(profile);
    for (let i = 0; i < 2000; i++) {
      data.addNumber(evil, s.normal() + 2);
      data.add('plan', i % 3 === 0 ? '"]\n```\n<img src=x>' : `p${i % 2}`);
    }
    data.seen.add(evil);
    data.seen.add('plan');
    data.rows = 2000;
    const check = checkDrift(profile, data, parseDriftRules('', 'r'));
    const result = { ...check, 'min-rows': 1000, model: 'churn<b>', version: null, profile: 'p.json', window: { since: null, until: null, first: null, last: null, key: 'k' }, records: { records: 0, requests: 0, responses: 0, malformed: 0, examples: [], outside: 0, unpairedRequests: 0, unpairedResponses: 0, duplicates: 0, mismatched: 0, fast: 0 }, sources: [] } as unknown as DriftResult;
    const report = renderDriftReport(result);
    // Raw HTML only ever inside code spans, where GitHub shows it as text.
    const outsideCode = report.replace(/```mermaid[\s\S]*?```/g, '').replace(/(`+)[\s\S]*?\1/g, '');
    expect(outsideCode).not.toMatch(/<script>|<img|<b>/);
    expect(report).not.toMatch(/^::error::/m);
    // Every fence that opens closes: data never starts a line with ``` (code spans keep it on one line).
    expect(report.split('\n').filter((l) => l.startsWith('```')).length % 2).toBe(0);
    for (const block of report.split('```mermaid').slice(1)) {
      const chart = block.slice(0, block.indexOf('```'));
      expect(chart.replace(/ --> /g, ' ')).not.toMatch(/[<>`]/);
      for (const line of chart.trim().split('\n').filter((l) => /x-axis|title/.test(l))) expect(line.match(/"/g)!.length % 2).toBe(0);
    }
    expect(report).toMatch(/x-axis \["≤ -?\d[^\]]*"› \d/);
    expect(logSafe('id\n::error::boom')).toBe('id\\u000a::error::boom');
  });
});

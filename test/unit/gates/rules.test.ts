import { describe, expect, it } from 'vitest';
import { usageMessage } from '../../helpers/usage-error.ts';
import { parseRules } from '../../../src/gates/rules.ts';

const rejects = (text: string): string => usageMessage(() => parseRules(text, 'gates.yml'));

describe('parseRules', () => {
  it('reads the DESIGN example with directions implied by min, max, max-drop and max-rise', () => {
    const rules = parseRules(
      `aggregate: best
select: accuracy
baseline: production
metrics:
  accuracy: { min: 0.90, max-drop: 0.01 }
  f1:       { min: 0.85, max-drop: 2% }
  latency.p99_ms: { max: 50, max-rise: 10% }
  rmse:     { direction: lower, max-rise: 0.02, severity: warn }
`,
      'gates.yml',
    );
    expect(rules.aggregate).toBe('best');
    expect(rules.select).toBe('accuracy');
    expect(rules.baseline).toBe('production');
    expect(Object.fromEntries(rules.metrics)).toEqual({
      accuracy: { min: 0.9, direction: 'higher', maxDrop: { kind: 'absolute', amount: 0.01 }, severity: 'error' },
      f1: { min: 0.85, direction: 'higher', maxDrop: { kind: 'percent', amount: 2 }, severity: 'error' },
      'latency.p99_ms': { max: 50, direction: 'lower', maxRise: { kind: 'percent', amount: 10 }, severity: 'error' },
      rmse: { direction: 'lower', maxRise: { kind: 'absolute', amount: 0.02 }, severity: 'warn' },
    });
  });

  it('defaults to aggregate best and selects the first metric with a direction', () => {
    const rules = parseRules('metrics:\n  size_mb: { min: 1, max: 100 }\n  rmse: { max: 3 }\n', 'g');
    expect(rules.aggregate).toBe('best');
    expect(rules.select).toBe('rmse');
    expect(rules.baseline).toBeUndefined();
  });

  it.each([
    ['a typo in a rule key', 'metrics:\n  accuracy: { mni: 0.9 }', /gates\.yml: key "metrics\.accuracy\.mni" is not a known key; did you mean "min"\?/],
    ['a typo in a top-level key', 'agregate: all\nmetrics:\n  a: { min: 1 }', /key "agregate" is not a known key; did you mean "aggregate"\?/],
    ['nested metrics written as a tree', 'metrics:\n  latency: { p99_ms: { max: 5 } }', /key "metrics\.latency\.p99_ms" is not a rule key; write nested metrics with a dot, as "latency\.p99_ms"/],
    ['a bad percent', 'metrics:\n  f1: { min: 0.5, max-drop: "2 percent" }', /key "metrics\.f1\.max-drop" has value "2 percent": must be a number ≥ 0 or a percent/],
    ['a negative tolerance', 'metrics:\n  f1: { max-drop: -1 }', /key "metrics\.f1\.max-drop" has value -1/],
    ['a bad aggregate', 'aggregate: any\nmetrics:\n  a: { min: 1 }', /key "aggregate" has value "any"/],
    ['a bad severity', 'metrics:\n  a: { min: 1, severity: info }', /key "metrics\.a\.severity" has value "info"/],
    ['a string min', 'metrics:\n  a: { min: "high" }', /key "metrics\.a\.min" has value "high"/],
    ['no metrics', 'aggregate: all', /key "metrics" is missing/],
    ['empty metrics', 'metrics: {}', /key "metrics".*at least one metric/],
    ['a rule that is not a mapping', 'metrics:\n  a: 0.9', /key "metrics\.a" has value 0\.9; give it a mapping/],
    ['min above max', 'metrics:\n  a: { min: 2, max: 1 }', /key "metrics\.a" has min 2 above max 1/],
    ['max-rise on a higher-is-better metric', 'metrics:\n  a: { direction: higher, max-rise: 1 }', /max-rise.*use max-drop/],
    ['both tolerances', 'metrics:\n  a: { max-drop: 1, max-rise: 1 }', /both max-drop and max-rise/],
    ['a rule that checks nothing', 'metrics:\n  a: { severity: warn }', /key "metrics\.a" checks nothing/],
    ['select naming an unknown metric', 'select: acuracy\nmetrics:\n  accuracy: { min: 1 }', /key "select" has value "acuracy".*did you mean "accuracy"\?/],
    ['select of a range with no direction', 'select: a\nmetrics:\n  a: { min: 1, max: 2 }', /"a", which has no direction/],
    ['duplicate keys', 'metrics:\n  a: { min: 1 }\n  a: { min: 2 }', /gates\.yml:3:3: not valid YAML: Map keys must be unique \(key "a" appears twice\)/],
    ['not a mapping', '- a', /must be a YAML mapping/],
  ])('rejects %s with the file and key', (_name, text, pattern) => {
    expect(rejects(text)).toMatch(pattern);
  });
});

// The gate report's params-vs-metric table: legs' params from their run.json, ranked by the select metric.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { evaluateGate } from '../../../src/gates/evaluate.ts';
import { parseRules } from '../../../src/gates/rules.ts';
import { silentLogger } from '../../../src/log.ts';
import { renderGateReport } from '../../../src/report/gate-report.ts';
import { paramsTable, readLegParams } from '../../../src/report/params-table.ts';
import { tempDir } from '../../helpers/tmp.ts';

const rules = parseRules('select: log_loss\nmetrics:\n  log_loss: { max: 0.6 }\n  accuracy: { min: 0.5 }\n', 'gates.yml');

function leg(dir: string, name: string, params: unknown, metrics: Record<string, number>, runLeg = name): void {
  const folder = join(dir, 'legs', `mlops-churn-${name}`);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'metrics.json'), JSON.stringify(metrics));
  writeFileSync(join(folder, 'run.json'), JSON.stringify({ schema: 'mlops-actions/run/v1', leg: runLeg, params, metrics: 'metrics.json' }));
}

describe('params table', () => {
  it('ranks sweep legs by the select metric (lower is better here), one column per varying param', async () => {
    const dir = tempDir('params-table');
    leg(dir, 'c-0.01', { c: 0.01, solver: 'newton', seed: 1 }, { log_loss: 0.55, accuracy: 0.8 });
    leg(dir, 'c-1', { c: 1, solver: 'newton', seed: 1 }, { log_loss: 0.41, accuracy: 0.86 });
    leg(dir, 'c-100', { c: 100, solver: 'newton', seed: 1 }, { log_loss: 0.7, accuracy: 0.84 });
    const out: string[] = [];
    const code = await main(['gate', '--metrics', 'legs', '--rules', 'select: log_loss\nmetrics:\n  log_loss: { max: 0.6 }\n  accuracy: { min: 0.5 }\n'], { cwd: dir, out: (t) => out.push(t), logger: silentLogger });
    expect(code).toBe(0);
    const report = out.join('\n');
    const table = report.slice(report.indexOf('**Params by `log_loss`**'));
    expect(table.split('\n').slice(0, 7)).toEqual([
      '**Params by `log_loss`** (best first)',
      '',
      '| # | Leg | `c` | `log_loss` |',
      '| ---: | --- | ---: | ---: |',
      '| 1 | `c-1` ★ | 1 | 0.41 |',
      '| 2 | `c-0.01` | 0.01 | 0.55 |',
      '| 3 | `c-100` | 100 | 0.7 |',
    ]);
    // It sits after the metrics table and before the chart.
    expect(report.indexOf('| Metric |')).toBeLessThan(report.indexOf('**Params by'));
    expect(report.indexOf('**Params by')).toBeLessThan(report.indexOf('```mermaid'));
  });

  it('flattens nested params, escapes hostile values, and ignores a run.json that belongs to another leg', async () => {
    const dir = tempDir('params-hostile');
    leg(dir, 'a', { opt: { name: '<img src=x onerror=alert(1)>|', lr: 0.1 } }, { log_loss: 0.3, accuracy: 0.9 });
    leg(dir, 'b', { opt: { name: 'sgd', lr: 0.2 } }, { log_loss: 0.4, accuracy: 0.9 });
    leg(dir, 'c', { opt: { name: 'forged', lr: 9 } }, { log_loss: 0.5, accuracy: 0.9 }, 'someone-else');
    const legs = [
      { name: 'a', file: 'legs/mlops-churn-a/metrics.json', metrics: { log_loss: 0.3, accuracy: 0.9 } },
      { name: 'b', file: 'legs/mlops-churn-b/metrics.json', metrics: { log_loss: 0.4, accuracy: 0.9 } },
      { name: 'c', file: 'legs/mlops-churn-c/metrics.json', metrics: { log_loss: 0.5, accuracy: 0.9 } },
    ];
    const params = await readLegParams(legs, dir);
    expect([...params.keys()].sort()).toEqual(['a', 'b']);
    const text = paramsTable(evaluateGate(legs, rules, null), params);
    expect(text).toContain('| # | Leg | `opt.name` | `opt.lr` | `log_loss` |');
    expect(text).toContain('| 1 | `a` ★ | `<img src=x onerror=alert(1)>\\|` | 0.1 | 0.3 |');
    expect(text).not.toContain('forged');
  });

  it('is left out when fewer than two legs have params or none differ, and never reads outside the workspace', async () => {
    const dir = tempDir('params-none');
    leg(dir, 'x', { c: 1 }, { log_loss: 0.3, accuracy: 0.9 });
    leg(dir, 'y', { c: 1 }, { log_loss: 0.4, accuracy: 0.9 });
    const legs = ['x', 'y'].map((n) => ({ name: n, file: `legs/mlops-churn-${n}/metrics.json`, metrics: { log_loss: 0.3, accuracy: 0.9 } }));
    const result = evaluateGate(legs, rules, null);
    expect(paramsTable(result, await readLegParams(legs, dir))).toBe('');
    expect(paramsTable(result, new Map([['x', { c: 1 }]]))).toBe('');
    expect(renderGateReport(result, { rules, legParams: await readLegParams(legs, dir) })).not.toContain('Params by');
    // The run.json above the workspace is not read.
    const inner = join(dir, 'legs');
    expect((await readLegParams([{ name: 'x', file: 'metrics.json' }], join(inner, 'mlops-churn-x', 'nothing-here'))).size).toBe(0);
  });
});

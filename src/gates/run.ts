import type { Logger } from '../log.ts';
import { discoverLegs } from '../metrics/legs.ts';
import { resolveBaseline, type ProductionBaselineResolver } from './baseline.ts';
import { evaluateGate, type GateResult } from './evaluate.ts';
import { loadRules, type GateRules } from './rules.ts';

export interface GateSettings {
  /** Files, folders, globs or name=path entries; see discoverLegs. */
  metrics: readonly string[];
  /** A rules file path or inline YAML. */
  rules: string;
  /** Overrides the rules' `baseline`: `none`, `production` or a metrics file. */
  baseline?: string;
  cwd: string;
}

export interface GateDeps {
  logger: Logger;
  resolveProductionBaseline?: ProductionBaselineResolver;
}

export interface GateRun {
  result: GateResult;
  rules: GateRules;
}

/** Reads the rules, the legs' metrics and the baseline, and decides. Bad input throws UsageError. */
export async function runGate(settings: GateSettings, deps: GateDeps): Promise<GateRun> {
  const rules = await loadRules(settings.rules, settings.cwd);
  const legs = await discoverLegs(settings.metrics, settings.cwd);
  deps.logger.debug(`gate: ${legs.length} leg(s): ${legs.map((l) => `${l.name} (${l.file})`).join(', ')}`);
  const baseline = await resolveBaseline(settings.baseline ?? rules.baseline ?? 'none', {
    cwd: settings.cwd,
    ...(deps.resolveProductionBaseline && { resolveProductionBaseline: deps.resolveProductionBaseline }),
    onNoProduction: () => deps.logger.notice('baseline: nothing is deployed to production yet, so the gate compares with no baseline'),
  });
  return { result: evaluateGate(legs, rules, baseline), rules };
}

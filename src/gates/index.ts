export { parseRules, loadRules, type GateRules, type MetricRule, type Direction, type Severity, type Tolerance } from './rules.ts';
export { evaluateGate, checkMetric, type GateResult, type LegResult, type MetricCheck, type Verdict, type Baseline, type ProductionOrigin } from './evaluate.ts';
export { resolveBaseline, type ProductionBaselineResolver } from './baseline.ts';
export { runGate, type GateSettings, type GateDeps, type GateRun } from './run.ts';

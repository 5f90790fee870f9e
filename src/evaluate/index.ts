/** Public surface of the evaluate core, for the CLI, the action and the demo. */
export { evaluateModel, DEFAULTS, TASKS, type EvaluateSettings, type EvaluateDeps, type EvaluateResult } from './evaluate.ts';
export { evaluateSettings, DEFAULT_OUT, type RawEvaluateOptions } from './settings.ts';
export { classificationMetrics, regressionMetrics, percentile, nestMetrics, type Metrics } from './metrics.ts';
export { loadOnnxRuntime, ensureInstalled, locate, cacheDir, ONNXRUNTIME_VERSION, type OnnxRuntime } from './onnxruntime-loader.ts';
export { writeEvaluationBundle, EVALUATION_FILE, EVALUATION_SCHEMA } from './bundle.ts';
export { readTable, numericColumn, type Table } from './table.ts';
export type { Task, TensorInfo } from './signature.ts';

/** Public surface of `mlops serve`'s core, for the CLI, the demo, rollout's tests and drift. */
export { startServer, SERVE_DEFAULTS, SERVER_NAME, type ServeOptions, type ServeDeps, type RunningServer, type CloseSummary } from './server.ts';
export { PayloadLog, REQUEST_EVENT, RESPONSE_EVENT, type PayloadLogSettings, type PayloadLogDeps } from './payload-log.ts';
export { PayloadEventSchema, parsePayloadLine, type PayloadEvent } from './payload-event.ts';
export { ServeMetrics, LATENCY_BUCKETS } from './metrics.ts';
export { OIP_DATATYPE, TensorError } from './tensors.ts';
export { ONNX_PLATFORM } from './model.ts';

export { parseMetrics, type Metrics } from './parse.ts';
export { readMetricsFile } from './read.ts';
export { discoverLegs, type Leg } from './legs.ts';

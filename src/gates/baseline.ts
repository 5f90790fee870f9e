import { resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import type { Metrics } from '../metrics/parse.ts';
import { readMetricsFile } from '../metrics/read.ts';
import type { Baseline } from './evaluate.ts';

/**
 * The seam for `baseline: production`: reads the metrics of the model version the GitOps manifest deploys
 * (DESIGN §4.2). Returns undefined when nothing is deployed yet (the first rollout), so the gate runs with
 * no baseline. It may return bare metrics or metrics with a source to show in the report.
 */
export type ProductionBaselineResolver = () => Promise<Metrics | Baseline | undefined>;

export interface BaselineOptions {
  cwd: string;
  resolveProductionBaseline?: ProductionBaselineResolver;
  /** Called when production has no deployed model yet. */
  onNoProduction?: () => void;
}

/** `none` | `production` | a metrics file path → the baseline, or null for none. */
export async function resolveBaseline(spec: string, options: BaselineOptions): Promise<Baseline | null> {
  const value = spec.trim();
  if (value === '' || value === 'none') return null;
  if (value === 'production') {
    if (!options.resolveProductionBaseline) {
      throw new UsageError(
        'baseline: "production" needs the GitOps manifest and the model remote to find the deployed version; give the manifest and remote inputs (--manifest, --remote), or set baseline to a metrics file or none',
      );
    }
    const found = await options.resolveProductionBaseline();
    if (found === undefined) {
      options.onNoProduction?.();
      return null;
    }
    return isBaseline(found) ? found : { source: 'production', metrics: found };
  }
  return { source: value, metrics: await readMetricsFile(resolve(options.cwd, value), `baseline ${value}`) };
}

function isBaseline(value: Metrics | Baseline): value is Baseline {
  const candidate = value as Partial<Baseline>;
  return typeof candidate.metrics === 'object' && candidate.metrics !== null && typeof candidate.source === 'string';
}

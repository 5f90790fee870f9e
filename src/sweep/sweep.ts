import type { Logger } from '../log.ts';
import { expandSpace, type Sweep } from './expand.ts';
import { loadSpace, type SearchSpace } from './space.ts';

export interface SweepSettings {
  /** A search-space file, or inline YAML. */
  space: string;
  /** Override the space's seed and count. */
  seed?: number;
  count?: number;
  cwd: string;
}

/** `strategy.matrix: ${{ fromJSON(needs.sweep.outputs.matrix) }}` takes this as it is. */
export interface SweepMatrix {
  include: { leg: string; params: Record<string, unknown> }[];
}

export interface SweepResult extends Sweep {
  matrix: SweepMatrix;
}

export async function runSweep(settings: SweepSettings, deps: { logger: Logger }): Promise<SweepResult> {
  const loaded = await loadSpace(settings.space, settings.cwd);
  const space: SearchSpace = {
    ...loaded,
    ...(settings.seed !== undefined && { seed: settings.seed }),
    ...(settings.count !== undefined && { count: settings.count }),
  };
  const sweep = expandSpace(space);
  if (sweep.duplicates > 0) deps.logger.warning(`sweep: ${sweep.duplicates} random point(s) repeated an earlier one and were dropped; the space has fewer distinct points than count`);
  deps.logger.info(`sweep: ${sweep.legs.length} leg(s)${sweep.seed !== undefined && space.random.length > 0 ? ` (seed ${sweep.seed})` : ''}`);
  return { ...sweep, matrix: { include: sweep.legs.map(({ leg, params }) => ({ leg, params })) } };
}

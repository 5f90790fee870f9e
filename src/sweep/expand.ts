import { UsageError } from '../errors.ts';
import { MAX_LEG_LENGTH, canonicalJson, legName, withHash } from './leg-name.ts';
import { Pcg32, fnv1a64 } from './pcg32.ts';
import { MAX_LEGS, type Distribution, type ParamPath, type Scalar, type SearchSpace } from './space.ts';

/** Random floats keep this many significant digits (readable params; immune to last-bit differences in exp/log). */
export const RANDOM_DIGITS = 6;

export interface SweepLeg {
  leg: string;
  params: Record<string, unknown>;
}

export interface Sweep {
  legs: SweepLeg[];
  /** Random points equal to an earlier one, dropped (choice-only spaces repeat). */
  duplicates: number;
  seed?: number;
}

/**
 * Every leg of the search space, in a stable order: the grid's combinations (the last key varying fastest,
 * like nested loops in the order written); with `random:`, each grid point gets the next `count` random draws.
 *
 * Each random parameter draws from its own PCG32 stream (seed = `seed`, stream = FNV-1a of its dotted name),
 * so its values do not change when other parameters are added, removed or reordered, and raising `count`
 * keeps the first points. uniform: `low + u·(high − low)`; log-uniform: `exp(ln low + u·(ln high − ln low))`,
 * with `u` a 53-bit double in [0, 1), rounded to 6 significant digits and kept in [low, high]; choice: an
 * unbiased index (pcg32_boundedrand_r).
 */
export function expandSpace(space: SearchSpace): Sweep {
  const { count, seed } = space;
  if (space.random.length > 0 && count === undefined) throw new UsageError('count: is not set: random search needs count: <number of points> (in the space or as the count input)');
  if (space.random.length > 0 && seed === undefined) throw new UsageError('seed: is not set: random search needs seed: <whole number> so that its points are reproducible');
  const perGridPoint = space.random.length > 0 ? (count as number) : 1;
  const gridSize = space.grid.reduce((n, d) => n * d.values.length, 1);
  const total = gridSize * perGridPoint;
  if (total > MAX_LEGS) {
    const how = space.random.length > 0 ? `${gridSize} grid point(s) × count ${perGridPoint}` : space.grid.map((d) => d.values.length).join(' × ');
    throw new UsageError(`space: expands to ${total} legs (${how}); a GitHub Actions matrix runs at most ${MAX_LEGS} jobs: shrink the grid or the count`);
  }
  const streams = space.random.map((d) => new Pcg32(BigInt(seed as number), fnv1a64(d.path.join('.'))));
  const points: { path: ParamPath; value: Scalar }[][] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  for (let g = 0; g < gridSize; g++) {
    const gridValues = gridPoint(space, g);
    for (let j = 0; j < perGridPoint; j++) {
      const values = [...gridValues, ...space.random.map((d, i) => ({ path: d.path, value: draw(d.distribution, streams[i] as Pcg32) }))];
      const id = canonicalJson(values.map((v) => [v.path, v.value]));
      if (seen.has(id)) {
        duplicates++;
        continue;
      }
      seen.add(id);
      points.push(values);
    }
  }
  return { legs: nameLegs(points), duplicates, ...(seed !== undefined && { seed }) };
}

/** The g-th combination of the grid, last dimension fastest. */
function gridPoint(space: SearchSpace, g: number): { path: ParamPath; value: Scalar }[] {
  const out: { path: ParamPath; value: Scalar }[] = [];
  let rest = g;
  for (let i = space.grid.length - 1; i >= 0; i--) {
    const dim = space.grid[i]!;
    out.unshift({ path: dim.path, value: dim.values[rest % dim.values.length]! });
    rest = Math.floor(rest / dim.values.length);
  }
  return out;
}

function draw(distribution: Distribution, rng: Pcg32): Scalar {
  if (distribution.kind === 'choice') return distribution.values[rng.nextBelow(distribution.values.length)]!;
  const { low, high } = distribution;
  const u = rng.nextDouble();
  const x = distribution.kind === 'uniform' ? low + u * (high - low) : Math.exp(Math.log(low) + u * (Math.log(high) - Math.log(low)));
  return Math.min(high, Math.max(low, Number(x.toPrecision(RANDOM_DIGITS))));
}

/** Names from the parameters whose values differ between legs; colliding or long names get a params hash. */
function nameLegs(points: { path: ParamPath; value: Scalar }[][]): SweepLeg[] {
  const keys = points[0]?.map((v) => v.path.join('.')) ?? [];
  const varying = keys.filter((_, i) => new Set(points.map((p) => JSON.stringify(p[i]!.value))).size > 1);
  const shown = varying.length > 0 ? varying : keys;
  const legs = points.map((values) => {
    const params = nest(values);
    return { leg: legName(values.filter((v) => shown.includes(v.path.join('.'))).map((v) => ({ key: v.path.join('.'), value: v.value }))), params };
  });
  const counts = new Map<string, number>();
  for (const { leg } of legs) counts.set(leg, (counts.get(leg) ?? 0) + 1);
  for (const leg of legs) {
    if ((counts.get(leg.leg) ?? 0) > 1 || leg.leg.length > MAX_LEG_LENGTH) leg.leg = withHash(leg.leg, leg.params);
  }
  return legs;
}

function nest(values: { path: ParamPath; value: Scalar }[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const { path, value } of values) {
    let node = root;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[path.at(-1) as string] = value;
  }
  return root;
}

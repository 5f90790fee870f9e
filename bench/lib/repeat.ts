// Every benchmark row is the median of several runs, shown with its spread.

export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function spread(runs: number[]): Spread {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number, runs };
}

/** Runs `measure` `times` times (default BENCH_RUNS or 3), one after another, and returns the figures' spread. */
export async function repeat(measure: () => Promise<number> | number, times = Number(process.env.BENCH_RUNS ?? 3)): Promise<Spread> {
  const runs: number[] = [];
  for (let i = 0; i < times; i++) runs.push(await measure());
  return spread(runs);
}

/** `1.23 (1.20–1.31)`: the median with min–max, in the unit's digits. */
export function formatSpread(s: Spread, digits = 2): string {
  return s.runs.length === 1 ? s.median.toFixed(digits) : `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

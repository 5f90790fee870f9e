/**
 * Debian's scipy (python3-scipy 1.10 at /usr/bin/python3) as the oracle for the drift statistics:
 * `scipy(cases)` runs test/fixtures/drift/oracle.py once for a batch of cases and returns its answers.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const PYTHON = '/usr/bin/python3';
const ORACLE = join(import.meta.dirname, '..', 'fixtures', 'drift', 'oracle.py');

export type OracleAnswer = number | number[] | { error: string };

export function scipy(cases: Record<string, unknown>[]): OracleAnswer[] {
  const out = spawnSync(PYTHON, [ORACLE], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 1 << 30 });
  if (out.status !== 0) throw new Error(`the scipy oracle failed (is python3-scipy installed at ${PYTHON}?):\n${out.stderr}`);
  return JSON.parse(out.stdout.replace(/\bNaN\b/g, 'null').replace(/-Infinity\b/g, '-1e999').replace(/\bInfinity\b/g, '1e999')) as OracleAnswer[];
}

/** |a − b| ≤ rtol·|b| + atol, with a message that shows both. */
export function close(actual: number, expected: number, rtol: number, atol = 0): boolean {
  if (actual === expected) return true;
  return Math.abs(actual - expected) <= rtol * Math.abs(expected) + atol;
}

/** Seeded samplers (mulberry32 underneath), so every run draws the same data. */
export function sampler(seed: number) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return {
    uniform,
    normal,
    normals: (n: number, shift = 0, scale = 1) => Array.from({ length: n }, () => shift + scale * normal()),
    /** Student's t with 2 degrees of freedom: heavy tails. */
    heavy: (n: number) => Array.from({ length: n }, () => normal() / Math.sqrt((normal() ** 2 + normal() ** 2) / 2)),
    /** Rounded values: many ties. */
    ties: (n: number, shift = 0) => Array.from({ length: n }, () => Math.round(2 * (normal() + shift))),
  };
}

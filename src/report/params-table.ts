import { lstat, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { GateResult } from '../gates/evaluate.ts';
import { formatNumber } from '../metrics/format.ts';
import { code, codeCell, table } from './markdown.ts';

/** Each leg's hyperparameters (run.json `params`), by leg name. */
export type LegParams = ReadonlyMap<string, Record<string, unknown>>;

const MAX_RUN_JSON_BYTES = 1 << 20;
/** Folders above a leg's metrics file searched for its run.json (`legs/<artifact>/sub/metrics.json`). */
const MAX_UP = 3;
const MAX_COLUMNS = 8;
const MAX_VALUE_CHARS = 40;

/**
 * The params of each leg, from the run.json nearest its metrics file (the leg folder of a downloaded
 * artifact) whose `leg` is that leg, inside `cwd`. A leg without one has no params; an unreadable run.json is
 * skipped: the table informs, it decides nothing.
 */
export async function readLegParams(legs: readonly { name: string; file: string }[], cwd: string): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  await Promise.all(
    legs.map(async (leg) => {
      let dir = dirname(resolve(cwd, leg.file));
      for (let up = 0; up <= MAX_UP && inside(cwd, dir); up++, dir = dirname(dir)) {
        const run = await readRunJson(join(dir, 'run.json'));
        if (run === undefined) continue;
        if (run.leg === leg.name && isObject(run.params)) found.set(leg.name, run.params);
        return;
      }
    }),
  );
  return found;
}

/**
 * A params-vs-metric table, legs in the gate's order (best first by the select metric, the best passing leg
 * starred): one column per parameter that differs between legs (nested params flattened with `.`), then the
 * select metric. Empty when fewer than two legs have params or none differ.
 */
export function paramsTable(result: GateResult, params: LegParams): string {
  const legs = result.legs.filter((l) => params.has(l.name));
  if (legs.length < 2) return '';
  const flat = legs.map((l) => flatten(params.get(l.name)!));
  const keys = [...new Set(flat.flatMap((f) => [...f.keys()]))];
  const varying = keys.filter((k) => new Set(flat.map((f) => JSON.stringify(f.get(k) ?? null))).size > 1);
  if (varying.length === 0) return '';
  const shown = varying.slice(0, MAX_COLUMNS);
  const header = ['#', 'Leg', ...shown.map(codeCell), codeCell(result.select)];
  const rows = legs.map((leg, i) => {
    const value = leg.checks.find((c) => c.metric === result.select)?.value ?? null;
    const best = leg.name === result.bestLeg ? ' ★' : '';
    return [String(i + 1), `${codeCell(leg.name)}${best}`, ...shown.map((k) => show(flat[i]!.get(k))), value === null ? 'missing' : formatNumber(value)];
  });
  const more = varying.length > shown.length ? `\n\n${varying.length - shown.length} more varying params not shown: ${varying.slice(MAX_COLUMNS).map(code).join(', ')}` : '';
  const align = header.map((_, i) => (i === 1 ? 'left' : 'right') as 'left' | 'right');
  return `**Params by ${code(result.select)}** (best first)\n\n${table(header, rows, align)}${more}`;
}

function flatten(params: Record<string, unknown>, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [key, value] of Object.entries(params)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (isObject(value)) flatten(value, name, out);
    else out.set(name, value);
  }
  return out;
}

function show(value: unknown): string {
  if (value === undefined || value === null) return '—';
  if (typeof value === 'number') return Number.isFinite(value) ? formatNumber(value) : String(value);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  // run.json is written by the code under review: its values go in code spans, where no mention or link forms.
  return codeCell(text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text);
}

async function readRunJson(path: string): Promise<{ leg?: unknown; params?: unknown } | undefined> {
  // lstat: a symlinked run.json is not followed (a leg folder's links could point anywhere on the runner).
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isFile() || info.size > MAX_RUN_JSON_BYTES) return undefined;
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as unknown;
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function inside(root: string, dir: string): boolean {
  const rel = relative(resolve(root), dir);
  return !rel.startsWith('..') && !isAbsolute(rel);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

import { createHash } from 'node:crypto';

/** Longest leg name; a longer one is cut and made unique by a hash of its params. */
export const MAX_LEG_LENGTH = 96;

/** One parameter of one leg: its dotted name and value. */
export interface NamedValue {
  key: string;
  value: string | number | boolean;
}

/**
 * `c-0.1_optimizer-adam`: `key-value` pairs joined by `_`, from the parameters that differ between legs.
 * Only `A-Z a-z 0-9 . _ -` appear, never `--` nor a leading or trailing `-` or `.`, so the name is also a
 * valid artifact name and `mlops-<model>-<leg>` survives the train action's artifact-name cleaning unchanged.
 * Numbers keep 4 significant digits; a leading minus sign is written `m` (`shift-m0.5`); in values, any
 * character but letters, digits and dots becomes a dot.
 */
export function legName(values: readonly NamedValue[]): string {
  if (values.length === 0) return 'default';
  const name = values.map(({ key, value }) => `${key.replace(/[^A-Za-z0-9._-]+/g, '.')}-${valueText(value)}`).join('_');
  return tidy(name) || 'default';
}

/** A short hash of the params (canonical JSON, keys sorted): what tells two legs apart when names collide. */
export function paramsHash(params: unknown): string {
  return createHash('sha256').update(canonicalJson(params)).digest('hex').slice(0, 8);
}

/** Cut to the length limit, or append the params' hash: the name stays stable for the same params. */
export function withHash(name: string, params: unknown): string {
  const suffix = `-${paramsHash(params)}`;
  return `${tidy(name.slice(0, MAX_LEG_LENGTH - suffix.length))}${suffix}`;
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function valueText(value: string | number | boolean): string {
  if (typeof value !== 'number') return clean(String(value)) || 'x';
  const text = Number.isInteger(value) && Math.abs(value) < 1e15 ? String(value) : String(Number(value.toPrecision(4)));
  return text.replace('e+', 'e').replace(/^-/, 'm');
}

/** Keeps letters, digits and dots; any other run of characters becomes one dot. */
function clean(text: string): string {
  return text.replace(/[^A-Za-z0-9.]+/g, '.').replace(/\.{2,}/g, '.').replace(/^\.+|\.+$/g, '');
}

function tidy(name: string): string {
  return name.replace(/-{2,}/g, '-').replace(/^[-._]+|[-._]+$/g, '');
}

/**
 * How one cell of a table or payload becomes a number, a category or a null, the same way for the
 * reference (profile) and the current data (drift).
 */

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;

/** A cell that holds no value: a missing key, JSON null, or an empty (blank) CSV field. */
export function isNull(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/**
 * The number a cell holds, NaN/±Infinity included (`nan`, `inf`, `-Infinity` in any case), or undefined
 * when it is not a number at all (a word, a boolean, an object). Nulls are not numbers either.
 */
export function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (NUMBER.test(text)) return Number(text);
  const special = SPECIAL.exec(text);
  if (!special) return undefined;
  if (special[2]!.toLowerCase() === 'nan') return Number.NaN;
  return special[1] === '-' ? -Infinity : Infinity;
}

/** The category a cell stands for: text as written (trimmed), numbers and booleans as JavaScript prints them. */
export function categoryOf(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

/** A column is numeric when every non-null cell holds a number (an all-null column counts as numeric). */
export function looksNumeric(values: readonly unknown[]): boolean {
  for (const v of values) if (!isNull(v) && numberOf(v) === undefined) return false;
  return true;
}

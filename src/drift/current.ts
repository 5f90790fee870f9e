/**
 * The current window as it streams in: one accumulator per profiled column. Numeric columns keep their finite
 * values (8 bytes each, in 64 Ki-value chunks: memory is the data's own size, never the text's) and count
 * nulls, NaN and ±inf; categorical columns count categories (at most MAX_CURRENT_CATEGORIES distinct, the rest
 * pooled), so a hostile stream of unique strings cannot exhaust memory.
 */
import { sortFloat64 } from './sort.ts';
import type { Profile } from './profile.ts';
import { categoryOf, isNull, numberOf } from './values.ts';

const CHUNK = 65_536;
/** Distinct categories tracked per current column; more are counted together as `__overflow__`. */
export const MAX_CURRENT_CATEGORIES = 10_000;
export const OVERFLOW = '__overflow__';

export class NumericColumn {
  readonly kind = 'numeric' as const;
  private chunks: Float64Array[] = [];
  private last = new Float64Array(CHUNK);
  private fill = 0;
  finite = 0;
  nulls = 0;
  nan = 0;
  inf = 0;

  addNumber(x: number): void {
    if (x - x !== 0) {
      // NaN or ±Infinity
      if (Number.isNaN(x)) this.nan++;
      else this.inf++;
      return;
    }
    if (this.fill === this.last.length) {
      this.chunks.push(this.last);
      this.last = new Float64Array(CHUNK);
      this.fill = 0;
    }
    this.last[this.fill++] = x;
    this.finite++;
  }

  /** `count` numbers from `values`, starting at `start`, `stride` apart (one column of a row-major block). */
  addStrided(values: Float64Array, start: number, stride: number, count: number): void {
    let last = this.last;
    let fill = this.fill;
    let finite = 0;
    for (let k = 0, at = start; k < count; k++, at += stride) {
      const x = values[at]!;
      if (x - x !== 0) {
        if (Number.isNaN(x)) this.nan++;
        else this.inf++;
        continue;
      }
      if (fill === last.length) {
        this.chunks.push(last);
        last = new Float64Array(CHUNK);
        fill = 0;
      }
      last[fill++] = x;
      finite++;
    }
    this.last = last;
    this.fill = fill;
    this.finite += finite;
  }

  /** A cell of any type: null, a number, or text holding a number; anything else is an error to report. */
  addCell(value: unknown): boolean {
    if (isNull(value)) {
      this.nulls++;
      return true;
    }
    const x = numberOf(value);
    if (x === undefined) return false;
    this.addNumber(x);
    return true;
  }

  /**
   * The finite values, sorted; the chunks are released. With `into` (large enough), the values land there
   * and a view of it is returned: the check sorts one column at a time in one reused buffer.
   */
  takeSorted(into?: Float64Array): Float64Array {
    const out = into && into.length >= this.finite ? into.subarray(0, this.finite) : new Float64Array(this.finite);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    out.set(this.last.subarray(0, this.fill), at);
    this.chunks = [];
    this.last = new Float64Array(0);
    this.fill = 0;
    return sortFloat64(out);
  }
}

export class CategoricalColumn {
  readonly kind = 'categorical' as const;
  readonly counts = new Map<string, number>();
  values = 0;
  nulls = 0;

  addCategory(category: string): void {
    this.values++;
    const known = this.counts.get(category);
    if (known !== undefined) this.counts.set(category, known + 1);
    else if (this.counts.size < MAX_CURRENT_CATEGORIES) this.counts.set(category, 1);
    else this.counts.set(OVERFLOW, (this.counts.get(OVERFLOW) ?? 0) + 1);
  }

  addCell(value: unknown): boolean {
    if (isNull(value)) this.nulls++;
    else this.addCategory(categoryOf(value));
    return true;
  }
}

export type CurrentColumn = NumericColumn | CategoricalColumn;

/** The window: accumulators for the profile's features and outputs, and the counts the report shows. */
export class CurrentData {
  readonly columns = new Map<string, CurrentColumn>();
  /** Columns some source actually carried (a feature no source had is reported as absent). */
  readonly seen = new Set<string>();
  /** Input rows (request rows, table rows) and output rows (response rows). */
  rows = 0;
  outputRows = 0;
  /** Cells a numeric column could not read as a number, per column. */
  readonly badCells = new Map<string, number>();
  /** The records' time range, ms since the epoch. */
  first = Infinity;
  last = -Infinity;

  constructor(profile: Profile) {
    for (const c of [...profile.features, ...profile.outputs]) this.columns.set(c.name, c.kind === 'numeric' ? new NumericColumn() : new CategoricalColumn());
  }

  add(name: string, value: unknown): void {
    const column = this.columns.get(name);
    if (!column) return;
    if (!column.addCell(value)) this.badCells.set(name, (this.badCells.get(name) ?? 0) + 1);
  }

  addNumber(name: string, x: number): void {
    const column = this.columns.get(name);
    if (!column) return;
    if (column.kind === 'numeric') column.addNumber(x);
    else column.addCategory(String(x));
  }

  time(ms: number): void {
    if (ms < this.first) this.first = ms;
    if (ms > this.last) this.last = ms;
  }
}

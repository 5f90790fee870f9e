import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.ts';

/** A holdout file as read: column names and one array of raw values per column. */
export interface Table {
  file: string;
  columns: string[];
  /** CSV cells are strings; JSON Lines values are whatever JSON held. */
  values: Map<string, unknown[]>;
  rows: number;
  /** 1-based line in the file of row `i`, for messages. */
  line(i: number): number;
}

/** Splits CSV text (RFC 4180: quoted fields, doubled quotes, CRLF) into records. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

function fromCsv(file: string, text: string): Table {
  const records = parseCsv(text);
  // Blank lines carry no row; keep each record's line number for messages.
  const lines: number[] = [];
  const kept: string[][] = [];
  records.forEach((r, i) => {
    if (r.length === 1 && r[0] === '') return;
    kept.push(r);
    lines.push(i + 1);
  });
  const header = kept.shift();
  lines.shift();
  if (!header) throw new UsageError(`data: ${file} is empty: it needs a header line and at least one row`);
  const columns = header.map((h) => h.trim());
  const dup = columns.find((c, i) => columns.indexOf(c) !== i);
  if (dup !== undefined) throw new UsageError(`data: ${file} has the column ${JSON.stringify(dup)} twice in its header`);
  const values = new Map<string, unknown[]>(columns.map((c) => [c, new Array<unknown>(kept.length)]));
  kept.forEach((record, i) => {
    if (record.length !== columns.length) {
      throw new UsageError(`data: ${file} line ${lines[i]} has ${record.length} fields, the header has ${columns.length}`);
    }
    columns.forEach((c, j) => {
      (values.get(c) as unknown[])[i] = record[j];
    });
  });
  return { file, columns, values, rows: kept.length, line: (i) => lines[i] ?? 0 };
}

function fromJsonl(file: string, text: string): Table {
  const columns: string[] = [];
  const objects: Record<string, unknown>[] = [];
  const lines: number[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new UsageError(`data: ${file} line ${i + 1} is not JSON (${(error as Error).message})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new UsageError(`data: ${file} line ${i + 1} is not a JSON object; JSON Lines needs one object per line`);
    }
    for (const key of Object.keys(value)) if (!columns.includes(key)) columns.push(key);
    objects.push(value as Record<string, unknown>);
    lines.push(i + 1);
  });
  const values = new Map<string, unknown[]>(columns.map((c) => [c, objects.map((o) => o[c])]));
  return { file, columns, values, rows: objects.length, line: (i) => lines[i] ?? 0 };
}

/** Reads a CSV file with a header, or JSON Lines when the name ends in .jsonl/.ndjson. */
export function readTable(file: string): Table {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`data: ${JSON.stringify(file)} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): give an existing CSV or JSON Lines file`);
  }
  return /\.(jsonl|ndjson)$/i.test(file) ? fromJsonl(file, text) : fromCsv(file, text);
}

/** The column as numbers; a blank, missing or non-numeric cell is an error naming file, line, column and value. */
export function numericColumn(table: Table, column: string): Float64Array {
  const raw = table.values.get(column);
  if (!raw) throw new UsageError(`data: ${table.file} has no column ${JSON.stringify(column)}`);
  const out = new Float64Array(table.rows);
  for (let i = 0; i < table.rows; i++) {
    const v = raw[i];
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
    if (!Number.isFinite(n)) {
      throw new UsageError(
        `data: ${table.file} line ${table.line(i)} column ${JSON.stringify(column)} has ${JSON.stringify(v ?? null)}, not a finite number`,
      );
    }
    out[i] = n;
  }
  return out;
}

import { isMap, isScalar, isSeq, parse, Scalar, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';

/**
 * Byte-preserving edits: each change is a splice into the ORIGINAL text at a node's source range,
 * so comments, quoting, key order, indentation, blank lines, line endings and markers stay as they were.
 */
export interface Edit {
  start: number;
  end: number;
  text: string;
  /** Orders insertions at the same offset: the deeper one must come first in the text. */
  depth: number;
}

export type ScalarValue = string | number;

/** An entry to add to a map: a scalar, or a new map with its own entries. */
export interface NewEntry {
  key: string;
  /** A scalar, a map of entries, or a sequence of maps (`{ items }`). */
  value: ScalarValue | NewEntry[] | { items: NewEntry[][] };
}

export function applyEdits(text: string, edits: Edit[]): string {
  const ordered = [...edits].sort((a, b) => b.start - a.start || a.depth - b.depth);
  let result = text;
  for (const edit of ordered) result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
  return result;
}

/** Thrown when a target cannot be edited safely; the caller adds the file and path. */
export class EditRefusal extends Error {
  override name = 'EditRefusal';
}

/** Replaces a scalar's text in its own style (plain, 'single', "double"); numbers are written plain. */
export function replaceScalar(node: Scalar, value: ScalarValue, inFlow: boolean, depth: number): Edit {
  const [start, end] = node.range ?? [];
  if (start === undefined || end === undefined) throw new EditRefusal('has no position in the file');
  if (node.anchor) throw new EditRefusal(`carries the anchor &${node.anchor}, so changing it would also change every alias of it`);
  return { start, end, text: renderScalar(value, node.type, inFlow), depth };
}

export function renderScalar(value: ScalarValue, style: Scalar.Type | undefined, inFlow: boolean): string {
  if (typeof value === 'number') return String(value);
  switch (style) {
    case Scalar.QUOTE_DOUBLE:
      return doubleQuoted(value);
    case Scalar.QUOTE_SINGLE:
      return `'${value.replaceAll("'", "''")}'`;
    case Scalar.BLOCK_FOLDED:
    case Scalar.BLOCK_LITERAL:
      throw new EditRefusal('is a block scalar (| or >): write it on one line first');
    default:
      return plainSafe(value, inFlow) ? value : doubleQuoted(value);
  }
}

/** JSON's string syntax is valid YAML double-quoted syntax for the printable strings we accept. */
function doubleQuoted(value: string): string {
  return JSON.stringify(value);
}

/** A plain scalar is safe when it reads back as the same string (so `1.10`, `true`, `a: b`, `#x` get quotes). */
export function plainSafe(value: string, inFlow: boolean): boolean {
  if (value === '' || value !== value.trim() || /[\r\n\t]/.test(value)) return false;
  if (inFlow && /[,[\]{}]/.test(value)) return false;
  if (/^[-?:,[\]{}#&*!|>'"%@`]/.test(value) || value.includes(': ') || value.includes(' #')) return false;
  try {
    return parse(value) === value;
  } catch {
    return false;
  }
}

/** Column of a node's first character. */
function column(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

/** Offset just after the line that holds `offset` (after its newline), or the end of the text. */
function afterLine(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === '\n') return offset;
  const newline = text.indexOf('\n', offset);
  return newline < 0 ? text.length : newline + 1;
}

/** Indentation one level deeper than `map`, learned from the file (2 when it shows none). */
export function indentUnit(text: string, root: Node | null): number {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node) && !node.flow) {
      for (const pair of node.items) {
        const child = pair.value;
        if (isMap(child) && !child.flow && child.items.length > 0 && isScalar(pair.key)) {
          const parentColumn = column(text, pair.key.range?.[0] ?? 0);
          const childColumn = column(text, (child.items[0]?.key as Node).range?.[0] ?? 0);
          if (childColumn > parentColumn) return childColumn - parentColumn;
        }
        stack.push(child);
      }
    } else if (isSeq(node)) {
      stack.push(...node.items);
    }
  }
  return 2;
}

function renderEntriesBlock(entries: NewEntry[], indent: number, unit: number, eol: string): string[] {
  const pad = ' '.repeat(indent);
  return entries.flatMap((entry) => {
    const { value } = entry;
    if (Array.isArray(value)) return [`${pad}${renderKey(entry.key)}:`, ...renderEntriesBlock(value, indent + unit, unit, eol)];
    if (typeof value === 'object') return [`${pad}${renderKey(entry.key)}:`, ...value.items.flatMap((item) => renderSeqItem(item, indent + unit, indent + unit + 2, unit, eol))];
    return [`${pad}${renderKey(entry.key)}: ${renderScalar(value, undefined, false)}`];
  });
}

/** `- first: x` at the dash column, the other keys aligned under `first`. */
function renderSeqItem(entries: NewEntry[], dashColumn: number, keyColumn: number, unit: number, eol: string): string[] {
  const lines = renderEntriesBlock(entries, keyColumn, unit, eol);
  const first = lines[0] ?? '';
  lines[0] = `${' '.repeat(dashColumn)}-${' '.repeat(Math.max(1, keyColumn - dashColumn - 1))}${first.slice(keyColumn)}`;
  return lines;
}

function renderEntriesFlow(entries: NewEntry[]): string {
  return entries.map((e) => `${renderKey(e.key, true)}: ${renderValueFlow(e.value)}`).join(', ');
}

function renderValueFlow(value: NewEntry['value']): string {
  if (Array.isArray(value)) return `{${renderEntriesFlow(value)}}`;
  if (typeof value === 'object') return `[${value.items.map((item) => `{${renderEntriesFlow(item)}}`).join(', ')}]`;
  return renderScalar(value, undefined, true);
}

/** Appends a map item to a sequence, in its style: `- key: value` lines at its dash column, or `, {…}` in a flow sequence. */
export function appendToSeq(text: string, seq: YAMLSeq, items: NewEntry[][], unit: number, eol: string, depth: number): Edit {
  if (seq.anchor) throw new EditRefusal(`carries the anchor &${seq.anchor}, so adding to it would also change every alias of it`);
  const [start] = seq.range ?? [];
  if (start === undefined) throw new EditRefusal('has no position in the file');
  const last = seq.items[seq.items.length - 1] as Node | undefined;
  if (seq.flow) {
    if (!last) {
      const open = text.indexOf('[', start);
      return { start: open + 1, end: open + 1, text: items.map((entries) => `{${renderEntriesFlow(entries)}}`).join(', '), depth };
    }
    const end = last.range?.[1] ?? start;
    return { start: end, end, text: items.map((entries) => `, {${renderEntriesFlow(entries)}}`).join(''), depth };
  }
  const first = seq.items[0] as Node | undefined;
  if (!first || !last) throw new EditRefusal('is an empty block sequence');
  const firstStart = first.range?.[0] ?? start;
  const dashColumn = column(text, text.lastIndexOf('-', firstStart));
  const keyColumn = column(text, firstStart);
  const at = afterLine(text, last.range?.[2] ?? last.range?.[1] ?? start);
  const lines = items.flatMap((entries) => renderSeqItem(entries, dashColumn, keyColumn, unit, eol));
  const needsBreak = at === text.length && !text.endsWith('\n');
  return { start: at, end: at, text: `${needsBreak ? eol : ''}${lines.join(eol)}${needsBreak ? '' : eol}`, depth };
}

function renderKey(key: string, inFlow = false): string {
  return plainSafe(key, inFlow) ? key : doubleQuoted(key);
}

/**
 * Adds entries at the end of an existing map, matching its layout:
 * a block map gets lines at its own indentation, a flow map gets `, key: value` before its `}`.
 */
export function insertIntoMap(text: string, map: YAMLMap, entries: NewEntry[], unit: number, eol: string, depth: number): Edit {
  if (map.anchor) throw new EditRefusal(`carries the anchor &${map.anchor}, so adding to it would also change every alias of it`);
  const [start, valueEnd] = map.range ?? [];
  if (start === undefined || valueEnd === undefined) throw new EditRefusal('has no position in the file');
  const last = map.items[map.items.length - 1] as Pair<Node, Node | null> | undefined;
  if (map.flow) {
    if (!last) {
      const open = text.indexOf('{', start);
      return { start: open + 1, end: open + 1, text: renderEntriesFlow(entries), depth };
    }
    const end = (last.value ?? last.key).range?.[1] ?? valueEnd;
    return { start: end, end, text: `, ${renderEntriesFlow(entries)}`, depth };
  }
  const first = map.items[0]?.key as Node | undefined;
  if (!first || !last) throw new EditRefusal('is an empty block map');
  const indent = column(text, first.range?.[0] ?? start);
  const lastNode = last.value ?? last.key;
  const at = afterLine(text, lastNode.range?.[2] ?? lastNode.range?.[1] ?? valueEnd);
  const lines = renderEntriesBlock(entries, indent, unit, eol);
  const needsBreak = at === text.length && !text.endsWith('\n');
  return { start: at, end: at, text: `${needsBreak ? eol : ''}${lines.join(eol)}${needsBreak ? '' : eol}`, depth };
}

/** Gives a key whose value is empty (`annotations:` or `annotations: ~`) a block map of entries. */
export function fillEmptyValue(text: string, keyNode: Node, valueNode: Node | null, entries: NewEntry[], unit: number, eol: string, depth: number): Edit {
  const keyStart = keyNode.range?.[0] ?? 0;
  const indent = column(text, keyStart);
  const lines = renderEntriesBlock(entries, indent + unit, unit, eol);
  if (isScalar(valueNode) && valueNode.source !== '' && valueNode.range) {
    // An explicit null (`~`, `null`): replace it with a flow map so the line stays one line.
    return { start: valueNode.range[0], end: valueNode.range[1], text: `{${renderEntriesFlow(entries)}}`, depth };
  }
  // Insert before the end of the key's line, after any comment on it.
  const newline = text.indexOf('\n', keyNode.range?.[1] ?? keyStart);
  const lineEnd = newline < 0 ? text.length : text[newline - 1] === '\r' ? newline - 1 : newline;
  return { start: lineEnd, end: lineEnd, text: `${eol}${lines.join(eol)}`, depth };
}

/** The pair of `map` whose key is the plain string `key`. */
export function findPair(map: YAMLMap, key: string): Pair<Node, Node | null> | undefined {
  return map.items.find((pair) => isScalar(pair.key) && pair.key.value === key) as Pair<Node, Node | null> | undefined;
}

export function isNullScalar(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}


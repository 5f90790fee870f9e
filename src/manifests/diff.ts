import type { Edit } from './edit.ts';

const CONTEXT = 3;

interface Line {
  text: string;
  /** Whether the line ends with a newline (the last line of a file may not). */
  terminated: boolean;
}

/**
 * A unified diff (`diff -u` format) built from the edits themselves, so it is exact and costs
 * nothing on large files: only the lines an edit touches appear, with three lines of context.
 * Line endings are not shown (a CRLF file diffs like an LF one).
 */
export function unifiedDiff(file: string, before: string, edits: Edit[]): string {
  if (edits.length === 0) return '';
  const oldLines = splitLines(before);
  const lineStarts = [0];
  for (let i = 0; i < before.length; i++) if (before[i] === '\n') lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };

  // Each edit covers whole old lines [first, last); pure insertions at a line start cover none.
  const regions = [...edits]
    .sort((a, b) => a.start - b.start || b.depth - a.depth)
    .map((edit) => {
      const first = lineOf(edit.start);
      const pureInsertAtLineStart = edit.start === edit.end && edit.start === lineStarts[first] && edit.text.endsWith('\n');
      const last = pureInsertAtLineStart ? first : edit.end > edit.start && before[edit.end - 1] === '\n' ? lineOf(edit.end - 1) + 1 : lineOf(edit.end) + 1;
      return { first, last: Math.min(last, oldLines.length), edits: [edit] };
    });
  const merged: typeof regions = [];
  for (const region of regions) {
    const previous = merged[merged.length - 1];
    // Touching or adjacent regions become one change, so the diff reads `-a -b +a' +b'`.
    if (previous && region.first <= previous.last) {
      previous.last = Math.max(previous.last, region.last);
      previous.edits.push(...region.edits);
    } else {
      merged.push(region);
    }
  }

  type Change = { first: number; last: number; added: Line[] };
  const changes: Change[] = merged.map((region) => {
    const from = lineStarts[region.first] ?? before.length;
    const to = region.last < lineStarts.length ? (lineStarts[region.last] as number) : before.length;
    const shifted = region.edits.map((e) => ({ ...e, start: e.start - from, end: e.end - from }));
    let segment = before.slice(from, to);
    for (const e of [...shifted].sort((a, b) => b.start - a.start || a.depth - b.depth)) {
      segment = segment.slice(0, e.start) + e.text + segment.slice(e.end);
    }
    return { first: region.first, last: region.last, added: splitLines(segment) };
  });

  const name = file.replace(/^\/+/, '');
  const out = [`--- a/${name}`, `+++ b/${name}`];
  let offset = 0; // new line number minus old line number before the current hunk
  let i = 0;
  while (i < changes.length) {
    let j = i;
    while (j + 1 < changes.length && (changes[j + 1] as Change).first - (changes[j] as Change).last <= 2 * CONTEXT) j++;
    const group = changes.slice(i, j + 1);
    const head = Math.max(0, (group[0] as Change).first - CONTEXT);
    const tail = Math.min(oldLines.length, (group[group.length - 1] as Change).last + CONTEXT);
    const body: string[] = [];
    let oldCount = 0;
    let newCount = 0;
    let cursor = head;
    const context = (until: number) => {
      for (; cursor < until; cursor++) {
        body.push(...render(' ', oldLines[cursor] as Line));
        oldCount++;
        newCount++;
      }
    };
    let growth = 0;
    for (const change of group) {
      context(change.first);
      for (let k = change.first; k < change.last; k++) body.push(...render('-', oldLines[k] as Line));
      for (const line of change.added) body.push(...render('+', line));
      oldCount += change.last - change.first;
      newCount += change.added.length;
      growth += change.added.length - (change.last - change.first);
      cursor = change.last;
    }
    context(tail);
    const oldStart = oldCount === 0 ? head : head + 1;
    const newStart = newCount === 0 ? head + offset : head + offset + 1;
    out.push(`@@ -${range(oldStart, oldCount)} +${range(newStart, newCount)} @@`, ...body);
    offset += growth;
    i = j + 1;
  }
  return `${out.join('\n')}\n`;
}

function range(start: number, count: number): string {
  return count === 1 ? `${start}` : `${start},${count}`;
}

function render(sign: string, line: Line): string[] {
  return line.terminated ? [`${sign}${line.text}`] : [`${sign}${line.text}`, '\\ No newline at end of file'];
}

function splitLines(text: string): Line[] {
  if (text === '') return [];
  const parts = text.split('\n');
  const lines: Line[] = [];
  parts.forEach((part, index) => {
    const last = index === parts.length - 1;
    if (last && part === '') return;
    lines.push({ text: part.endsWith('\r') ? part.slice(0, -1) : part, terminated: !last });
  });
  return lines;
}

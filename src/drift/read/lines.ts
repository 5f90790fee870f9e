/**
 * Splits a byte stream into lines without decoding it: each batch is one buffer with the [start, end) offsets
 * of the complete lines in it (the `\n` and a `\r` before it excluded). A line cut by chunk boundaries is
 * joined once and yielded on its own; a line longer than `maxLine` is reported once and skipped.
 */

export interface LineBatch {
  buffer: Uint8Array;
  starts: number[];
  ends: number[];
  /** 1-based line number of the first line in the batch. */
  firstLine: number;
}

export interface LineOptions {
  maxLine: number;
  onOversized(line: number): void;
}

function withoutCr(buffer: Uint8Array, start: number, nl: number): number {
  return nl > start && buffer[nl - 1] === 13 ? nl - 1 : nl;
}

export async function* lineBatches(chunks: AsyncIterable<Uint8Array>, options: LineOptions): AsyncGenerator<LineBatch> {
  // The start of a line cut by chunk boundaries, in pieces.
  let carry: Uint8Array[] = [];
  let carried = 0;
  let skipping = false;
  let line = 1;
  for await (const chunk of chunks) {
    let offset = 0;
    if (carried > 0 || skipping) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        if (!skipping) {
          carry.push(chunk);
          carried += chunk.length;
          if (carried > options.maxLine) {
            options.onOversized(line);
            skipping = true;
            carry = [];
            carried = 0;
          }
        }
        continue;
      }
      if (!skipping) {
        const joined = new Uint8Array(carried + nl);
        let at = 0;
        for (const part of carry) {
          joined.set(part, at);
          at += part.length;
        }
        joined.set(chunk.subarray(0, nl), at);
        yield { buffer: joined, starts: [0], ends: [withoutCr(joined, 0, joined.length)], firstLine: line };
      }
      carry = [];
      carried = 0;
      skipping = false;
      line++;
      offset = nl + 1;
    }
    const starts: number[] = [];
    const ends: number[] = [];
    const firstLine = line;
    let start = offset;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      starts.push(start);
      ends.push(withoutCr(chunk, start, nl));
      line++;
      start = nl + 1;
    }
    if (starts.length > 0) yield { buffer: chunk, starts, ends, firstLine };
    if (start < chunk.length) {
      if (chunk.length - start > options.maxLine) {
        options.onOversized(line);
        skipping = true;
      } else {
        // The stream may reuse its buffer: keep a copy.
        carry = [chunk.slice(start)];
        carried = chunk.length - start;
      }
    }
  }
  if (carried > 0) {
    const joined = new Uint8Array(carried);
    let at = 0;
    for (const part of carry) {
      joined.set(part, at);
      at += part.length;
    }
    yield { buffer: joined, starts: [0], ends: [withoutCr(joined, 0, joined.length)], firstLine: line };
  }
}

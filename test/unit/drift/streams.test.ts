// The streaming pieces at every chunk boundary: CSV records (quotes, doubled quotes, CRLF, line breaks in
// quotes) and JSON lines come out the same however the bytes are cut, and an oversized line is skipped.
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../src/evaluate/table.ts';
import { CsvStream } from '../../../src/drift/read/csv.ts';
import { lineBatches } from '../../../src/drift/read/lines.ts';

const CSV = 'a,b,c\r\n1,"x, ""y""",3\r\n"multi\nline",,"6"\n7,8,"9"\r\n';

function csvRecords(chunks: string[]): string[][] {
  const out: string[][] = [];
  const csv = new CsvStream((fields) => out.push(fields));
  for (const c of chunks) csv.write(c);
  csv.end();
  return out;
}

async function lines(chunks: Uint8Array[], maxLine = 1 << 20): Promise<{ lines: string[]; oversized: number[] }> {
  const out: string[] = [];
  const oversized: number[] = [];
  async function* source() {
    yield* chunks;
  }
  for await (const batch of lineBatches(source(), { maxLine, onOversized: (line) => oversized.push(line) })) {
    batch.starts.forEach((start, k) => out.push(`${batch.firstLine + k}:${Buffer.from(batch.buffer.subarray(start, batch.ends[k])).toString()}`));
  }
  return { lines: out, oversized };
}

describe('CsvStream', () => {
  it('gives the records evaluate’s parser gives, whatever the chunk boundaries', () => {
    const whole = parseCsv(CSV);
    for (let cut = 0; cut <= CSV.length; cut++) expect(csvRecords([CSV.slice(0, cut), CSV.slice(cut)]), `cut at ${cut}`).toEqual(whole);
    expect(csvRecords(CSV.split(''))).toEqual(whole);
    expect(csvRecords(['\ufeffa,b\n1,2'])).toEqual([['a', 'b'], ['1', '2']]);
  });
});

describe('lineBatches', () => {
  it('yields every line once with its number, whatever the chunk boundaries', async () => {
    const text = Buffer.from('{"a":1}\r\n\n{"b":2}\n{"c":3}');
    const want = ['1:{"a":1}', '2:', '3:{"b":2}', '4:{"c":3}'];
    for (let cut = 0; cut <= text.length; cut++) {
      for (let cut2 = cut; cut2 <= text.length; cut2 += 3) {
        expect((await lines([text.subarray(0, cut), text.subarray(cut, cut2), text.subarray(cut2)])).lines, `cuts ${cut} ${cut2}`).toEqual(want);
      }
    }
  });

  it('skips a line longer than the limit, once, and goes on', async () => {
    const long = 'x'.repeat(100);
    const r = await lines([Buffer.from(`ok\n${long.slice(0, 30)}`), Buffer.from(long.slice(30)), Buffer.from('\nnext\n')], 50);
    expect(r.lines).toEqual(['1:ok', '3:next']);
    expect(r.oversized).toEqual([2]);
  });
});

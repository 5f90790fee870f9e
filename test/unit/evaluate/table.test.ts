import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { numericColumn, parseCsv, readTable } from '../../../src/evaluate/table.ts';
import { tempDir } from '../../helpers/tmp.ts';

const dir = tempDir('table');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

describe('holdout tables', () => {
  it('parses RFC 4180 CSV: quotes, doubled quotes, CRLF, BOM', () => {
    expect(parseCsv('\uFEFFa,b\r\n"x, y","say ""hi"""\r\n1,2')).toEqual([['a', 'b'], ['x, y', 'say "hi"'], ['1', '2']]);
  });

  it('reads CSV and JSON Lines into the same columns', () => {
    const csv = readTable(file('h.csv', 'x,label\n1.5,0\n\n2,1\n'));
    const jsonl = readTable(file('h.jsonl', '{"x": 1.5, "label": 0}\n{"x": 2, "label": 1}\n'));
    for (const t of [csv, jsonl]) {
      expect(t.columns).toEqual(['x', 'label']);
      expect([...numericColumn(t, 'x')]).toEqual([1.5, 2]);
    }
    expect(csv.line(1)).toBe(4);
  });

  it('names file, line, column and value for a non-numeric cell', () => {
    const t = readTable(file('bad.csv', 'x,label\n1,0\nabc,1\n'));
    expect(() => numericColumn(t, 'x')).toThrow(/bad\.csv line 3 column "x" has "abc", not a finite number/);
    const j = readTable(file('bad.jsonl', '{"x": 1}\n{"x": null}\n'));
    expect(() => numericColumn(j, 'x')).toThrow(/line 2 column "x" has null/);
  });

  it('refuses ragged rows, duplicate headers and malformed JSON Lines', () => {
    expect(() => readTable(file('r.csv', 'a,b\n1\n'))).toThrow(/line 2 has 1 fields, the header has 2/);
    expect(() => readTable(file('d.csv', 'a,a\n1,2\n'))).toThrow(/column "a" twice/);
    expect(() => readTable(file('m.jsonl', '{"a": 1}\n[1]\n'))).toThrow(/line 2 is not a JSON object/);
    expect(() => readTable(join(dir, 'missing.csv'))).toThrow(/^data: ".*missing.csv" cannot be read \(ENOENT\)/);
  });
});

import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dirManifest, md5File, md5Hex } from '../../../src/data/hash.ts';
import { HashPool } from '../../../src/data/hash-pool.ts';
import { compareCodePoints, pythonJsonDumps } from '../../../src/data/python-json.ts';
import { tempDir } from '../../helpers/tmp.ts';

const PYTHON = '/usr/bin/python3';

// Names that exercise every branch of Python's ASCII-only JSON escaping and code-point ordering.
const NAMES = [
  'foo',
  'bar',
  'with space.txt',
  'del\x7fchar',
  'tab\there',
  'quote"and\\backslash',
  'café',
  'cafe\u0301', // same text as above in NFD: a different name
  '数据/训练.csv',
  'emoji 😀/astral 𝄞.bin',
  'nested/a/b/c/deep.txt',
  'ﬀ-presentation-form', // U+FB00 sorts after the astral characters' high surrogates in UTF-16, before them by code point
  'Z-upper',
  'a-lower',
];

function pythonDirHash(entries: { md5: string; relpath: string }[]): string {
  const script = [
    'import hashlib, json, sys',
    'entries = json.loads(sys.stdin.read())',
    'entries = sorted(entries, key=lambda e: e["relpath"])',
    'sys.stdout.write(hashlib.md5(json.dumps(entries, sort_keys=True).encode()).hexdigest() + ".dir")',
  ].join('\n');
  return execFileSync(PYTHON, ['-c', script], { input: JSON.stringify(entries) }).toString();
}

describe('DVC 3 directory hash', () => {
  it('matches the foo+bar vector from DESIGN §4.3', () => {
    const entries = [
      { md5: md5Hex('foo'), relpath: 'foo' },
      { md5: md5Hex('bar'), relpath: 'bar' },
    ];
    expect(dirManifest(entries).md5).toBe('5ea40360f5b4ec688df672a4db9c17d1.dir');
  });

  it('writes the manifest bytes exactly as json.dumps(sort_keys=True)', () => {
    const { bytes } = dirManifest([
      { md5: md5Hex('foo'), relpath: 'foo' },
      { md5: md5Hex('bar'), relpath: 'bar' },
    ]);
    expect(bytes.toString()).toBe(
      '[{"md5": "37b51d194a7513e45b56f6524f2d51f2", "relpath": "bar"}, {"md5": "acbd18db4cc2f85cedef654fccc4a4d8", "relpath": "foo"}]',
    );
  });

  it('escapes DEL, control, non-ASCII and astral characters like Python', () => {
    expect(pythonJsonDumps(['del\x7f', 'tab\t', 'é', '中', '😀', 'q"\\', '\x01'])).toBe(
      '["del\\u007f", "tab\\t", "\\u00e9", "\\u4e2d", "\\ud83d\\ude00", "q\\"\\\\", "\\u0001"]',
    );
  });

  it('sorts by code point, not UTF-16 unit', () => {
    const sorted = ['ﬀ', '😀', 'a'].sort(compareCodePoints);
    expect(sorted).toEqual(['a', 'ﬀ', '😀']);
  });

  it('agrees with Python json.dumps for spaces, DEL, accents, CJK, emoji and nested folders', () => {
    const entries = NAMES.map((relpath, i) => ({ md5: md5Hex(`content ${i}`), relpath }));
    expect(dirManifest(entries).md5).toBe(pythonDirHash(entries));
    // Each name alone too, so one wrong escape cannot hide behind another.
    for (const relpath of NAMES) {
      const one = [{ md5: md5Hex(relpath), relpath }];
      expect(dirManifest(one).md5, relpath).toBe(pythonDirHash(one));
    }
  });
});

describe('file hashing', () => {
  it('streams a file to its MD5 and the worker pool agrees, copying into the cache in the same read', async () => {
    const dir = tempDir('hash');
    const files = Array.from({ length: 40 }, (_, i) => {
      const file = join(dir, `f${i}`);
      writeFileSync(file, Buffer.alloc(1000 + i * 997, i));
      return file;
    });
    const big = join(dir, 'big');
    // Larger than two 4 MiB read buffers, with bytes that depend on their offset: a chunk written at the wrong
    // place while the next is read (the cache copy overlaps the hashing) would show.
    const bigBytes = Buffer.alloc((9 << 20) + 123);
    for (let i = 0; i + 4 <= bigBytes.length; i += 4) bigBytes.writeUInt32LE(i, i);
    writeFileSync(big, bigBytes);
    files.push(big);
    const pool = new HashPool(2);
    try {
      const cacheDir = join(dir, 'cache');
      const md5s = await pool.hash(files.map((file) => ({ file, size: statSync(file).size, cacheDir })));
      for (const [i, file] of files.entries()) {
        expect(md5s[i]).toBe(await md5File(file));
        const md5 = md5s[i] as string;
        expect(readFileSync(join(cacheDir, md5.slice(0, 2), md5.slice(2))).equals(readFileSync(file)), file).toBe(true);
      }
      expect(execFileSync('md5sum', [big]).toString().split(' ')[0]).toBe(md5s.at(-1));
    } finally {
      await pool.close();
    }
  });

  it('names the file that cannot be read', async () => {
    const pool = new HashPool(1);
    try {
      await expect(pool.hash([{ file: '/nonexistent/file', size: 1 }])).rejects.toThrow(/\/nonexistent\/file/);
    } finally {
      await pool.close();
    }
  });
});

import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkManifestPath, findCollisions, resolveTarget } from '../../../src/data/paths.ts';
import { lineProgress } from '../../../src/data/progress.ts';
import { compareCodePoints } from '../../../src/data/python-json.ts';
import { tempDir } from '../../helpers/tmp.ts';

describe('manifest paths', () => {
  it('accept nested relative names, including odd characters', () => {
    for (const ok of ['a', 'a/b/c.txt', 'with space', 'dé/中/😀', 'a..b', '.hidden']) expect(() => checkManifestPath(ok, 'x')).not.toThrow();
  });
  it('reject anything that could write outside the target', () => {
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a//b', './a', 'a/.', 'C:/x', 'nul\0byte', '']) {
      expect(() => checkManifestPath(bad, 'obj'), JSON.stringify(bad)).toThrow(/manifest: .* in obj is not a safe relative path/);
    }
  });
});

describe('targets', () => {
  it('resolve inside the workspace and refuse escapes', () => {
    const root = tempDir('ws');
    mkdirSync(join(root, 'sub'));
    expect(resolveTarget(root, join(root, 'sub'), '../data/')).toBe('data');
    expect(resolveTarget(root, root, 'data.dvc')).toBe('data');
    expect(() => resolveTarget(root, root, '..')).toThrow(/is outside the workspace/);
    expect(() => resolveTarget(root, root, '.')).toThrow(/is outside the workspace/);
    symlinkSync('/tmp', join(root, 'out'));
    expect(() => resolveTarget(root, root, 'out/x')).toThrow(/resolves through a symlink/);
  });
});

describe('collisions', () => {
  it('group names equal after case folding or NFC normalisation', () => {
    expect(findCollisions(['a', 'A', 'b', 'caf\u00e9', 'cafe\u0301', 'c'])).toEqual([
      ['a', 'A'],
      ['caf\u00e9', 'cafe\u0301'],
    ]);
    expect(findCollisions(['x', 'y'])).toEqual([]);
  });
});

describe('code-point order', () => {
  it('matches a reference comparison over random strings mixing BMP, private-use and astral characters', () => {
    const alphabet = ['a', 'Z', '\u00e9', '\ud7ff', '\ue000', '\uffff', '😀', '𝄞', '\u{10ffff}'];
    const reference = (a: string, b: string) => {
      const x = [...a].map((c) => c.codePointAt(0) as number);
      const y = [...b].map((c) => c.codePointAt(0) as number);
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
      return x.length - y.length;
    };
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const word = () => Array.from({ length: 1 + Math.floor(random() * 4) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    for (let i = 0; i < 2000; i++) {
      const a = word();
      const b = word();
      expect(Math.sign(compareCodePoints(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(Math.sign(reference(a, b)));
    }
  });
});

describe('progress in Actions logs', () => {
  it('prints one line per interval and a final line, never one per file', () => {
    const lines: string[] = [];
    let now = 0;
    const logger = { debug() {}, info: (m: string) => lines.push(m), notice() {}, warning() {}, error() {} };
    const progress = lineProgress(logger, 10_000, () => now);
    progress.start('pushing data', 1000, 1000 * 1024);
    for (let i = 0; i < 1000; i++) {
      now += 50; // 50 s in all
      progress.advance(1, 1024);
    }
    progress.finish();
    expect(lines.length).toBe(6); // at 10, 20, 30, 40, 50 s, and the end
    expect(lines.at(-1)).toMatch(/^pushing data: 1000\/1000 files, 1\.0\/1\.0 MiB, 0\.0 MiB\/s$/);
  });

  it('shows bytes without a total when the total is not known up front', () => {
    const lines: string[] = [];
    const logger = { debug() {}, info: (m: string) => lines.push(m), notice() {}, warning() {}, error() {} };
    let now = 0;
    const progress = lineProgress(logger, 10_000, () => now);
    progress.start('pulling data', 2, 0);
    now = 2000;
    progress.advance(2, 3 << 20);
    progress.finish();
    expect(lines).toEqual(['pulling data: 2/2 files, 3.0 MiB, 1.5 MiB/s']);
  });
});

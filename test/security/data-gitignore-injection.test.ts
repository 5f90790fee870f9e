// Issue 10 item 9: `data add` writes the target's name into .gitignore. A name is data, not a pattern: `*`
// must not ignore the whole repository, and a name with a line break must not add a rule of its own
// (`!secrets.env`). Real `git check-ignore` is the judge.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, mlops, victim } from './data-attack.ts';

const ignored = (root: string, path: string) => git(root, ['check-ignore', '-q', '--no-index', '--', path]).code === 0;

describe('names that are glob patterns to git', () => {
  // name → a file the name would match if it were written unescaped
  const cases: [string, string][] = [
    ['*', 'src'],
    ['*.csv', 'train.csv'],
    ['data?', 'dataX'],
    ['[abc]', 'a'],
    ['back\\slash', 'backslash'],
    ['trailing ', 'trailing'],
    ['**', 'src'],
  ];
  for (const [name, decoy] of cases) {
    it(`a target named ${JSON.stringify(name)} ignores itself and nothing else`, async () => {
      const v = victim({ [decoy === 'src' ? 'src/keep.py' : decoy]: 'keep me in git\n' });
      writeFileSync(join(v.root, name), 'data\n');
      const r = await mlops(v.root, ['data', 'add', name]);
      expect(r.code, r.log).toBe(0);
      expect(ignored(v.root, name)).toBe(true);
      expect(ignored(v.root, decoy)).toBe(false);
      expect(ignored(v.root, 'src/train.py')).toBe(false);
      expect(ignored(v.root, `${name}.dvc`)).toBe(false);
    });
  }
});

describe('names that would add a rule of their own', () => {
  for (const name of ['data\n!secrets.env', 'data\r\n!secrets.env', 'data\r']) {
    it(`a target named ${JSON.stringify(name)} is refused (exit 2) before anything is written`, async () => {
      const v = victim({ '.gitignore': 'secrets.env\n', 'secrets.env': 'AWS_SECRET_ACCESS_KEY=…\n' });
      mkdirSync(join(v.root, name));
      writeFileSync(join(v.root, name, 'train.csv'), 'a\n');
      const r = await mlops(v.root, ['data', 'add', name]);
      expect(r.code).toBe(2);
      expect(r.log).toContain(JSON.stringify(name));
      expect(r.log).toMatch(/line break/);
      expect(readFileSync(join(v.root, '.gitignore'), 'utf8')).toBe('secrets.env\n');
      expect(ignored(v.root, 'secrets.env')).toBe(true);
      expect(existsSync(join(v.root, `${name}.dvc`))).toBe(false);
      expect(existsSync(join(v.root, '.dvc/cache'))).toBe(false);
      expect(git(v.root, ['status', '--porcelain', '--', 'secrets.env']).stdout).toBe(''); // still ignored: not offered to commit
    });
  }
});

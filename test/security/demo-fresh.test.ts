import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFreshWorkdir } from '../../src/demo/fresh.ts';
import { tempDir } from '../helpers/tmp.ts';
import { mlops, treeDigest } from './mlops-cli.ts';

/** Issue 10 item 3: `demo --fresh` deletes only a demo's own work folder. */

function project(): string {
  const dir = tempDir('sec-fresh-project');
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'main.ts'), 'export const precious = true;\n');
  writeFileSync(join(dir, 'package.json'), '{"name": "precious"}\n');
  execFileSync('git', ['init', '--quiet', dir]);
  return dir;
}

describe('mlops demo --fresh never deletes what is not a demo', () => {
  it('refuses --workdir . inside a project: src/ and .git stay (exit 2, naming workdir)', async () => {
    const dir = project();
    const before = treeDigest(dir);
    const r = await mlops(['demo', '--workdir', '.', '--fresh', '--no-python'], dir, { HOME: tempDir('sec-fresh-home') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/workdir: ".*" is the current directory or a folder above it; --fresh deletes only a demo's work folder/);
    expect(treeDigest(dir)).toBe(before);
  });

  it('refuses a parent of the current directory, the home folder, a git work tree and a folder of other files', async () => {
    const parent = tempDir('sec-fresh-parent');
    const cwd = join(parent, 'inner');
    mkdirSync(cwd);
    writeFileSync(join(parent, 'keep.txt'), 'mine\n');
    const home = tempDir('sec-fresh-home');
    writeFileSync(join(home, '.bashrc'), 'export PATH\n');
    const repo = project();
    writeFileSync(join(repo, 'demo-state.json'), '{"runs": 1}\n'); // even a planted state file does not make a work tree a demo
    const other = tempDir('sec-fresh-other');
    writeFileSync(join(other, 'thesis.tex'), '\\begin{document}\n');
    const cases: [string, RegExp][] = [
      [parent, /is the current directory or a folder above it/],
      [home, /is the home folder or a folder above it/],
      [repo, /is a git work tree/],
      [other, /holds files but no demo-state\.json/],
    ];
    for (const [workdir, why] of cases) {
      const before = treeDigest(workdir);
      const r = await mlops(['demo', '--workdir', workdir, '--fresh', '--no-python'], cwd, { HOME: home });
      expect(r.code, workdir).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(r.stderr.split('\n')).toHaveLength(1);
      expect(treeDigest(workdir)).toBe(before);
    }
  });

  it('accepts a demo folder (demo-state.json), an empty folder and one that does not exist yet', () => {
    const cwd = tempDir('sec-fresh-cwd');
    const demo = tempDir('sec-fresh-demo');
    writeFileSync(join(demo, 'demo-state.json'), '{"runs": 2}\n');
    mkdirSync(join(demo, 'project'));
    const empty = tempDir('sec-fresh-empty');
    for (const workdir of [demo, empty, join(cwd, '.mlops-demo')]) {
      expect(() => checkFreshWorkdir(workdir, { cwd, home: tempDir('sec-fresh-home') })).not.toThrow();
    }
    expect(existsSync(join(demo, 'project'))).toBe(true); // the check deletes nothing itself
  });
});

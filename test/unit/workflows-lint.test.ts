import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tempDir } from '../helpers/tmp.ts';

const root = join(import.meta.dirname, '..', '..');
const DIRS = ['.github/workflows', 'templates/workflows'];
const cli = join(root, 'node_modules', '@tktco', 'node-actionlint', 'bin', 'node-actionlint.js');

function workflows(dir: string): string[] {
  const full = join(root, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => `${dir}/${f}`)
    .sort();
}

const files = DIRS.flatMap(workflows);

describe('workflows', () => {
  it('include the project CI', () => {
    expect(files).toContain('.github/workflows/ci.yml');
  });

  it('pass actionlint', () => {
    // node-actionlint reads one fast-glob pattern; the same command runs in .github/workflows/ci.yml.
    const result = spawnSync(process.execPath, [cli, `{${DIRS.join(',')}}/*.{yml,yaml}`], { cwd: root, encoding: 'utf8' });
    const output = `${result.stdout}${result.stderr}`;
    expect(output).toContain(`Checking ${files.length} workflow file(s)`);
    expect(output, output).toContain('All workflow files passed lint checks');
    expect(result.status, output).toBe(0);
  });

  it('actionlint reports a broken workflow (the check can fail)', () => {
    const dir = tempDir('actionlint');
    writeFileSync(join(dir, 'bad.yml'), 'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo "${{ matrix.nope }}"\n');
    const result = spawnSync(process.execPath, [cli, join(dir, 'bad.yml')], { cwd: root, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/matrix/);
  });

  it.each(files)('%s starts with permissions at the top, grants per job, and pins actions by commit', (file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const workflow = parse(text) as { permissions?: unknown; jobs?: Record<string, { permissions?: unknown; uses?: string; steps?: { uses?: string; with?: Record<string, unknown> }[] }> };
    expect(workflow.permissions, `${file} needs a top-level "permissions:" (use {} and grant per job)`).toBeDefined();
    for (const [name, job] of Object.entries(workflow.jobs ?? {})) {
      if (workflow.permissions !== null && typeof workflow.permissions === 'object' && Object.keys(workflow.permissions).length === 0) {
        expect(job.permissions, `${file}: job ${name} needs its own "permissions:"`).toBeDefined();
      }
      for (const step of job.steps ?? []) {
        // Local actions, and this suite's own actions in templates (users pin the release they adopt).
        if (!step.uses || step.uses.startsWith('./') || /\/mlops-actions\/actions\//.test(step.uses)) continue;
        expect(step.uses, `${file}: ${step.uses} must be pinned by a full commit SHA`).toMatch(/@[0-9a-f]{40}$/);
        if (step.uses.startsWith('actions/checkout@')) {
          expect(step.with?.['persist-credentials'], `${file}: actions/checkout needs persist-credentials: false`).toBe(false);
        }
      }
    }
    for (const line of text.split('\n').filter((l) => /uses:\s*[^.\s][^@\s]*@[0-9a-f]{40}/.test(l))) {
      expect(line, `${file}: say which version a pinned SHA is, e.g. "# v5.0.0"`).toMatch(/#\s*v\d/);
    }
  });
});

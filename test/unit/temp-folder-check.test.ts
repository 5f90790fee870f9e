// The suite's own check (test/setup/temp-folder.ts) can fail: a vitest run whose test leaves a file in the
// temporary folder fails, naming it, and still leaves the temporary folder as it found it.
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

function vitest(dir: string): Promise<{ code: number; output: string }> {
  // The project's globalSetup, in a project of one test file (globals: the folder cannot import vitest).
  writeFileSync(
    join(dir, 'vitest.config.mjs'),
    `export default { test: { globals: true, include: ['*.test.mjs'], globalSetup: [${JSON.stringify(join(ROOT, 'test/setup/temp-folder.ts'))}] } };\n`,
  );
  return new Promise((resolve) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
    execFile(process.execPath, [VITEST, 'run', '--root', dir, '--config', join(dir, 'vitest.config.mjs')], { cwd: dir, env, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

describe('the temporary-folder check', () => {
  it('fails a run that leaves something behind, naming it, and removes it', async () => {
    const dir = tempDir('check-leak');
    writeFileSync(join(dir, 'leak.test.mjs'), "import { mkdirSync } from 'node:fs';\nimport { tmpdir } from 'node:os';\nit('leaks', () => mkdirSync(tmpdir() + '/left-behind-by-a-test'));\n");
    const before = readdirSync(tmpdir()).sort();
    const run = await vitest(dir);
    expect(run.code, run.output).toBe(1);
    expect(run.output).toContain('the tests left 1 entry in their temporary folder: left-behind-by-a-test');
    expect(readdirSync(tmpdir()).sort()).toEqual(before);
  });

  it('passes a run that cleans up', async () => {
    const dir = tempDir('check-clean');
    writeFileSync(join(dir, 'clean.test.mjs'), "import { mkdtempSync, rmSync } from 'node:fs';\nimport { tmpdir } from 'node:os';\nit('cleans', () => rmSync(mkdtempSync(tmpdir() + '/x-'), { recursive: true }));\n");
    const run = await vitest(dir);
    expect(run.code, run.output).toBe(0);
  });
});

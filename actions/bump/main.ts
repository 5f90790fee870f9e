import * as core from '@actions/core';
import { code, fencedBlock } from '../../src/github/escape.ts';
import { bumpFile } from '../../src/manifests/bump-file.ts';
import { bumpRequest } from '../../src/manifests/settings.ts';
import { workspacePath } from '../../src/model/workspace-path.ts';
import { booleanInput, listInput, requiredInput, stringInput } from '../_lib/inputs.ts';
import { actionsLogger, runAction } from '../_lib/run.ts';

await runAction(async () => {
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
  const manifest = workspacePath(workspace, 'manifest', requiredInput('manifest'));
  const request = bumpRequest({
    storageUri: stringInput('storage-uri'),
    images: listInput('image'),
    canaryTrafficPercent: stringInput('canary-traffic-percent'),
    annotations: listInput('annotations'),
    modelVersion: stringInput('model-version'),
    commit: stringInput('commit'),
    runUrl: stringInput('run-url'),
    data: stringInput('data'),
    select: stringInput('select'),
    createMissing: booleanInput('create-missing', false),
  });
  const result = await bumpFile(manifest, request, { cwd: workspace, logger: actionsLogger });
  core.setOutput('changed', String(result.changed));
  core.setOutput('diff', result.diff);
  await core.summary
    .addRaw(`### bump: ${code(result.target)}\n\n`)
    .addRaw(result.changed ? `${fencedBlock(result.diff, 'diff')}\n` : 'Already up to date: nothing changed.\n')
    .write();
});

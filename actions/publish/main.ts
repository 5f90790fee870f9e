import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DefaultArtifactClient } from '@actions/artifact';
import * as core from '@actions/core';
import { provenanceWarning } from '../../src/cli/commands/publish.ts';
import { htmlCode } from '../../src/github/escape.ts';
import { serializeCard } from '../../src/model/card.ts';
import { publishModel } from '../../src/model/publish.ts';
import { publishSettings } from '../../src/model/settings.ts';
import { workspacePath } from '../../src/model/workspace-path.ts';
import { openRemote } from '../../src/storage/open-remote.ts';
import { booleanInput, listInput, stringInput } from '../_lib/inputs.ts';
import { actionsLogger, runAction } from '../_lib/run.ts';

await runAction(async () => {
  const settings = publishSettings({
    modelDir: stringInput('model-dir'),
    name: stringInput('name'),
    remote: stringInput('remote'),
    endpoint: stringInput('endpoint'),
    profile: stringInput('profile'),
    metrics: stringInput('metrics'),
    params: stringInput('params'),
    data: listInput('data'),
    runJson: stringInput('run-json'),
    leg: stringInput('leg'),
    format: stringInput('format'),
  });
  const uploadArtifact = booleanInput('artifact', true);
  const cwd = process.env.GITHUB_WORKSPACE ?? process.cwd();
  // Every local path input stays inside the workspace (DESIGN §6); the remote may be any directory or bucket.
  settings.modelDir = workspacePath(cwd, 'model-dir', settings.modelDir);
  for (const input of ['profile', 'metrics', 'params', 'runJson'] as const) {
    const value = settings[input];
    if (value) settings[input] = workspacePath(cwd, input === 'runJson' ? 'run-json' : input, value);
  }
  // .dvc paths stay as given (the card records data paths relative to the workspace).
  for (const file of settings.dvcFiles ?? []) workspacePath(cwd, 'data', file);
  const warning = provenanceWarning(settings, process.env, (name) => `the ${name} input`);
  if (warning) core.warning(warning);
  const remote = openRemote(settings.remote, { cwd, ...(settings.endpoint ? { endpoint: settings.endpoint } : {}) });
  try {
    const result = await publishModel(settings, { remote, logger: actionsLogger, cwd, env: process.env });
    core.setOutput('storage-uri', result.storageUri);
    core.setOutput('version', result.version);
    core.setOutput('model-card', JSON.stringify(result.card));
    core.setOutput('status', result.status);
    if (uploadArtifact) {
      // The artifact holds exactly the version's files and its model.json, laid out as on the remote.
      const staging = await mkdtemp(join(process.env.RUNNER_TEMP ?? tmpdir(), 'mlops-publish-'));
      try {
        const paths: string[] = [];
        for (const file of result.files) {
          const target = join(staging, file.path);
          await mkdir(dirname(target), { recursive: true });
          await copyFile(file.source, target);
          paths.push(target);
        }
        await writeFile(join(staging, 'model.json'), serializeCard(result.card));
        paths.push(join(staging, 'model.json'));
        const artifact = await new DefaultArtifactClient().uploadArtifact(`model-${settings.name}-${result.version}`, paths, staging);
        core.setOutput('artifact-id', String(artifact.id ?? ''));
        // The form GitHub shows and `gh attestation` uses: sha256:<hex>.
        core.setOutput('artifact-digest', artifact.digest ? `sha256:${artifact.digest.replace(/^sha256:/, '')}` : '');
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    }
    await core.summary
      .addHeading(`publish: ${settings.name} ${result.version}`, 3)
      .addTable([
        [{ data: 'status', header: true }, { data: 'storage-uri', header: true }, { data: 'files', header: true }],
        [result.status, htmlCode(result.storageUri), String(result.card.files.length)],
      ])
      .write();
  } finally {
    await remote.close();
  }
});

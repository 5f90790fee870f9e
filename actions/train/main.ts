import { resolve } from 'node:path';
import * as core from '@actions/core';
import { DefaultArtifactClient } from '@actions/artifact';
import type { ArtifactUploader } from '../../src/train/artifact.ts';
import { escapeHtml, htmlCode, logValue } from '../../src/github/escape.ts';
import { backendFor, REMOTE_INPUTS, type RawRemoteOptions } from '../../src/train/backends/index.ts';
import { trainSettings } from '../../src/train/settings.ts';
import { runTraining } from '../../src/train/train.ts';
import { booleanInput, integerInput, requiredInput, stringInput } from '../_lib/inputs.ts';
import { actionsLogger, runAction } from '../_lib/run.ts';

function githubUploader(retentionDays: number): ArtifactUploader {
  return {
    async upload(name, files, root) {
      const client = new DefaultArtifactClient();
      const result = await client.uploadArtifact(name, files, root, retentionDays > 0 ? { retentionDays } : {});
      return { id: result.id, size: result.size, location: `artifact ${name}${result.id ? ` (id ${result.id})` : ''}` };
    },
  };
}

await runAction(async () => {
  const settings = trainSettings(
    {
      command: requiredInput('command'),
      shell: booleanInput('shell', false),
      'working-directory': stringInput('working-directory'),
      'model-dir': stringInput('model-dir'),
      metrics: stringInput('metrics'),
      'run-json': stringInput('run-json'),
      model: stringInput('model'),
      leg: stringInput('leg'),
      matrix: stringInput('matrix'),
      seed: stringInput('seed'),
      timeout: stringInput('timeout'),
      params: stringInput('params'),
      'profile-data': stringInput('profile-data'),
      'profile-label': stringInput('profile-label'),
      'profile-categorical': stringInput('profile-categorical'),
      profile: stringInput('profile'),
    },
    process.cwd(),
    process.env,
    true,
  );
  const remote = Object.fromEntries(REMOTE_INPUTS.map((name) => [name, stringInput(name)])) as RawRemoteOptions;
  const backend = await backendFor(remote, { env: process.env, cwd: process.cwd() });
  const upload = booleanInput('upload', true);
  const retentionDays = integerInput('retention-days', 0, { min: 0, max: 90 });
  const result = await runTraining(settings, {
    logger: actionsLogger,
    env: process.env,
    write: (chunk) => process.stdout.write(chunk),
    uploader: upload ? githubUploader(retentionDays) : undefined,
    ...(backend && { backend }),
  });
  core.setOutput('model-path', result.modelPath);
  core.setOutput('metrics', result.metricsPath);
  core.setOutput('run-json', result.runJsonPath);
  core.setOutput('artifact-name', result.artifactName);
  core.setOutput('artifact-id', result.artifact?.id ?? '');
  core.setOutput('leg', result.record.leg);
  core.setOutput('profile', settings.profile ? resolve(settings.workingDirectory, settings.profile.out) : '');
  const r = result.record;
  // Names, paths and versions here come from the workspace and the program: each goes in <code>, escaped.
  await core.summary
    .addHeading(`Training: ${escapeHtml(logValue(`${r.model} / ${r.leg}`))}`, 3)
    .addTable([
      [{ data: 'field', header: true }, { data: 'value', header: true }],
      ['command', htmlCode(core.toPlatformPath(JSON.stringify(r.command)))],
      ['duration', `${r['duration-seconds'].toFixed(1)} s`],
      ['runtime', Object.entries(r.runtime).map(([k, v]) => htmlCode(`${k} ${v}`)).join(', ') || '—'],
      ...(r.cluster ? [['cluster', htmlCode([`${r.backend} ${r.cluster.namespace}/${r.cluster.name}`, r.cluster.node && `node ${r.cluster.node}`, r.cluster.gpu && `GPU ${r.cluster.gpu}`, r.cluster['image-digest'] ?? r.cluster.image].filter(Boolean).join(', '))]] : []),
      ['data', r.data.map((d) => `${htmlCode(d.path)} ${htmlCode(d.md5)}`).join('<br>') || '—'],
      ['files', r.outputs.files.map((f) => `${htmlCode(f.path)} ${htmlCode(f.sha256.slice(0, 12))}`).join('<br>')],
      ['artifact', upload ? htmlCode(result.artifactName) : 'not uploaded'],
    ])
    .write();
});

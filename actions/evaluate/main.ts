import * as core from '@actions/core';
import { DefaultArtifactClient } from '@actions/artifact';
import { evaluateModel } from '../../src/evaluate/evaluate.ts';
import { writeEvaluationBundle } from '../../src/evaluate/bundle.ts';
import { evaluateSettings } from '../../src/evaluate/settings.ts';
import { listInput, requiredInput, stringInput } from '../_lib/inputs.ts';
import { actionsLogger, runAction } from '../_lib/run.ts';

await runAction(async () => {
  const settings = evaluateSettings({
    model: requiredInput('model'),
    data: requiredInput('data'),
    label: stringInput('label'),
    task: stringInput('task'),
    features: listInput('features'),
    out: stringInput('out'),
    'latency-samples': stringInput('latency-samples'),
    'batch-size': stringInput('batch-size'),
    'throughput-ms': stringInput('throughput-ms'),
  });
  const artifactName = stringInput('artifact-name');
  const result = await evaluateModel(settings, { logger: actionsLogger });
  core.setOutput('metrics', result.out);
  if (artifactName) {
    const bundle = writeEvaluationBundle({ metricsFile: result.out, runJson: stringInput('run-json'), leg: stringInput('leg') });
    try {
      const uploaded = await new DefaultArtifactClient().uploadArtifact(artifactName, bundle.files, bundle.dir);
      core.info(`Uploaded artifact ${artifactName} (id ${uploaded.id}) for leg ${bundle.leg}`);
    } finally {
      bundle.remove();
    }
  }
  core.setOutput('artifact-name', artifactName ?? '');
  const rows = Object.entries(result.metrics)
    .filter(([k]) => !k.startsWith('confusion_matrix.'))
    .map(([k, v]) => [k, Number.isInteger(v) ? String(v) : v.toPrecision(6)]);
  await core.summary
    .addHeading(`Evaluation: ${settings.model}`, 3)
    .addRaw(`${result.rows} rows of ${settings.data}, output <code>${result.output.name}</code>`, true)
    .addTable([[{ data: 'metric', header: true }, { data: 'value', header: true }], ...rows])
    .write();
});

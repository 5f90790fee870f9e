import { UsageError } from '../../errors.ts';
import { bumpFile } from '../../manifests/bump-file.ts';
import { bumpRequest } from '../../manifests/settings.ts';
import { EXIT, type Command } from '../command.ts';

export const command: Command = {
  summary: 'Set storageUri, image, canary and provenance in KServe manifests, changing no other byte',
  usage: [
    'bump <file> --storage-uri <uri> [--image name=ref]... [--canary-traffic-percent N] [--annotation k=v]... [--select Kind/name] [--create-missing]',
  ],
  allowPositionals: true,
  options: {
    'storage-uri': { type: 'string' },
    image: { type: 'string', multiple: true },
    'canary-traffic-percent': { type: 'string' },
    annotation: { type: 'string', multiple: true },
    'model-version': { type: 'string' },
    commit: { type: 'string' },
    'run-url': { type: 'string' },
    data: { type: 'string' },
    select: { type: 'string' },
    'create-missing': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  },
  help: [
    ['<file>', 'InferenceService manifest (serving.kserve.io/v1beta1) or kustomization.yaml to edit in place'],
    ['--storage-uri <uri>', 'Model location (s3://, gs://, pvc://, https://, oci://, hdfs://, hf://); also sets the model-version annotation when it ends in /sha256-<16 hex>/'],
    ['--image <name=ref>', 'Container (predictor or transformer) or kustomization images: entry, and its new image reference; repeatable'],
    ['--canary-traffic-percent <N>', 'spec.predictor.canaryTrafficPercent, 0-100 (Serverless mode only)'],
    ['--annotation <k=v>', 'Annotation to set on the InferenceService; repeatable'],
    ['--model-version, --commit, --run-url, --data', 'Provenance annotations mlops-actions.io/model-version, /commit, /run-url, /data'],
    ['--select <Kind/name>', 'The document to edit in a multi-document file (e.g. InferenceService/churn)'],
    ['--create-missing', 'Add absent target fields (storageUri, canaryTrafficPercent, image) instead of refusing'],
    ['--dry-run', 'Print the diff without writing the file'],
  ],
  async run(args, ctx) {
    const v = args.values;
    const [file, ...extra] = args.positionals;
    if (file === undefined || extra.length > 0) {
      throw new UsageError(`file: ${file === undefined ? 'missing' : JSON.stringify(extra.join(' '))} give exactly one manifest file, e.g. mlops bump manifests/base/inference.yaml --storage-uri s3://…`);
    }
    const request = bumpRequest({
      storageUri: v['storage-uri'] as string | undefined,
      images: v.image as string[] | undefined,
      canaryTrafficPercent: v['canary-traffic-percent'] as string | undefined,
      annotations: v.annotation as string[] | undefined,
      modelVersion: v['model-version'] as string | undefined,
      commit: v.commit as string | undefined,
      runUrl: v['run-url'] as string | undefined,
      data: v.data as string | undefined,
      select: v.select as string | undefined,
      createMissing: v['create-missing'] === true,
    });
    const result = await bumpFile(file, request, { cwd: ctx.cwd, logger: ctx.logger, dryRun: v['dry-run'] === true });
    if (v.json) {
      ctx.out(JSON.stringify({ file, target: result.target, changed: result.changed, changes: result.changes, diff: result.diff }, null, 2));
    } else if (result.changed) {
      ctx.out(result.diff);
    } else {
      ctx.out(`${file}: ${result.target} already up to date (changed=false)`);
    }
    return EXIT.ok;
  },
};

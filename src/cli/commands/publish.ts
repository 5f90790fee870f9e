import { UsageError } from '../../errors.ts';
import { publishModel, type PublishSettings } from '../../model/publish.ts';
import { publishSettings } from '../../model/settings.ts';
import { openRemote } from '../../storage/open-remote.ts';
import { EXIT, type Command } from '../command.ts';

export const command: Command = {
  summary: 'Publish a model directory as an immutable, content-addressed version with a model card',
  usage: ['publish <model-dir> --name <model> --remote <url> [--endpoint URL] [--profile FILE] [--metrics FILE] [--params FILE] [--data FILE.dvc]... [--run-json FILE] [--leg NAME]'],
  allowPositionals: true,
  options: {
    name: { type: 'string' },
    remote: { type: 'string' },
    endpoint: { type: 'string' },
    profile: { type: 'string' },
    metrics: { type: 'string' },
    params: { type: 'string' },
    data: { type: 'string', multiple: true },
    'run-json': { type: 'string' },
    leg: { type: 'string' },
    format: { type: 'string' },
  },
  help: [
    ['<model-dir>', 'Directory of model files (e.g. model.onnx) to publish'],
    ['--name <model>', 'Model name: the version goes to <remote>/models/<name>/sha256-<16 hex>/'],
    ['--remote <url>', 's3://bucket/prefix, file:///dir or a directory path'],
    ['--endpoint <url>', 'S3-compatible endpoint (MinIO, Ceph)'],
    ['--profile <file>', 'Reference statistics for drift, uploaded as profile.json'],
    ['--metrics <file>', 'Metrics file for the model card (default: the one run.json names)'],
    ['--params <file>', 'Params file (JSON/YAML) for the model card (default: run.json params)'],
    ['--data <file.dvc>', '.dvc file of the training data, recorded as the data version; repeatable'],
    ['--run-json <file>', 'run.json from the train step: source, params, data and metrics'],
    ['--leg <name>', 'Matrix leg that produced the model'],
    ['--format <name>', 'Model format (default: onnx when the directory holds an .onnx file)'],
  ],
  async run(args, ctx) {
    const v = args.values;
    const [modelDir, ...extra] = args.positionals;
    if (extra.length > 0) throw new UsageError(`model-dir: ${JSON.stringify(args.positionals.join(' '))} give exactly one model directory`);
    const settings = publishSettings({
      modelDir,
      name: v.name as string | undefined,
      remote: v.remote as string | undefined,
      endpoint: v.endpoint as string | undefined,
      profile: v.profile as string | undefined,
      metrics: v.metrics as string | undefined,
      params: v.params as string | undefined,
      data: v.data as string[] | undefined,
      runJson: v['run-json'] as string | undefined,
      leg: v.leg as string | undefined,
      format: v.format as string | undefined,
    });
    const warning = provenanceWarning(settings, ctx.env, (name) => `--${name}`);
    if (warning) ctx.logger.warning(warning);
    const remote = openRemote(settings.remote, { cwd: ctx.cwd, ...(settings.endpoint ? { endpoint: settings.endpoint } : {}) });
    try {
      const result = await publishModel(settings, { remote, logger: ctx.logger, cwd: ctx.cwd, env: ctx.env });
      if (v.json) {
        ctx.out(JSON.stringify({ status: result.status, version: result.version, 'storage-uri': result.storageUri, created: result.created, 'model-card': result.card }, null, 2));
      } else {
        ctx.out(`${result.status} ${settings.name} ${result.version}\nstorage-uri: ${result.storageUri}`);
      }
      return EXIT.ok;
    } finally {
      await remote.close();
    }
  },
};

/**
 * Without a run record the model card carries only what other options name: says which of metrics, params,
 * data and source it will lack, and how to fix it (`option` names an option: `--run-json`, `the run-json input`).
 */
export function provenanceWarning(settings: PublishSettings, env: NodeJS.ProcessEnv, option: (name: string) => string): string | undefined {
  if (settings.runJson) return undefined;
  const missing = [
    !settings.metrics && 'metrics',
    !settings.params && 'params',
    !settings.dvcFiles?.length && 'data',
    !env.GITHUB_SHA && 'source',
  ].filter((m): m is string => typeof m === 'string');
  if (missing.length === 0) return undefined;
  const list = missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} or ${missing.at(-1)}`;
  const name = option('run-json');
  return `${name} is not set: the model card will carry no ${list}. Set ${name} to the run.json the train step wrote (it records all four)`;
}

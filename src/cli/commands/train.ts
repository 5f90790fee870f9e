import { resolve } from 'node:path';
import { localArtifactUploader } from '../../train/artifact.ts';
import { backendFor, isLegFailed, REMOTE_INPUTS, type RawRemoteOptions } from '../../train/backends/index.ts';
import { TRAIN_DEFAULTS, trainSettings } from '../../train/settings.ts';
import { ProgramFailedError, runTraining } from '../../train/train.ts';
import { EXIT, type Command } from '../command.ts';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const DEFAULT_ARTIFACT_DIR = '.mlops/artifacts';

export const command: Command = {
  summary: 'Run a training command for one matrix leg and record run.json',
  usage: [
    'train [--model-dir model] [--metrics metrics.json] [--leg NAME] [--seed N] [--timeout 60m] -- <command> [args…]',
    'train --command "python3 train.py --epochs 3" [options]',
    'train --backend kubernetes --image REPO@sha256:… --remote s3://bucket [--namespace NS] [--resources YAML] … -- <command>',
  ],
  allowPositionals: true,
  options: {
    command: { type: 'string' },
    shell: { type: 'boolean' },
    'working-directory': { type: 'string' },
    'model-dir': { type: 'string' },
    metrics: { type: 'string' },
    'run-json': { type: 'string' },
    model: { type: 'string' },
    leg: { type: 'string' },
    matrix: { type: 'string' },
    seed: { type: 'string' },
    timeout: { type: 'string' },
    params: { type: 'string' },
    ...Object.fromEntries(REMOTE_INPUTS.map((name) => [name, { type: 'string' as const }])),
    'run-id': { type: 'string' },
    'artifact-dir': { type: 'string' },
  },
  help: [
    ['-- <command…>', 'The training program and its arguments, run without a shell'],
    ['--command TEXT', 'Alternatively one line (split like a shell would, without one) or a YAML list'],
    ['--shell', 'Run the command text with bash -eo pipefail -c (needed for pipes, redirections, $VARS)'],
    ['--working-directory DIR', 'Where the command runs; output paths are relative to it (default: .)'],
    ['--model-dir DIR', `Folder the command must write the model into (default: ${TRAIN_DEFAULTS.modelDir})`],
    ['--metrics FILE', `Metrics file the command must write (default: ${TRAIN_DEFAULTS.metrics})`],
    ['--run-json FILE', `Where to write the run record (default: ${TRAIN_DEFAULTS.runJson})`],
    ['--model NAME', 'Model name for the artifact (default: the repository name, else "model")'],
    ['--leg NAME', 'Matrix leg name (default: the --matrix values joined by "-", else "default")'],
    ['--matrix JSON', 'The matrix values, as ${{ toJSON(matrix) }} gives them'],
    ['--seed N', `MLOPS_SEED and PYTHONHASHSEED for the command (default: ${TRAIN_DEFAULTS.seed})`],
    ['--timeout DURATION', `Kill the command's process group after this long: 90s, 30m, 2h (default: ${TRAIN_DEFAULTS.timeout})`],
    ['--params JSON', 'Hyperparameters (a sweep point) for the program: MLOPS_PARAMS and the file MLOPS_PARAMS_FILE; recorded in run.json'],
    ['--backend local|kubernetes|kubeflow', 'Where the command runs: here (default), a Kubernetes Job, or a Kubeflow Trainer TrainJob'],
    ['--image REF', 'Cluster backends: the training image, pinned by digest (repo@sha256:…) or tag (not latest)'],
    ['--namespace NS', "Cluster backends: the namespace (default: the kubeconfig context's, else default)"],
    ['--service-account NAME', 'Cluster backends: the pod\'s ServiceAccount (e.g. the identity that may write the output prefix)'],
    ['--resources YAML', 'Cluster backends: {requests: {...}, limits: {nvidia.com/gpu: 1, memory: 16Gi}}'],
    ['--node-selector YAML', 'Cluster backends: node labels the pod needs, {nvidia.com/gpu.present: "true"}'],
    ['--tolerations YAML', 'Cluster backends: a list of tolerations, [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]'],
    ['--env YAML', 'Cluster backends: NAME: value (or NAME: {secretKeyRef: {name, key}}) for the pod'],
    ['--kubeconfig FILE', 'Cluster backends: default KUBECONFIG, ~/.kube/config, in-cluster (never http://localhost:8080)'],
    ['--output-uri S3', 'Cluster backends: prefix where each run writes <prefix>/<name>/ (default <remote>/runs)'],
    ['--remote S3', 'Cluster backends: the bucket (and prefix) for the default output-uri'],
    ['--endpoint URL', 'Cluster backends: an S3-compatible endpoint for the output prefix'],
    ['--runtime NAME', 'kubeflow: the ClusterTrainingRuntime (default torch-distributed)'],
    ['--num-nodes N', 'kubeflow: training nodes (default 1)'],
    ['--run-id ID', 'Cluster backends: the run this leg belongs to (default: GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT); the same id finds its Job again'],
    ['--artifact-dir DIR', `Local folder receiving the artifact mlops-<model>-<leg>/ (default: ${DEFAULT_ARTIFACT_DIR})`],
  ],
  async run({ values, positionals }, ctx) {
    const settings = trainSettings(
      {
        command: str(values.command),
        argv: positionals,
        shell: values.shell === true,
        'working-directory': str(values['working-directory']),
        'model-dir': str(values['model-dir']),
        metrics: str(values.metrics),
        'run-json': str(values['run-json']),
        model: str(values.model),
        leg: str(values.leg),
        matrix: str(values.matrix),
        seed: str(values.seed),
        timeout: str(values.timeout),
        params: str(values.params),
      },
      ctx.cwd,
      ctx.env,
      false,
    );
    const artifactDir = resolve(ctx.cwd, str(values['artifact-dir']) ?? DEFAULT_ARTIFACT_DIR);
    const remote = Object.fromEntries(REMOTE_INPUTS.map((name) => [name, str(values[name])])) as RawRemoteOptions;
    const runId = str(values['run-id']);
    const backend = await backendFor(remote, { env: ctx.env, cwd: ctx.cwd, ...(runId && { runId }) });
    let result;
    try {
      result = await runTraining(settings, {
        logger: ctx.logger,
        env: ctx.env,
        write: (chunk) => process.stderr.write(chunk),
        uploader: localArtifactUploader(artifactDir),
        ...(backend && { backend }),
      });
    } catch (error) {
      // The program said no, and its output (a stack trace, say) is already on stderr: say so once, exit 1.
      if (error instanceof ProgramFailedError) {
        ctx.logger.error(`mlops train: ${error.summary} (its output is above); nothing was recorded or uploaded`);
      } else if (isLegFailed(error)) {
        ctx.logger.error(`mlops train: ${error.message}`);
      } else {
        throw error;
      }
      return EXIT.no;
    }
    const summary = {
      'model-path': result.modelPath,
      metrics: result.metricsPath,
      'run-json': result.runJsonPath,
      'artifact-name': result.artifactName,
      'artifact-path': result.artifact?.location,
      leg: result.record.leg,
      'duration-seconds': result.record['duration-seconds'],
    };
    if (values.json) ctx.out(JSON.stringify(summary));
    else ctx.out(Object.entries(summary).map(([k, v]) => `${k}: ${v}`).join('\n'));
    return EXIT.ok;
  },
};

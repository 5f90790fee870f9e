import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { UsageError, badInput } from '../errors.ts';
import type { Logger } from '../log.ts';
import { readMetricsFile } from '../metrics/read.ts';
import { onnxProblem } from '../onnx/check.ts';
import { writeTrainingProfile, type TrainingProfile } from '../drift/training-profile.ts';
import type { ArtifactUploader, UploadResult } from './artifact.ts';
import type { BackendRun, TrainBackend } from './backends/types.ts';
import { writeParamsFile } from './params.ts';
import { runProcess, type ProcessResult } from './process.ts';
import {
  RUN_SCHEMA,
  artifactName,
  detectRuntimes,
  digests,
  listFiles,
  readDataVersions,
  readParams,
  sourceFromEnv,
  sourceFromGit,
  toPosix,
  type RunRecord,
} from './record.ts';

export interface TrainSettings {
  /** argv to run (see parseCommand). */
  command: string[];
  shell: boolean;
  /** Absolute; the program runs here and output paths are relative to it. */
  workingDirectory: string;
  /** Absolute; searched for `.dvc` files. */
  workspace: string;
  /** Relative to the working directory. */
  modelDir: string;
  metrics: string;
  runJson: string;
  model: string;
  leg: string;
  matrix: Record<string, unknown> | null;
  seed: number;
  timeoutMs: number;
  /** Wrap the program's output in a stop-commands block (in GitHub Actions). */
  protectOutput: boolean;
  /** Hyperparameters (a sweep point): given to the program as MLOPS_PARAMS and MLOPS_PARAMS_FILE, recorded as run.json's params. */
  params?: Record<string, unknown>;
  /** Write the reference profile of the training data beside the model (drift). */
  profile?: TrainingProfile;
}

export interface TrainDeps {
  logger: Logger;
  /** The environment the program inherits (plus seeds); secrets of the runner are removed. */
  env: NodeJS.ProcessEnv;
  /** Where the program's output is streamed. */
  write(chunk: string): void;
  /** Skipped when absent. */
  uploader?: ArtifactUploader;
  /** Grace between SIGTERM and SIGKILL on timeout. */
  graceMs?: number;
  /** Runs the command elsewhere (a Kubernetes Job, a Kubeflow TrainJob); absent: here, as a child process. */
  backend?: TrainBackend;
}

export interface TrainResult {
  record: RunRecord;
  modelPath: string;
  metricsPath: string;
  runJsonPath: string;
  artifactName: string;
  artifact?: UploadResult;
}

/**
 * Variables the training program must not see: the runner's artifact token, and the files through which a
 * step sets outputs, env and PATH (the stop-commands block covers stdout; removing these covers the files).
 */
const WITHHELD = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL', 'ACTIONS_RUNTIME_URL', 'GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY'];

export function childEnv(env: NodeJS.ProcessEnv, settings: Pick<TrainSettings, 'seed' | 'leg' | 'modelDir' | 'metrics' | 'params'>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('INPUT_') && !WITHHELD.includes(key)) out[key] = value;
  }
  return {
    ...out,
    MLOPS_SEED: String(settings.seed),
    PYTHONHASHSEED: String(settings.seed),
    MLOPS_LEG: settings.leg,
    MLOPS_MODEL_DIR: settings.modelDir,
    MLOPS_METRICS: settings.metrics,
    ...(settings.params && { MLOPS_PARAMS: JSON.stringify(settings.params) }),
  };
}

/** Resolves `path` under `root`, refusing absolute paths and `..` escapes. */
export function inside(root: string, path: string, input: string): string {
  const full = resolve(root, path);
  const rel = relative(root, full);
  if (isAbsolute(path) || rel.startsWith('..') || isAbsolute(rel)) {
    throw badInput(input, path, 'must be a relative path inside the working directory');
  }
  return full;
}

/**
 * The training program itself failed (non-zero exit or a signal): the program said no. The message ends with
 * its last output lines, for an annotation; `summary` is the first line, for a terminal that already showed them.
 */
export class ProgramFailedError extends UsageError {
  override name = 'ProgramFailedError';
  readonly summary: string;
  constructor(summary: string, tail: string) {
    super(`${summary}. Last output:\n${tail}`);
    this.summary = summary;
  }
}

/** The Actions run that trained, else the git commit checked out where the program ran (a laptop, another CI). */
async function recordSource(env: NodeJS.ProcessEnv, leg: string, cwd: string): Promise<RunRecord['source']> {
  const source = sourceFromEnv(env, leg);
  return source.commit ? source : { ...source, ...(await sourceFromGit(cwd, env)) };
}

function lastLines(tail: string[]): string {
  return tail.length === 0 ? '(no output)' : tail.map((l) => `  | ${l}`).join('\n');
}

/**
 * Runs one matrix leg's training command, checks its outputs, writes run.json and uploads the artifact.
 * Every failure of the program or its outputs is a UsageError (exit 2 / failed step), except a timeout (exit 3:
 * the run could not complete); either way nothing is uploaded.
 */
export async function runTraining(settings: TrainSettings, deps: TrainDeps): Promise<TrainResult> {
  const cwd = settings.workingDirectory;
  if (!existsSync(cwd) || !statSync(cwd).isDirectory()) throw badInput('working-directory', cwd, 'is not a folder: create it or fix the path');
  const modelDir = inside(cwd, settings.modelDir, 'model-dir');
  const metricsPath = inside(cwd, settings.metrics, 'metrics');
  const runJsonPath = inside(cwd, settings.runJson, 'run-json');
  const env = childEnv(deps.env, settings);

  deps.logger.info(`Running ${JSON.stringify(settings.command)} in ${cwd} (leg ${settings.leg}, seed ${settings.seed}, timeout ${settings.timeoutMs / 1000}s)`);
  const remote = deps.backend && (await deps.backend.run({ settings, write: deps.write, logger: deps.logger }));
  const handoff = settings.params && !remote ? writeParamsFile(settings.params) : undefined;
  let result: ProcessResult;
  try {
    result = remote ?? await runProcess({
      argv: settings.command,
      cwd,
      env: handoff ? { ...env, MLOPS_PARAMS_FILE: handoff.path } : env,
      timeoutMs: settings.timeoutMs,
      write: deps.write,
      protectOutput: settings.protectOutput,
      graceMs: deps.graceMs,
    });
  } finally {
    handoff?.remove();
  }
  const program = settings.shell ? 'the shell command' : JSON.stringify(settings.command[0]);
  if (result.timedOut) {
    // Not bad input: the run could not complete in the time given (exit 3), like any other interrupted work.
    throw new Error(`timeout: ${settings.timeoutMs / 1000}s was reached: ${program} was stopped (its process group killed); raise the timeout input or make training faster. Last output:\n${lastLines(result.tail)}`);
  }
  if (result.exitCode !== 0) {
    const how = result.exitCode === null ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    throw new ProgramFailedError(`command: ${program} ${how}`, lastLines(result.tail));
  }

  if (!existsSync(modelDir) || !statSync(modelDir).isDirectory()) {
    throw badInput('model-dir', settings.modelDir, `was not written by the command: it must create this folder with the model in it (under ${cwd})`);
  }
  const modelFiles = listFiles(modelDir);
  if (modelFiles.length === 0) throw badInput('model-dir', settings.modelDir, 'is empty after training: the command must write the model files there');
  for (const file of modelFiles.filter((f) => f.endsWith('.onnx'))) {
    const problem = onnxProblem(file);
    if (problem) throw badInput('model-dir', toPosix(relative(cwd, file)), `cannot be loaded: ${problem}`);
  }
  if (!existsSync(metricsPath)) throw badInput('metrics', settings.metrics, `was not written by the command (looked in ${cwd})`);
  await readMetricsFile(metricsPath, `metrics: ${settings.metrics}`);

  const { file: paramsFile, params } = readParams(cwd);
  const profile = await writeTrainingProfile(settings.profile, { cwd, workspace: settings.workspace, modelDir, modelFiles, logger: deps.logger });
  const outputs = [...new Set([...modelFiles, metricsPath, ...(paramsFile ? [join(cwd, paramsFile)] : []), ...(remote?.extraFiles ?? []), ...(profile ? [profile] : [])])];
  const record: RunRecord = {
    schema: RUN_SCHEMA,
    model: settings.model,
    leg: settings.leg,
    matrix: settings.matrix,
    command: settings.command,
    shell: settings.shell,
    'working-directory': toPosix(relative(settings.workspace, cwd)) || '.',
    seed: settings.seed,
    'exit-code': 0,
    started: result.started.toISOString(),
    ended: result.ended.toISOString(),
    'duration-seconds': (result.ended.getTime() - result.started.getTime()) / 1000,
    runtime: remote ? {} : await detectRuntimes(settings.command, env, cwd),
    params: settings.params ?? params,
    data: readDataVersions(settings.workspace),
    source: await recordSource(deps.env, settings.leg, cwd),
    metrics: toPosix(relative(cwd, metricsPath)),
    outputs: { 'model-dir': toPosix(relative(cwd, modelDir)), files: await digests(outputs, cwd) },
    ...(remote && { backend: remote.backend, cluster: remote.placement }),
  };
  mkdirSync(dirname(runJsonPath), { recursive: true });
  const tmp = `${runJsonPath}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n');
  renameSync(tmp, runJsonPath);

  const name = artifactName(settings.model, settings.leg);
  let artifact: UploadResult | undefined;
  if (deps.uploader) {
    artifact = await deps.uploader.upload(name, [...outputs, runJsonPath], cwd);
    deps.logger.info(`Uploaded artifact ${name} (${artifact.location})`);
  }
  // The .onnx file when there is exactly one (what evaluate and publish take), else the folder.
  const onnxFiles = modelFiles.filter((f) => f.endsWith('.onnx'));
  const modelPath = onnxFiles.length === 1 ? (onnxFiles[0] as string) : modelDir;
  return { record, modelPath, metricsPath, runJsonPath, artifactName: name, artifact };
}

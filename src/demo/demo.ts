import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { writeDataset } from '../../scripts/generate-data.ts';
import { runData } from '../data/run.ts';
import { evaluateModel, DEFAULTS as EVALUATE_DEFAULTS } from '../evaluate/index.ts';
import { runGate, type GateResult } from '../gates/index.ts';
import { runPullRequest, type PullRequestRunResult } from '../gitops/pull-request.ts';
import type { Logger } from '../log.ts';
import { productionChampion } from '../model/champion.ts';
import { publishModel, type PublishResult } from '../model/publish.ts';
import { renderGateReport } from '../report/index.ts';
import { LocalRemote } from '../storage/local-remote.ts';
import { runTraining, trainSettings } from '../train/index.ts';
import { driftSummaryLines, runDriftStep, type DriftStepResult } from './drift-step.ts';
import { checkFreshWorkdir } from './fresh.ts';
import { manifestOnMain, mergeBranch, seedGitopsRepo } from './gitops-repo.ts';
import { commitProject } from './project-repo.ts';
import { runSweepStep } from './sweep-step.ts';
import { serveProduction } from './production-server.ts';
import { rolloutStepSummary, runRolloutStep, type RolloutStepResult } from './rollout-step.ts';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const MODEL = 'churn';
const ENVIRONMENT = 'production';
const MANIFEST = `manifests/overlays/${ENVIRONMENT}/inference-patch.yaml`;
/** The demo's model store is a local folder standing in for this bucket: manifests name the bucket, as in a cluster. */
export const DEMO_BUCKET = 's3://mlops-demo/';
const PYTHON = '/usr/bin/python3';
/** How every leg and the production model are scored (the gate compares numbers measured the same way). */
const HOLDOUT = 'data/holdout.csv';
const SCORING = { label: 'label', task: 'binary', latencySamples: 50, batchSize: EVALUATE_DEFAULTS.batchSize, throughputMs: 20 } as const;
/** The version manifests/ deploys before the first bump. */
const SKELETON_VERSION = /\/sha256-0{16}\//;
const AUTHOR = { name: 'mlops-actions[bot]', email: 'mlops-actions@users.noreply.github.com' };

/** Embedded gate rules: stable quality metrics only (latency would make the demo's verdict machine-dependent). */
const RULES = `# Written by mlops demo. The gate compares every leg with what production serves.
aggregate: best
select: roc_auc
baseline: production
metrics:
  roc_auc: { min: 0.70, max-drop: 0.02 }
  accuracy: { min: 0.65, max-drop: 0.03 }
  f1: { min: 0.40 }
  log_loss: { direction: lower, max-rise: 10%, severity: warn }
`;

export interface DemoOptions {
  workdir: string;
  /** Start over: delete the work folder first. */
  fresh: boolean;
  /** Leave the PR open instead of merging it (so production does not change). */
  merge: boolean;
  /** Skip the Python leg even when Debian's python3 has numpy, scikit-learn and onnx. */
  python: boolean;
}

export interface DemoDeps {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** The caller's current directory, which --fresh never deletes (default process.cwd()). */
  cwd?: string;
}

export interface DemoLeg {
  name: string;
  dir: string;
  metrics: Record<string, number>;
}

export interface DemoResult {
  run: number;
  workdir: string;
  legs: DemoLeg[];
  pythonLeg: 'trained' | 'unavailable' | 'skipped';
  gate: GateResult;
  gateReport: string;
  published?: PublishResult;
  pullRequest?: PullRequestRunResult;
  merged: boolean;
  /** The version production served before this run (the gate's baseline), if any. */
  production?: string;
  /** After the merge: the merged version served by mlops serve and verified by mlops rollout --cluster none. */
  rollout?: RolloutStepResult;
  /** The last step: shifted traffic to production, drift on its payload logs, the retrain dispatch. */
  drift?: DriftStepResult;
  paths: { project: string; dataRemote: string; modelStore: string; gitops: string; prFile: string; gateReport: string };
  seconds: number;
}

interface State {
  runs: number;
}

const run = promisify(execFile);

/** Debian's python3 version (`3.11`) when it has numpy, scikit-learn and onnx; undefined otherwise. */
export async function pythonLegVersion(): Promise<string | undefined> {
  if (!existsSync(PYTHON)) return undefined;
  const probe = 'import sys, numpy, sklearn, onnx; print("%d.%d" % sys.version_info[:2])';
  return run(PYTHON, ['-c', probe], { timeout: 30_000 }).then(
    ({ stdout }) => stdout.trim(),
    () => undefined,
  );
}

/** The whole loop, locally: data → train legs → evaluate → gate → publish → GitOps PR (to a file) → merge. */
export async function runDemo(options: DemoOptions, deps: DemoDeps): Promise<DemoResult> {
  const started = Date.now();
  const { logger } = deps;
  // Values of the surrounding CI (if any) must not leak into the demo's provenance or git.
  const env = Object.fromEntries(Object.entries(deps.env).filter(([k]) => !k.startsWith('GITHUB_') && !k.startsWith('GIT_') && !k.startsWith('INPUT_')));
  const workdir = options.workdir;
  if (options.fresh) {
    checkFreshWorkdir(workdir, { cwd: deps.cwd ?? process.cwd(), ...(deps.env.HOME && { home: deps.env.HOME }) });
    await rm(workdir, { recursive: true, force: true });
  }
  const paths = {
    project: join(workdir, 'project'),
    dataRemote: join(workdir, 'store', 'dvc'),
    modelStore: join(workdir, 'store'),
    gitops: join(workdir, 'gitops.git'),
    prFile: join(workdir, 'pull-request.md'),
    gateReport: join(workdir, 'gate-report.md'),
  };
  const statePath = join(workdir, 'demo-state.json');
  const state: State = existsSync(statePath) ? (JSON.parse(await readFile(statePath, 'utf8')) as State) : { runs: 0 };
  const runNumber = state.runs + 1;
  // The project is its own DVC project (what `dvc init` makes), so data commands never climb to an enclosing
  // repository, such as this one when the demo runs in .mlops-demo/ of a clone.
  await mkdir(join(paths.project, '.dvc'), { recursive: true });
  if (!existsSync(paths.gitops)) {
    logger.info(`Seeding the GitOps repository ${paths.gitops} from manifests/`);
    await seedGitopsRepo(paths.gitops, join(PACKAGE_ROOT, 'manifests'), env);
  }
  await writeFile(join(paths.project, '.mlops-gates.yml'), RULES);

  // 1. Data: a new batch each run (as if more data arrived), versioned with DVC and pushed to the local remote.
  logger.info(`[run ${runNumber}] 1/6 data: generating and pushing data/ (DVC) to ${paths.dataRemote}`);
  writeDataset(join(paths.project, 'data'), { rows: 2000 + 1000 * (runNumber - 1), seed: 41 + runNumber });
  const dataSettings = { targets: ['data'], jobs: 8, allowEmpty: false, cwd: paths.project };
  await runData({ ...dataSettings, command: 'add' }, { logger });
  const pushed = await runData({ ...dataSettings, command: 'push', remote: paths.dataRemote }, { logger });
  logger.info(`      data ${pushed.outputs.map((o) => o.md5).join(', ')}: ${pushed.transferred} object(s) pushed, ${pushed.skipped} already there`);

  // 2. Train: the Node leg always; the Python leg when Debian's python3 can.
  const pythonVersion = options.python ? await pythonLegVersion() : undefined;
  const pythonLeg = !options.python ? 'skipped' : pythonVersion ? 'trained' : 'unavailable';
  // The legs train different models (the Python leg regularises harder), so the gate's best-leg choice shows.
  const nodeTrainer = [process.execPath, join(PACKAGE_ROOT, 'bin/mlops.js'), 'example', 'train'];
  const legSpecs = [{ name: `node-${process.versions.node.split('.')[0]}`, argv: [...nodeTrainer, '--c', '1.0'] }];
  if (pythonVersion) legSpecs.push({ name: `python-${pythonVersion}`, argv: [PYTHON, join(PACKAGE_ROOT, 'scripts/train.py'), '--c', '0.02'] });
  // The commit the pipeline runs on: run.json, and so the model card, record it as the source.
  await commitProject(paths.project, `Run ${runNumber}: data ${pushed.outputs.map((o) => o.md5).join(', ')}`, env);
  for (const leg of legSpecs) {
    // Each leg in its own folder: its params.yaml is where run.json looks for the params (the working directory).
    const dir = `legs/${leg.name}`;
    logger.info(`[run ${runNumber}] 2/6 train: leg ${leg.name}`);
    await rm(join(paths.project, dir), { recursive: true, force: true });
    await mkdir(join(paths.project, dir), { recursive: true });
    const argv = [...leg.argv, '--train', '../../data/train.csv', '--holdout', '../../data/holdout.csv', '--schema', '../../data/schema.json', '--model-dir', 'model', '--metrics', 'train-metrics.json', '--params', 'params.yaml'];
    const settings = trainSettings(
      { argv, 'working-directory': dir, 'model-dir': 'model', metrics: 'train-metrics.json', 'run-json': 'run.json', model: MODEL, leg: leg.name, timeout: '5m', 'profile-data': '../../data/train.csv', 'profile-categorical': 'contract,payment_method,internet_service', profile: 'profile.json' },
      paths.project,
      env,
      false,
    );
    await runTraining(settings, { logger, env, write: () => {} });
  }
  // 3. Evaluate every leg independently with onnxruntime on the holdout: the gate trusts these numbers.
  const legs: DemoLeg[] = [];
  for (const leg of legSpecs) {
    const dir = `legs/${leg.name}`;
    logger.info(`[run ${runNumber}] 3/6 evaluate: leg ${leg.name} on data/holdout.csv with onnxruntime`);
    const evaluated = await evaluateModel(
      { ...SCORING, model: join(paths.project, dir, 'model/model.onnx'), data: join(paths.project, HOLDOUT), out: join(paths.project, dir, 'metrics.json') },
      { logger },
    );
    legs.push({ name: leg.name, dir, metrics: { ...evaluated.metrics } });
  }
  // 2b. A 4-point hyperparameter sweep of the Node leg (what the template's sweep job fans out); it only explores.
  const sweep = await runSweepStep({ project: paths.project, trainer: nodeTrainer, rules: '.mlops-gates.yml', model: MODEL, env, logger, reportFile: join(workdir, 'sweep-report.md') });
  logger.info(`[run ${runNumber}] sweep: ${sweep.legs.length} points of C on the Node leg, best ${sweep.bestLeg ?? 'none'} (report: ${join(workdir, 'sweep-report.md')})`);
  if (pythonLeg === 'unavailable') {
    logger.notice(`Python leg skipped: ${PYTHON} lacks numpy, scikit-learn or onnx. Enable it with: sudo apt-get install -y python3-numpy python3-sklearn python3-onnx`);
  }

  // 4. Gate all legs together against what production serves now: the model.json of the version that
  // production's manifest on the GitOps main branch deploys, found the way the gate action finds it.
  const productionManifest = join(workdir, 'production-manifest.yaml');
  await writeFile(productionManifest, await manifestOnMain(paths.gitops, MANIFEST, env));
  let production: string | undefined;
  logger.info(`[run ${runNumber}] 4/6 gate: ${legs.length} leg(s) against what ${MANIFEST} deploys on main`);
  const { result: gate, rules } = await runGate(
    { metrics: legs.map((l) => `${l.name}=${l.dir}/metrics.json`), rules: '.mlops-gates.yml', cwd: paths.project },
    {
      logger,
      resolveProductionBaseline: async () => {
        // The GitOps skeleton deploys a placeholder version that was never published: the one case the demo
        // lets the gate treat as "nothing in production yet" (the gate fails closed on any other unreadable card).
        const allowMissing = SKELETON_VERSION.test(await readFile(productionManifest, 'utf8'));
        // Production is scored again on today's holdout with the legs' settings: like is compared with like.
        const found = await productionChampion(
          { manifest: productionManifest, remote: paths.modelStore, allowMissing, rescore: { ...SCORING, holdout: HOLDOUT } },
          { cwd: paths.project, logger, openRemote: (url) => new LocalRemote(url) },
        );
        production = /sha256-[0-9a-f]{16}/.exec(found?.source ?? '')?.[0];
        return found;
      },
    },
  );
  const gateReport = renderGateReport(gate, { rules, title: `${MODEL} (demo run ${runNumber})` });
  await writeFile(paths.gateReport, gateReport);

  const result: DemoResult = { run: runNumber, workdir, legs, pythonLeg, gate, gateReport, merged: false, production, paths, seconds: 0 };
  const finish = async () => {
    await writeFile(statePath, `${JSON.stringify({ runs: runNumber } satisfies State)}\n`);
    result.seconds = (Date.now() - started) / 1000;
    return result;
  };
  if (!gate.passed || !gate.bestLeg) {
    logger.warning(`gate did not pass: nothing is published (report: ${paths.gateReport})`);
    return finish();
  }

  // 5. Publish the best leg as an immutable, content-addressed version.
  const best = legs.find((l) => l.name === gate.bestLeg) ?? legs[0];
  if (!best) throw new Error('no leg to publish');
  logger.info(`[run ${runNumber}] 5/6 publish: best leg ${best.name} to ${paths.modelStore}`);
  result.published = await publishModel(
    { modelDir: `${best.dir}/model`, name: MODEL, metrics: `${best.dir}/metrics.json`, runJson: `${best.dir}/run.json`, dvcFiles: ['data.dvc'], leg: best.name, profile: `${best.dir}/profile.json` },
    { remote: new LocalRemote(paths.modelStore), logger, cwd: paths.project, env },
  );
  const version = result.published.version;

  // 6. Bump production's manifest on mlops/churn/production in the GitOps repository; the PR goes to a file.
  logger.info(`[run ${runNumber}] 6/6 pull-request: bump ${MANIFEST} to ${version} in ${paths.gitops}`);
  result.pullRequest = await runPullRequest(
    {
      repository: pathToFileURL(paths.gitops).href,
      serverUrl: 'https://github.com',
      model: MODEL,
      environment: ENVIRONMENT,
      change: { kind: 'bump', manifests: [MANIFEST], bump: {} },
      modelCard: join(paths.modelStore, 'models', MODEL, version, 'model.json'),
      storageUri: `${DEMO_BUCKET}models/${MODEL}/${version}/`,
      // The PR compares with the model.json of the version the manifest deploys on main, read from the store.
      remote: paths.modelStore,
      showMetrics: rules.metrics.map(([name]) => name),
      title: undefined,
      labels: [],
      draft: false,
      force: false,
      author: AUTHOR,
      prFile: paths.prFile,
      cwd: paths.project,
    },
    { logger, env, openRemote: (url) => new LocalRemote(url) },
  );
  const pr = result.pullRequest;
  if (options.merge && pr.commit && !pr.baseHasChange) {
    await mergeBranch(paths.gitops, pr.branch, pr.commit, pr.baseCommit, env);
    result.merged = true;
    logger.info(`      merged ${pr.branch} into main: production now serves ${version} (what a reviewer's merge and ArgoCD's sync would do)`);
  }
  // What ArgoCD and KServe would do now: serve what production's manifest on main deploys.
  const serving = await serveProduction({ gitops: paths.gitops, manifest: MANIFEST, modelStore: paths.modelStore, bucket: DEMO_BUCKET, model: MODEL, payloadLog: join(workdir, 'payload-logs', MODEL, `run-${runNumber}`), env, logger });
  try {
    if (serving && result.merged) result.rollout = await runRolloutStep(serving, { model: MODEL, modelStore: paths.modelStore, env, logger });
    result.drift = await runDriftStep(serving, { workdir, model: MODEL, run: runNumber }, { logger });
  } finally {
    await serving?.server.close();
  }
  return finish();
}

/** The closing summary: what happened and where everything is. */
export function demoSummary(r: DemoResult, cwd: string): string {
  const rel = (p: string) => (relative(cwd, p).startsWith('..') ? p : relative(cwd, p) || '.');
  const lines = [`mlops demo, run ${r.run} (${r.seconds.toFixed(1)} s)`, ''];
  const width = Math.max(10, ...r.legs.map((leg) => leg.name.length + 1));
  for (const leg of r.legs) {
    lines.push(`  leg ${leg.name.padEnd(width)} accuracy ${fmt(leg.metrics.accuracy)}  roc_auc ${fmt(leg.metrics.roc_auc)}  f1 ${fmt(leg.metrics.f1)}`);
  }
  if (r.pythonLeg === 'unavailable') lines.push('  (Python leg: install python3-numpy python3-sklearn python3-onnx to add it)');
  const base = r.gate.baseline?.production;
  const against = !base ? 'no baseline (nothing in production yet)' : base.rescored ? `production ${base.version} re-scored on ${base.rescored.holdout} (${base.rescored.rows} rows)` : `production ${base.version} (its stored metrics)`;
  lines.push(`  gate       ${r.gate.passed ? 'passed' : 'FAILED'} against ${against}; best leg ${r.gate.bestLeg ?? '-'}`);
  if (r.published) lines.push(`  published  ${r.published.version} (${r.published.status})`);
  if (r.pullRequest) {
    lines.push(`  pull request ${r.pullRequest.operation}: ${r.pullRequest.branch} -> ${r.pullRequest.base}${r.merged ? ', merged (production updated)' : ''}`);
  }
  lines.push(...rolloutStepSummary(r.rollout, cwd));
  const drift = driftSummaryLines(r.drift, rel);
  lines.push(...drift.status);
  lines.push(
    '',
    'Where everything is:',
    `  project (data, legs, DVC)  ${rel(r.paths.project)}`,
    `  gate report                ${rel(r.paths.gateReport)}`,
    `  pull request (title+body)  ${rel(r.paths.prFile)}`,
    `  GitOps repository (bare)   ${rel(r.paths.gitops)}   git --git-dir ${rel(r.paths.gitops)} log --oneline --all`,
    `  data remote (DVC)          ${rel(r.paths.dataRemote)}`,
    `  model store (${DEMO_BUCKET}) ${rel(r.paths.modelStore)}/models`,
    ...drift.paths,
    '',
    r.run > 1
      ? 'Start over with --fresh.'
      : r.merged
        ? 'Run it again: the next model is gated against this one as production, in a new PR.'
        : 'Run it again: the next model updates this open PR (production is unchanged until it is merged).',
  );
  return lines.join('\n');
}

function fmt(n: number | undefined): string {
  return n === undefined ? '-' : n.toFixed(4);
}

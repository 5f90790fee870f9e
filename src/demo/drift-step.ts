/**
 * The demo's last step, closing the loop: production gets an hour of traffic shifted on two features, the
 * served model answers it, the payload logger's records land in the demo's "bucket", `mlops drift` compares
 * them with the profile published with the version, shows the report, and writes the retrain dispatch it
 * would send to GitHub to a file (as the demo does for the pull request).
 *
 * `mlops serve` is not in this release, so the step scores the traffic with onnxruntime itself and writes
 * the CloudEvents records the way `mlops serve --log-payloads` writes them (DESIGN §4.7).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURES, generateRows } from '../../scripts/generate-data.ts';
import { REQUEST, RESPONSE } from '../drift/read/fast-v1.ts';
import { renderDriftReport } from '../drift/report.ts';
import { closeTheLoop } from '../drift/retrain.ts';
import { runDrift } from '../drift/run.ts';
import { writeFileAtomic } from '../drift/write-file.ts';
import { loadOnnxRuntime } from '../evaluate/onnxruntime-loader.ts';
import { describeDispatch } from '../github/workflow-dispatch.ts';
import type { Logger } from '../log.ts';

export interface DriftStepOptions {
  workdir: string;
  /** The local folder standing in for the model bucket. */
  modelStore: string;
  model: string;
  /** The version production serves after this run. */
  version: string | undefined;
  run: number;
  /** "Now", so the window is the last complete hour. */
  now?: number;
}

export interface DriftStepResult {
  version: string;
  window: string;
  rows: number;
  drifted: boolean;
  insufficient: boolean;
  /** Drifted input features (the ones that decide dataset drift by default). */
  featuresDrifted: string[];
  /** Whether the prediction distribution drifted too. */
  outputsDrifted: boolean;
  paths: { payloadLog: string; report: string; dispatch?: string };
}

/** The demo's traffic shift: customers a year newer and paying 25 more a month. */
const SHIFTED = { tenure_months: -12, monthly_charges: 25 } as const;
const ROWS = 2000;
const ROWS_PER_REQUEST = 20;
const HOUR = 3_600_000;
/** Dataset drift when a quarter of the columns drift: the demo shifts two of eight. */
const RULES = 'min-rows: 1000\ndrift-share: 0.25\n';

function shiftedTraffic(seed: number): number[][] {
  const at = (name: string) => FEATURES.indexOf(name);
  return generateRows({ rows: ROWS, seed }).map((row) => {
    const x = row.slice(0, FEATURES.length);
    x[at('tenure_months')] = Math.max(0, x[at('tenure_months')]! + SHIFTED.tenure_months);
    x[at('monthly_charges')] = Number((x[at('monthly_charges')]! + SHIFTED.monthly_charges).toFixed(2));
    return x;
  });
}

/** The served model's answers: class probabilities per row. */
async function score(modelFile: string, rows: number[][], logger: Logger): Promise<number[][]> {
  const { ort } = await loadOnnxRuntime({ logger });
  const session = await ort.InferenceSession.create(readFileSync(modelFile), { logSeverityLevel: 3 });
  try {
    const input = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, FEATURES.length]);
    const out = await session.run({ [session.inputNames[0]!]: input });
    const probabilities = (out.probabilities ?? Object.values(out).find((t) => t.type === 'float32'))!.data as Float32Array;
    const width = probabilities.length / rows.length;
    return rows.map((_, i) => Array.from(probabilities.subarray(i * width, (i + 1) * width), (p) => Number(p.toFixed(6))));
  } finally {
    await session.release();
  }
}

function payloadRecords(model: string, run: number, rows: number[][], predictions: number[][], start: number): string {
  const lines: string[] = [];
  const requests = Math.ceil(rows.length / ROWS_PER_REQUEST);
  for (let r = 0; r < requests; r++) {
    const from = r * ROWS_PER_REQUEST;
    const to = Math.min(rows.length, from + ROWS_PER_REQUEST);
    const base = {
      specversion: '1.0',
      id: `demo-${run}-${String(r).padStart(4, '0')}`,
      source: `http://${model}-predictor.default/v1/models/${model}:predict`,
      time: new Date(start + Math.floor((r * HOUR) / requests)).toISOString(),
      inferenceservicename: model,
      namespace: 'default',
      component: 'predictor',
      endpoint: 'default',
      datacontenttype: 'application/json',
    };
    lines.push(JSON.stringify({ ...base, type: REQUEST, data: { instances: rows.slice(from, to) } }));
    lines.push(JSON.stringify({ ...base, type: RESPONSE, data: { predictions: predictions.slice(from, to) } }));
  }
  return `${lines.join('\n')}\n`;
}

export async function runDriftStep(options: DriftStepOptions, deps: { logger: Logger }): Promise<DriftStepResult | undefined> {
  const { logger, model } = { logger: deps.logger, model: options.model };
  if (!options.version) {
    logger.info('      drift: nothing in production yet, so no traffic to watch');
    return undefined;
  }
  const versionDir = join(options.modelStore, 'models', model, options.version);
  if (!existsSync(join(versionDir, 'profile.json'))) {
    logger.info(`      drift: ${options.version} was published without a profile (an older demo run); run the demo again`);
    return undefined;
  }
  // The last complete hour: what the scheduled drift workflow would check now.
  const until = Math.floor((options.now ?? Date.now()) / HOUR) * HOUR;
  const since = until - HOUR;
  const rows = shiftedTraffic(1000 + options.run);
  const predictions = await score(join(versionDir, 'model.onnx'), rows, logger);
  const day = new Date(since).toISOString().slice(0, 10);
  const payloadLog = join(options.workdir, 'payload-logs', model, day, `${new Date(since).toISOString().slice(11, 13)}00-run${options.run}.jsonl`);
  writeFileAtomic(payloadLog, payloadRecords(model, options.run, rows, predictions, since));
  logger.info(`      drift: an hour of traffic (${rows.length} rows in ${Math.ceil(rows.length / ROWS_PER_REQUEST)} requests) shifted on tenure_months (${SHIFTED.tenure_months}) and monthly_charges (+${SHIFTED.monthly_charges}), logged to ${payloadLog}`);

  const { result } = await runDrift(
    { profile: versionDir, current: [payloadLog], format: 'kserve', since, until, rules: RULES, cwd: options.workdir },
    { logger },
  );
  const dispatchFile = join(options.workdir, 'retrain-dispatch.json');
  const repo = { owner: 'your-org', repo: `${model}-ml` };
  const loop = await closeTheLoop(undefined, result, '', { repo, model, issue: false, dispatch: { kind: 'workflow', workflow: 'pipeline.yml', ref: 'main' }, write: async (request) => writeFileAtomic(dispatchFile, `${JSON.stringify(describeDispatch(request), null, 2)}\n`) }, logger);
  const written = loop.dispatch.status === 'written';
  const report = renderDriftReport(result, { extra: written ? [`The retrain dispatch this run would send is in ${dispatchFile}.`] : [] });
  const reportFile = join(options.workdir, 'drift-report.md');
  writeFileAtomic(reportFile, report);
  for (const line of report.split('\n').filter((l) => !l.startsWith('```') && !/^ {2}(title|x-axis|y-axis|bar|line) /.test(l) && l !== 'xychart-beta')) if (line.trim()) logger.info(`      ${line}`);
  return {
    version: options.version,
    window: result.window.key,
    rows: result.rows,
    drifted: result.drifted,
    insufficient: result.insufficient,
    featuresDrifted: result.features.filter((f) => f.drifted && f.role === 'feature').map((f) => f.name),
    outputsDrifted: result.features.some((f) => f.drifted && f.role === 'output'),
    paths: { payloadLog, report: reportFile, ...(written && { dispatch: dispatchFile }) },
  };
}

/** The demo summary's lines for this step. */
export function driftSummaryLines(step: DriftStepResult | undefined, rel: (p: string) => string): { status: string[]; paths: string[] } {
  if (!step) return { status: [], paths: [] };
  const outputs = step.outputsDrifted ? ', and in the predictions' : '';
  const verdict = step.insufficient ? 'insufficient data' : step.drifted ? `dataset drift in ${step.featuresDrifted.join(', ')}${outputs}` : 'no dataset drift';
  return {
    status: [`  drift      ${verdict} (${step.rows} rows served by ${step.version})${step.paths.dispatch ? '; retrain dispatch written' : ''}`],
    paths: [
      `  payload log (KServe)       ${rel(step.paths.payloadLog)}`,
      `  drift report               ${rel(step.paths.report)}`,
      ...(step.paths.dispatch ? [`  retrain dispatch (request) ${rel(step.paths.dispatch)}`] : []),
    ],
  };
}

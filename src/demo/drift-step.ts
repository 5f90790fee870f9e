/**
 * The demo's last step, closing the loop: production (`mlops serve`, production-server.ts) gets an hour of
 * traffic shifted on two features over KServe's v1 protocol, its payload logger writes the CloudEvents records
 * into the demo's "bucket", `mlops drift` compares them with the profile published with the version, shows the
 * report, and writes the retrain dispatch it would send to GitHub to a file (as the demo does for the PR).
 *
 * The hour is replayed in a second: the server's clock is set to each request's place in the last complete
 * hour, which is the window the scheduled drift workflow would check now.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURES, generateRows } from '../../scripts/generate-data.ts';
import { renderDriftReport } from '../drift/report.ts';
import { closeTheLoop } from '../drift/retrain.ts';
import { runDrift } from '../drift/run.ts';
import { writeFileAtomic } from '../drift/write-file.ts';
import { describeDispatch } from '../github/workflow-dispatch.ts';
import type { Logger } from '../log.ts';
import type { ProductionServer } from './production-server.ts';

export interface DriftStepOptions {
  workdir: string;
  model: string;
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

/** Sends `rows` to the server's v1 predict endpoint, spread over [since, since + HOUR) on its clock. */
async function sendTraffic(serving: ProductionServer, model: string, rows: number[][], since: number): Promise<void> {
  const requests = Math.ceil(rows.length / ROWS_PER_REQUEST);
  try {
    for (let r = 0; r < requests; r++) {
      serving.clock.at(since + Math.floor((r * HOUR) / requests));
      const instances = rows.slice(r * ROWS_PER_REQUEST, (r + 1) * ROWS_PER_REQUEST);
      const response = await fetch(`${serving.server.url}/v1/models/${model}:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances }) });
      if (!response.ok) throw new Error(`mlops serve answered ${response.status} to the demo's traffic: ${await response.text()}`);
      await response.arrayBuffer();
    }
  } finally {
    serving.clock.at(undefined);
  }
}

/**
 * Closes `serving` (its payload log is complete then) and checks the logged hour for drift; undefined when
 * nothing of the demo's is in production.
 */
export async function runDriftStep(serving: ProductionServer | undefined, options: DriftStepOptions, deps: { logger: Logger }): Promise<DriftStepResult | undefined> {
  const { logger } = deps;
  const { model } = options;
  if (!serving) {
    logger.info('      drift: nothing in production yet, so no traffic to watch');
    return undefined;
  }
  const version = serving.server.version;
  if (!existsSync(join(serving.folder, 'profile.json'))) {
    await serving.server.close();
    logger.info(`      drift: ${version} was published without a profile (an older demo run); run the demo again`);
    return undefined;
  }
  // The last complete hour: what the scheduled drift workflow would check now.
  const until = Math.floor((options.now ?? Date.now()) / HOUR) * HOUR;
  const since = until - HOUR;
  const rows = shiftedTraffic(1000 + options.run);
  await sendTraffic(serving, model, rows, since);
  const closed = await serving.server.close();
  logger.info(`      drift: an hour of traffic (${rows.length} rows in ${Math.ceil(rows.length / ROWS_PER_REQUEST)} requests) shifted on tenure_months (${SHIFTED.tenure_months}) and monthly_charges (+${SHIFTED.monthly_charges}) sent to mlops serve; ${closed.payloadRecords} payload records in ${serving.payloadLog}`);

  const { result } = await runDrift(
    { profile: serving.folder, current: [serving.payloadLog], format: 'kserve', since, until, rules: RULES, cwd: options.workdir },
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
    version,
    window: result.window.key,
    rows: result.rows,
    drifted: result.drifted,
    insufficient: result.insufficient,
    featuresDrifted: result.features.filter((f) => f.drifted && f.role === 'feature').map((f) => f.name),
    outputsDrifted: result.features.some((f) => f.drifted && f.role === 'output'),
    paths: { payloadLog: serving.payloadLog, report: reportFile, ...(written && { dispatch: dispatchFile }) },
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

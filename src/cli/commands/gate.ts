import { runGate, type GateDeps } from '../../gates/run.ts';
import { UsageError } from '../../errors.ts';
import { championScoring, productionChampion } from '../../model/champion.ts';
import { openRemote } from '../../storage/open-remote.ts';
import { renderGateReport } from '../../report/gate-report.ts';
import { readLegParams } from '../../report/params-table.ts';
import { EXIT, type CliContext, type Command, type ParsedArgs } from '../command.ts';

export const DEFAULT_RULES = '.mlops/gates.yml';

export const command: Command = {
  summary: 'Compare metrics of one or several legs with rules and a baseline; print a report; exit 1 if the gate fails',
  usage: [
    'gate --metrics <path>... [--rules <file|yaml>] [--baseline <file|none|production>] [--manifest <file|overlay> [--remote <url>] [--endpoint <url>]] [--json]',
    'gate --metrics <path>... --baseline production --manifest <file|overlay> [--remote <url>] --holdout <file> [--label <col>] [--task binary|multiclass|regression] [--features a,b,…]',
  ],
  options: {
    metrics: { type: 'string', multiple: true },
    rules: { type: 'string' },
    baseline: { type: 'string' },
    manifest: { type: 'string' },
    remote: { type: 'string' },
    endpoint: { type: 'string' },
    'allow-missing-baseline': { type: 'boolean' },
    holdout: { type: 'string' },
    label: { type: 'string' },
    task: { type: 'string' },
    features: { type: 'string', multiple: true },
    'latency-samples': { type: 'string' },
    'batch-size': { type: 'string' },
    'throughput-ms': { type: 'string' },
    'champion-cache': { type: 'string' },
  },
  help: [
    ['--metrics <path>', 'A metrics file, a leg folder, a folder of leg folders, a glob, or name=path; repeat for more'],
    ['--rules <file|yaml>', `Gate rules file or inline YAML (default ${DEFAULT_RULES})`],
    ['--baseline <file|none|production>', 'Metrics to compare with, or production (what --manifest deploys); overrides the rules\' baseline (default: the rules\', else none)'],
    ['--manifest <file|overlay>', 'For baseline production: the production InferenceService manifest or kustomize overlay'],
    ['--remote <url>', 'For baseline production: the model remote (default: the storageUri itself)'],
    ['--endpoint <url>', 'S3-compatible endpoint of that remote'],
    ['--allow-missing-baseline', 'For baseline production: a storageUri whose model.json does not exist means "not deployed yet" (default: exit 3)'],
    ['--holdout <file>', 'For baseline production: score the production model again on this holdout (the candidates\') instead of using its stored metrics'],
    ['--label, --task, --features', 'How the candidates were evaluated, as in `mlops evaluate` (defaults: label, binary, the model\'s features)'],
    ['--latency-samples, --batch-size, --throughput-ms', 'The other `mlops evaluate` settings, for the re-scoring (same defaults)'],
    ['--champion-cache <dir>', 'Keep production\'s scores per (version, holdout md5, settings) here between runs; only trusted steps may write it'],
  ],
  async run(args: ParsedArgs, ctx: CliContext): Promise<number> {
    const v = args.values;
    const str = (name: string) => (typeof v[name] === 'string' ? (v[name] as string) : undefined);
    const rescore = championScoring({
      holdout: str('holdout'),
      label: str('label'),
      task: str('task'),
      features: Array.isArray(v.features) ? v.features.filter((f): f is string => typeof f === 'string') : undefined,
      'latency-samples': str('latency-samples'),
      'batch-size': str('batch-size'),
      'throughput-ms': str('throughput-ms'),
      'champion-cache': str('champion-cache'),
    });
    const manifest = str('manifest');
    if (!manifest) {
      if (rescore) throw new UsageError('holdout: re-scores the production model, which needs --baseline production and --manifest (the production manifest or overlay); give them or drop --holdout');
      return runGateCommand(args, ctx, {});
    }
    const remote = str('remote');
    const endpoint = str('endpoint');
    let production = false;
    const code = await runGateCommand(args, ctx, {
      resolveProductionBaseline: () => {
        production = true;
        return productionChampion(
          { manifest, ...(remote && { remote }), allowMissing: v['allow-missing-baseline'] === true, ...(rescore && { rescore }) },
          { cwd: ctx.cwd, logger: ctx.logger, openRemote: (url) => openRemote(url, { cwd: ctx.cwd, ...(endpoint && { endpoint }) }) },
        );
      },
    });
    if (rescore && !production) ctx.logger.warning('holdout: not used, because the baseline is not production (set --baseline production or baseline: production in the rules)');
    return code;
  },
};

/** Shared with extensions that add collaborators (e.g. a production baseline resolver from --manifest/--remote). */
export async function runGateCommand(args: ParsedArgs, ctx: CliContext, extra: Omit<GateDeps, 'logger'>): Promise<number> {
  const metrics = (args.values.metrics as string[] | undefined) ?? [];
  const rulesInput = (args.values.rules as string | undefined) ?? DEFAULT_RULES;
  const baseline = args.values.baseline as string | undefined;
  const { result, rules } = await runGate(
    { metrics, rules: rulesInput, ...(baseline !== undefined && { baseline }), cwd: ctx.cwd },
    { logger: ctx.logger, ...extra },
  );
  if (args.values.json) {
    ctx.out(JSON.stringify(result, null, 2));
  } else {
    ctx.out(renderGateReport(result, { rules, legParams: await readLegParams(result.legs, ctx.cwd) }));
  }
  return result.passed ? EXIT.ok : EXIT.no;
}

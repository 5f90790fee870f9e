import { runGate, type GateDeps } from '../../gates/run.ts';
import { productionBaseline } from '../../model/production-baseline.ts';
import { openRemote } from '../../storage/open-remote.ts';
import { renderGateReport } from '../../report/gate-report.ts';
import { EXIT, type CliContext, type Command, type ParsedArgs } from '../command.ts';

export const DEFAULT_RULES = '.mlops/gates.yml';

export const command: Command = {
  summary: 'Compare metrics of one or several legs with rules and a baseline; print a report; exit 1 if the gate fails',
  usage: ['gate --metrics <path>... [--rules <file|yaml>] [--baseline <file|none|production>] [--manifest <file|overlay> [--remote <url>] [--endpoint <url>]] [--json]'],
  options: {
    metrics: { type: 'string', multiple: true },
    rules: { type: 'string' },
    baseline: { type: 'string' },
    manifest: { type: 'string' },
    remote: { type: 'string' },
    endpoint: { type: 'string' },
    'allow-missing-baseline': { type: 'boolean' },
  },
  help: [
    ['--metrics <path>', 'A metrics file, a leg folder, a folder of leg folders, a glob, or name=path; repeat for more'],
    ['--rules <file|yaml>', `Gate rules file or inline YAML (default ${DEFAULT_RULES})`],
    ['--baseline <file|none|production>', 'Metrics to compare with, or production (what --manifest deploys); overrides the rules\' baseline (default: the rules\', else none)'],
    ['--manifest <file|overlay>', 'For baseline production: the production InferenceService manifest or kustomize overlay'],
    ['--remote <url>', 'For baseline production: the model remote (default: the storageUri itself)'],
    ['--endpoint <url>', 'S3-compatible endpoint of that remote'],
    ['--allow-missing-baseline', 'For baseline production: a storageUri whose model.json does not exist means "not deployed yet" (default: exit 3)'],
  ],
  async run(args: ParsedArgs, ctx: CliContext): Promise<number> {
    const manifest = args.values.manifest as string | undefined;
    if (!manifest) return runGateCommand(args, ctx, {});
    const remote = args.values.remote as string | undefined;
    const endpoint = args.values.endpoint as string | undefined;
    return runGateCommand(args, ctx, {
      resolveProductionBaseline: () =>
        productionBaseline(
          { manifest, ...(remote && { remote }), allowMissing: args.values['allow-missing-baseline'] === true },
          { cwd: ctx.cwd, logger: ctx.logger, openRemote: (url) => openRemote(url, { cwd: ctx.cwd, ...(endpoint && { endpoint }) }) },
        ),
    });
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
    ctx.out(renderGateReport(result, { rules }));
  }
  return result.passed ? EXIT.ok : EXIT.no;
}

import { resolve } from 'node:path';
import { writeFileAtomic } from '../../drift/write-file.ts';
import { renderDriftReport } from '../../drift/report.ts';
import { closeTheLoop, type RetrainOutcome } from '../../drift/retrain.ts';
import { DEFAULT_RULES_FILE } from '../../drift/rules.ts';
import { driftJson, driftSettings, runDrift } from '../../drift/run.ts';
import { badInput } from '../../errors.ts';
import { describeDispatch, type DispatchTarget } from '../../github/workflow-dispatch.ts';
import { EXIT, type Command } from '../command.ts';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function parseKeyValues(name: string, items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const at = item.indexOf('=');
    if (at <= 0) throw badInput(name, item, 'must be key=value');
    out[item.slice(0, at).trim()] = item.slice(at + 1);
  }
  return out;
}

export function parseRepository(value: string | undefined): { owner: string; repo: string } | undefined {
  if (!value) return undefined;
  const m = /^([A-Za-z0-9][A-Za-z0-9-]*)\/([A-Za-z0-9._-]+)$/.exec(value.trim());
  if (!m) throw badInput('repository', value, 'must be owner/name');
  return { owner: m[1]!, repo: m[2]! };
}

export const command: Command = {
  summary: 'Compare production inputs and predictions with the reference profile; report, and start the retrain on drift',
  usage: [
    'drift --profile <profile.json|storage-uri> --current <file|dir|s3://prefix>... [--format auto|csv|jsonl|kserve] [--since T] [--until T | --window 1h] [--rules FILE] [--fail-on-drift] [--json]',
    'drift … [--repository owner/repo] [--issue] [--dispatch retrain.yml --ref main | --event-type retrain] [--dispatch-out FILE]',
  ],
  options: {
    profile: { type: 'string' },
    'model-card': { type: 'string' },
    current: { type: 'string', multiple: true },
    format: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    window: { type: 'string' },
    rules: { type: 'string' },
    endpoint: { type: 'string' },
    'fail-on-drift': { type: 'boolean' },
    report: { type: 'string' },
    repository: { type: 'string' },
    model: { type: 'string' },
    issue: { type: 'boolean' },
    'issue-label': { type: 'string' },
    dispatch: { type: 'string' },
    ref: { type: 'string' },
    'event-type': { type: 'string' },
    'dispatch-input': { type: 'string', multiple: true },
    'dispatch-out': { type: 'string' },
  },
  help: [
    ['--profile <file|uri>', 'profile.json, or the storage URI of a published version (its profile.json and model.json)'],
    ['--model-card FILE', 'model.json whose signature decodes the payloads (read from the version when --profile is one)'],
    ['--current <path|s3://…>', 'The window: CSV, JSON Lines, KServe payload logs; a file, a folder or an S3 prefix; repeatable'],
    ['--format F', 'auto (default: by name and content), csv, jsonl or kserve'],
    ['--since / --until T', 'ISO 8601 times: only records from since (inclusive) to until (exclusive)'],
    ['--window 1h|24h|7d', 'Instead of since/until: the last complete window of this length, aligned to UTC'],
    ['--rules <file|yaml>', `Drift rules (default ${DEFAULT_RULES_FILE} when it exists, else PSI > 0.2 / chi2 p < 0.01)`],
    ['--endpoint URL', 'S3-compatible endpoint for s3:// inputs'],
    ['--fail-on-drift', 'Exit 1 on dataset drift (default: exit 0 and say so)'],
    ['--report FILE', 'Also write the Markdown report to this file'],
    ['--repository owner/repo', 'For --issue and --dispatch (default: $GITHUB_REPOSITORY); the token is $GITHUB_TOKEN'],
    ['--model NAME', "Model name for the sticky issue and the dispatch (default: the model card's name)"],
    ['--issue', 'Create or update the sticky issue for the model (marker mlops-actions:drift:<model>)'],
    ['--issue-label NAME', 'Label of the sticky issue (default mlops-drift)'],
    ['--dispatch FILE', 'On drift, start this workflow (workflow_dispatch) once per window, on --ref (default main)'],
    ['--event-type NAME', 'On drift, send a repository_dispatch of this type instead'],
    ['--dispatch-input k=v', 'More inputs for the dispatch; repeatable'],
    ['--dispatch-out FILE', 'Write the dispatch request to FILE instead of sending it'],
  ],
  async run({ values }, ctx) {
    const settings = driftSettings(
      {
        profile: str(values.profile),
        'model-card': str(values['model-card']),
        current: list(values.current),
        format: str(values.format),
        since: str(values.since),
        until: str(values.until),
        window: str(values.window),
        rules: str(values.rules),
        endpoint: str(values.endpoint),
      },
      ctx.cwd,
    );
    const dispatchFile = str(values['dispatch-out']);
    const workflow = str(values.dispatch);
    const eventType = str(values['event-type']);
    if (workflow && eventType) throw badInput('event-type', eventType, 'cannot be combined with --dispatch: choose workflow_dispatch (--dispatch) or repository_dispatch (--event-type)');
    const target: DispatchTarget | undefined = workflow ? { kind: 'workflow', workflow, ref: str(values.ref) ?? 'main' } : eventType ? { kind: 'repository', eventType } : undefined;
    const wantsGitHub = values.issue === true || target !== undefined;
    const repo = parseRepository(str(values.repository) ?? ctx.env.GITHUB_REPOSITORY);
    if (wantsGitHub && !repo) throw badInput('repository', '', 'is required with --issue or --dispatch: give owner/repo (or set GITHUB_REPOSITORY)');
    const token = ctx.env.GITHUB_TOKEN ?? ctx.env.GH_TOKEN;
    const needsToken = values.issue === true || (target !== undefined && !dispatchFile);
    if (needsToken && !token) throw badInput('GITHUB_TOKEN', '', 'is not set: --issue and --dispatch need a token in GITHUB_TOKEN (or use --dispatch-out to write the dispatch to a file)');

    const { result } = await runDrift(settings, { logger: ctx.logger });
    let retrain: RetrainOutcome | undefined;
    if (wantsGitHub && repo) {
      const client = needsToken && token ? (await import('../../github/octokit.ts')).createGitHubClient({ token, logger: ctx.logger, ...(ctx.env.GITHUB_API_URL && { baseUrl: ctx.env.GITHUB_API_URL }) }) : undefined;
      const model = str(values.model) ?? result.model ?? repo.repo;
      retrain = await closeTheLoop(
        client,
        result,
        renderDriftReport(result),
        {
          repo,
          model,
          issue: values.issue === true,
          ...(str(values['issue-label']) && { label: str(values['issue-label'])! }),
          ...(target && { dispatch: target }),
          extraInputs: parseKeyValues('dispatch-input', list(values['dispatch-input'])),
          ...(dispatchFile && { write: async (request) => writeFileAtomic(resolve(ctx.cwd, dispatchFile), `${JSON.stringify(describeDispatch(request), null, 2)}\n`) }),
        },
        ctx.logger,
      );
    }
    const extra = retrain && retrain.dispatch.status !== 'off' && retrain.dispatch.status !== 'not-needed' ? [`Retrain: ${retrain.dispatch.status} (${retrain.dispatch.detail}).`] : [];
    const report = renderDriftReport(result, { extra });
    const reportFile = str(values.report);
    if (reportFile) writeFileAtomic(resolve(ctx.cwd, reportFile), report);
    if (values.json) ctx.out(JSON.stringify({ ...driftJson(result), ...(retrain && { retrain }) }, null, 2));
    else ctx.out(report);
    if (result.drifted && values['fail-on-drift'] === true) return EXIT.no;
    return EXIT.ok;
  },
};

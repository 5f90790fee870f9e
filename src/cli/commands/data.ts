import { shown } from '../../data/paths.ts';
import { lineProgress, ttyProgress } from '../../data/progress.ts';
import { parseCommand, parseJobs, runData, type DataResult } from '../../data/run.ts';
import { badInput } from '../../errors.ts';
import { EXIT, type Command } from '../command.ts';

export const command: Command = {
  summary: 'DVC-compatible data versioning: add, push, pull, status',
  usage: [
    'data add <path>... [--allow-empty]',
    'data push [targets...] [--remote URL|NAME] [--endpoint URL] [--jobs N]',
    'data pull [targets...] [--remote URL|NAME] [--endpoint URL] [--jobs N] [--force]',
    'data status [targets...] [--remote URL|NAME] [--endpoint URL] [--json]',
  ],
  options: {
    remote: { type: 'string', short: 'r' },
    endpoint: { type: 'string' },
    jobs: { type: 'string', short: 'j' },
    'allow-empty': { type: 'boolean' },
    force: { type: 'boolean', short: 'f' },
  },
  help: [
    ['-r, --remote URL|NAME', 's3://bucket/prefix, a directory, or a remote named in .dvc/config (default: [core] remote)'],
    ['--endpoint URL', 'S3-compatible endpoint (MinIO, Ceph); default: endpointurl from .dvc/config, else AWS'],
    ['-j, --jobs N', 'Parallel transfers, 1-256 (default 16)'],
    ['--allow-empty', 'add: track an empty directory instead of failing'],
    ['-f, --force', 'pull: overwrite or delete workspace files whose changes are not in the cache'],
  ],
  allowPositionals: true,
  async run({ values, positionals }, ctx) {
    const [verb, ...targets] = positionals;
    if (verb === undefined) throw badInput('command', '', 'is missing: run `mlops data add|push|pull|status [targets...]`');
    const settings = {
      command: parseCommand(verb),
      targets,
      jobs: values.jobs === undefined ? 16 : parseJobs(values.jobs, '--jobs'),
      allowEmpty: values['allow-empty'] === true,
      force: values.force === true,
      cwd: ctx.cwd,
      ...(typeof values.remote === 'string' ? { remote: values.remote } : {}),
      ...(typeof values.endpoint === 'string' ? { endpoint: values.endpoint } : {}),
    };
    const progress = process.stderr.isTTY && !values.json ? ttyProgress() : lineProgress(ctx.logger);
    const result = await runData(settings, { logger: ctx.logger, progress });
    ctx.out(values.json ? JSON.stringify(result, null, 2) : summary(result));
    return (settings.command === 'push' || settings.command === 'pull') && result.missing.length > 0 ? EXIT.failure : EXIT.ok;
  },
};

function summary(r: DataResult): string {
  switch (r.command) {
    case 'add':
      return r.outputs.map((o) => `${o.md5}  ${shown(o.path)}`).join('\n');
    case 'push':
    case 'pull': {
      const verb = r.command === 'push' ? 'pushed' : 'pulled';
      const missing = r.missing.length > 0 ? `, ${r.missing.length} missing` : '';
      return `${r.transferred} ${verb}, ${r.skipped} up to date${missing}${r.remote ? ` (${r.remote})` : ''}`;
    }
    case 'status': {
      const lines = (r.status?.outputs ?? []).map((o) => {
        const parts = [`workspace ${o.workspace}`];
        if (o.missingInCache > 0) parts.push(`${o.missingInCache} not in cache`);
        if (o.missingInRemote !== undefined) parts.push(o.missingInRemote > 0 ? `${o.missingInRemote} not on remote` : 'remote ok');
        return `${shown(o.path)}: ${parts.join(', ')}`;
      });
      return lines.length > 0 ? lines.join('\n') : 'no tracked data';
    }
  }
}

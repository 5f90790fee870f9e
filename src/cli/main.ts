import { parseArgs } from 'node:util';
import pkg from '../../package.json' with { type: 'json' };
import { errorMessage, isUsageError } from '../errors.ts';
import { stderrLogger } from '../log.ts';
import { EXIT, type CliContext, type Command } from './command.ts';

/** Every subcommand, loaded on demand so `mlops gate` never loads the AWS SDK. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  gate: { summary: 'Compare metrics with rules and a baseline; report and decide', load: () => import('./commands/gate.ts') },
  data: { summary: 'DVC-compatible data versioning: add, push, pull, status', load: () => import('./commands/data.ts') },
  train: { summary: 'Run a training command for one matrix leg and record run.json', load: () => import('./commands/train.ts') },
  sweep: { summary: 'Expand a hyperparameter search space into a GitHub Actions matrix', load: () => import('./commands/sweep.ts') },
  evaluate: { summary: 'Score an ONNX model on a holdout set with onnxruntime', load: () => import('./commands/evaluate.ts') },
  publish: { summary: 'Publish a model directory as an immutable version with a model card', load: () => import('./commands/publish.ts') },
  bump: { summary: 'Set storageUri, image, canary and provenance in KServe manifests', load: () => import('./commands/bump.ts') },
  'pull-request': { summary: 'Commit a bump on mlops/<model>/<env> and open or update its PR', load: () => import('./commands/pull-request.ts') },
  serve: { summary: 'Serve a published model version over the Open Inference Protocol (v2) and KServe v1', load: () => import('./commands/serve.ts') },
  demo: { summary: 'Run the whole loop locally on embedded defaults', load: () => import('./commands/demo.ts') },
  example: { summary: "The demo's example dataset and training program, to try the CLI in an empty folder", load: () => import('./commands/example.ts') },
};

const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
} as const;

export function topLevelHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: mlops <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `mlops <command> --help` for the options of a command.',
    'Exit codes: 0 success, 1 the check said no (gate failed), 2 bad input or usage, 3 could not complete (I/O, network).',
  ].join('\n');
}

export function commandHelp(name: string, command: Command): string {
  const rows: [string, string][] = [...command.help, ['--json', 'Print the machine-readable result on stdout'], ['-h, --help', 'Show this help']];
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return [
    ...command.usage.map((u, i) => `${i === 0 ? 'Usage:' : '      '} mlops ${u}`),
    '',
    command.summary,
    '',
    'Options:',
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`),
  ].join('\n');
}

export async function main(argv: string[], ctx: Partial<CliContext> = {}): Promise<number> {
  const context: CliContext = {
    logger: ctx.logger ?? stderrLogger({ verbose: Boolean(process.env.MLOPS_VERBOSE) }),
    out: ctx.out ?? ((text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)),
    cwd: ctx.cwd ?? process.cwd(),
    env: ctx.env ?? process.env,
  };
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    context.out(topLevelHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') {
    context.out(`${pkg.name} ${pkg.version}`);
    return EXIT.ok;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    context.logger.error(`unknown command ${JSON.stringify(name)}: run \`mlops --help\` for the list of commands`);
    return EXIT.usage;
  }
  const { command } = await entry.load();
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, ...COMMON_OPTIONS },
      allowPositionals: command.allowPositionals ?? false,
      strict: true,
    });
  } catch (error) {
    context.logger.error(`mlops ${name}: ${errorMessage(error)}; run \`mlops ${name} --help\``);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    context.out(commandHelp(name, command));
    return EXIT.ok;
  }
  try {
    return await command.run(parsed, context);
  } catch (error) {
    if (isUsageError(error)) {
      context.logger.error(`mlops ${name}: ${error.message}`);
      return EXIT.usage;
    }
    context.logger.error(`mlops ${name}: ${errorMessage(error)}`);
    if (process.env.MLOPS_VERBOSE && error instanceof Error && error.stack) context.logger.debug(error.stack);
    return EXIT.failure;
  }
}

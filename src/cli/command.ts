import type { ParseArgsOptionsConfig } from 'node:util';
import type { Logger } from '../log.ts';

/** Exit codes shared by every subcommand. */
export const EXIT = {
  ok: 0,
  /** The domain said no: gate failed, drift found, rollout failed. */
  no: 1,
  /** Bad input or usage. */
  usage: 2,
  /** The work could not be done: I/O, network or server failure. */
  failure: 3,
} as const;

export interface CliContext {
  logger: Logger;
  /** Writes to stdout (results, `--json`). */
  out(text: string): void;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export interface Command {
  /** One line: what the subcommand does. */
  summary: string;
  /** Synopsis lines, without the leading `mlops`. */
  usage: string[];
  /** `node:util` parseArgs options; `help` and `json` are added for every command. */
  options: ParseArgsOptionsConfig;
  /** One line per option for `--help`, in display order: [flag text, description]. */
  help: [string, string][];
  allowPositionals?: boolean;
  run(args: ParsedArgs, ctx: CliContext): Promise<number>;
}

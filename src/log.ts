/** What the core needs to report progress; the action passes @actions/core, the CLI passes stderr. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  notice(message: string): void;
  warning(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  notice() {},
  warning() {},
  error() {},
};

/** Plain-text logger for the CLI: everything on stderr so stdout stays for results (`--json`). */
export function stderrLogger(options: { verbose?: boolean } = {}): Logger {
  const write = (line: string) => process.stderr.write(`${line}\n`);
  return {
    debug: (m) => {
      if (options.verbose) write(m);
    },
    info: write,
    notice: (m) => write(`notice: ${m}`),
    warning: (m) => write(`warning: ${m}`),
    error: (m) => write(`error: ${m}`),
  };
}

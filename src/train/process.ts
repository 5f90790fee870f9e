import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { badInput } from '../errors.ts';

export interface ProcessOptions {
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Receives the program's stdout and stderr as they come. */
  write(chunk: string): void;
  /** Wrap the output in `::stop-commands::<token>` … `::<token>::` so it cannot issue workflow commands. */
  protectOutput: boolean;
  /** Time between SIGTERM and SIGKILL on timeout. */
  graceMs?: number;
}

export interface ProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The last lines of output, for error messages. */
  tail: string[];
  started: Date;
  ended: Date;
}

const TAIL_LINES = 20;

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Runs argv (never through a shell unless argv itself is `bash -c …`) in its own process group, streams its
 * output, and on timeout kills the whole group (SIGTERM, then SIGKILL after the grace period).
 */
export function runProcess(options: ProcessOptions): Promise<ProcessResult> {
  const [program, ...args] = options.argv;
  if (!program) throw badInput('command', '', 'is empty');
  const token = randomBytes(16).toString('hex');
  let lastChar = '\n';
  const write = (text: string) => {
    if (text === '') return;
    options.write(text);
    lastChar = text.at(-1) as string;
  };
  if (options.protectOutput) write(`::stop-commands::${token}\n`);
  const tail: string[] = [''];
  const remember = (text: string) => {
    const parts = text.split(/\r?\n/);
    tail[tail.length - 1] = (tail[tail.length - 1] ?? '') + (parts[0] ?? '');
    tail.push(...parts.slice(1));
    if (tail.length > TAIL_LINES + 1) tail.splice(0, tail.length - TAIL_LINES - 1);
  };
  const started = new Date();
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), options.graceMs ?? 5000);
    }, options.timeoutMs);
    // The program runs in its own process group, so a cancelled job's signal would not reach it: pass it on.
    const forward = (signal: NodeJS.Signals) => {
      killGroup(child.pid, 'SIGTERM');
      process.removeListener('SIGINT', forward);
      process.removeListener('SIGTERM', forward);
      process.kill(process.pid, signal);
    };
    process.once('SIGINT', forward);
    process.once('SIGTERM', forward);
    const onData = (data: Buffer) => {
      const text = data.toString('utf8');
      remember(text);
      write(text);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      process.removeListener('SIGINT', forward);
      process.removeListener('SIGTERM', forward);
      if (options.protectOutput) write(`${lastChar === '\n' ? '' : '\n'}::${token}::\n`);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish();
      if (error.code === 'ENOENT') reject(badInput('command', program, `was not found (ENOENT): check the program name, install it, or give its full path (PATH is searched)`));
      else if (error.code === 'EACCES') reject(badInput('command', program, 'is not executable (EACCES): chmod +x it or run it through its interpreter'));
      else reject(error);
    });
    // 'exit' fires when the program ends; leftover background processes in its group would hold the pipes
    // open, so end them before waiting for 'close'.
    child.on('exit', () => killGroup(child.pid, 'SIGKILL'));
    child.on('close', (exitCode, signal) => {
      finish();
      resolve({ exitCode, signal, timedOut, tail: tail.filter((l, i) => l !== '' || i < tail.length - 1).slice(-TAIL_LINES), started, ended: new Date() });
    });
  });
}

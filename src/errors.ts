/**
 * Bad input or usage: the CLI exits 2 and the action fails the step.
 * The message names the input, the value and the fix, on one line.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** `input` got `value`; `fix` says what to give instead. */
export function badInput(input: string, value: unknown, fix: string): UsageError {
  return new UsageError(`${input}: ${describe(value)} ${fix}`);
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export function isUsageError(error: unknown): error is UsageError {
  return error instanceof UsageError;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

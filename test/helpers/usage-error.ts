import { expect } from 'vitest';
import { isUsageError } from '../../src/errors.ts';

/** Runs `fn`, asserts it throws a UsageError (exit 2 in the CLI) and returns its one-line message. */
export function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isUsageError(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
}

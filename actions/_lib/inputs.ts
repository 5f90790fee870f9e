import * as core from '@actions/core';
import { badInput } from '../../src/errors.ts';

/** Typed readers for `INPUT_*`: each failure names the input, the value and the fix. */

export function stringInput(name: string, options: { required?: boolean } = {}): string | undefined {
  const value = core.getInput(name, { trimWhitespace: true });
  if (value === '') {
    if (options.required) throw badInput(name, value, 'is required: set it in the step\'s `with:`');
    return undefined;
  }
  return value;
}

export function requiredInput(name: string): string {
  return stringInput(name, { required: true }) as string;
}

export function booleanInput(name: string, fallback: boolean): boolean {
  const value = core.getInput(name).trim();
  if (value === '') return fallback;
  if (/^(true|True|TRUE)$/.test(value)) return true;
  if (/^(false|False|FALSE)$/.test(value)) return false;
  throw badInput(name, value, 'is not a boolean: use true or false');
}

export function integerInput(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
  const value = core.getInput(name).trim();
  if (value === '') return fallback;
  const n = Number(value);
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
  if (!/^-?\d+$/.test(value) || n < min || n > max) {
    throw badInput(name, value, `is not a whole number from ${min} to ${max}`);
  }
  return n;
}

/** Lines of a multi-line input, trimmed, blank lines and `#` comments dropped. */
export function listInput(name: string): string[] {
  return core
    .getMultilineInput(name)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

export function choiceInput<T extends string>(name: string, choices: readonly T[], fallback: T): T {
  const value = core.getInput(name).trim();
  if (value === '') return fallback;
  if (!(choices as readonly string[]).includes(value)) throw badInput(name, value, `must be one of ${choices.join(', ')}`);
  return value as T;
}

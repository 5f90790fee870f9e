import { isAbsolute, resolve } from 'node:path';
import { assertNoSymlinkEscape, isInside } from '../data/paths.ts';
import { badInput } from '../errors.ts';

/**
 * For the actions (DESIGN §6): a path input resolved against the workspace must stay inside it,
 * also through symlinks. Returns the absolute path.
 */
export function workspacePath(workspace: string, input: string, value: string): string {
  if (value.includes('\0')) throw badInput(input, value, 'is not a path');
  const absolute = isAbsolute(value) ? resolve(value) : resolve(workspace, value);
  if (!isInside(resolve(workspace), absolute)) throw badInput(input, value, `is outside the workspace ${workspace}: give a path inside it`);
  assertNoSymlinkEscape(workspace, absolute, input, value);
  return absolute;
}

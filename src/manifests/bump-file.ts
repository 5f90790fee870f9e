import { randomBytes } from 'node:crypto';
import { chmod, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, isAbsolute } from 'node:path';
import { UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { bumpText, type BumpRequest, type BumpResult } from './bump.ts';

export interface BumpFileOptions {
  /** Directory that paths in messages and the diff are relative to. */
  cwd: string;
  logger: Logger;
  /** Compute the result without writing the file. */
  dryRun?: boolean;
}

/**
 * Bumps one manifest file in place: the new text replaces the file atomically (temp file + rename,
 * same mode), and only when something changed. On any refusal the file is untouched.
 */
export async function bumpFile(file: string, request: BumpRequest, options: BumpFileOptions): Promise<BumpResult> {
  const path = isAbsolute(file) ? file : join(options.cwd, file);
  const fromCwd = relative(options.cwd, path).split('\\').join('/');
  const shown = fromCwd === '' || fromCwd.startsWith('../') ? path : fromCwd;
  let text: string;
  let mode: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UsageError(`manifest: ${JSON.stringify(file)} is not a file: give the path of a YAML manifest`);
    mode = info.mode & 0o7777;
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UsageError(`manifest: ${JSON.stringify(file)} does not exist: give the path of the InferenceService or kustomization file`);
    }
    throw error;
  }
  const result = bumpText(text, shown, request);
  if (!result.changed) {
    options.logger.info(`${shown}: ${result.target} is already up to date`);
    return result;
  }
  if (!options.dryRun) {
    const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(temp, result.text, { flag: 'wx', mode });
      await chmod(temp, mode);
      await rename(temp, path);
    } finally {
      await rm(temp, { force: true });
    }
  }
  for (const change of result.changes) {
    options.logger.info(`${shown}: ${change.path}: ${change.from === undefined ? '(added)' : JSON.stringify(change.from)} -> ${JSON.stringify(change.to)}`);
  }
  return result;
}

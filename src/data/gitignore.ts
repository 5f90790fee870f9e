import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { badInput } from '../errors.ts';
import { tempSuffix } from './paths.ts';

/**
 * The `.gitignore` line that ignores exactly the entry `name` of its folder, as git reads patterns: the
 * glob characters and a backslash are escaped, and so are trailing spaces (git drops them otherwise), so a
 * target named `*` ignores itself and not the whole repository. A line break cannot be written in a
 * pattern (git splits lines there, and drops a carriage return before one): such a name is refused.
 */
export function gitignoreLine(name: string): string {
  if (/[\r\n]/.test(name)) {
    throw badInput('targets', name, 'has a line break in its name, which .gitignore cannot express (the rest would become a rule of its own): rename it');
  }
  return `/${name.replace(/[\\*?[]/g, '\\$&').replace(/ +$/, (spaces) => '\\ '.repeat(spaces.length))}`;
}

/** Adds the line for `name` to `<dir>/.gitignore` as `dvc add` does, unless an identical line is there. */
export async function ignoreInGit(dir: string, name: string): Promise<boolean> {
  const file = join(dir, '.gitignore');
  const line = gitignoreLine(name);
  const text = await readFile(file, 'utf8').catch(() => '');
  if (text.split(/\r?\n/).includes(line)) return false;
  const temp = `${file}${tempSuffix()}`;
  await writeFile(temp, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`);
  await rename(temp, file);
  return true;
}

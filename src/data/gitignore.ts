import { readFile, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** Adds `/<name>` to `<dir>/.gitignore` as `dvc add` does, unless an identical line is there. */
export async function ignoreInGit(dir: string, name: string): Promise<boolean> {
  const file = join(dir, '.gitignore');
  const line = `/${name}`;
  const text = await readFile(file, 'utf8').catch(() => '');
  if (text.split(/\r?\n/).includes(line)) return false;
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`);
  await rename(temp, file);
  return true;
}

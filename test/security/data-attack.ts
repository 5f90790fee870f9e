// What the data attack tests share: a real git repository to attack, a directory remote holding whatever
// objects the attacker chose, and fingerprints of everything that must not change.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { dirManifest, md5Hex } from '../../src/data/hash.ts';
import { tempDir } from '../helpers/tmp.ts';

export { mlops } from '../helpers/data-workspace.ts';
export { md5Hex, tempDir };

/** git with no user or system configuration, so the test sees only the repository's own. */
export function git(cwd: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface Victim {
  /** The temporary folder everything lives in; `outside/` in it stands for the rest of the machine. */
  box: string;
  /** The repository, three levels below `box`, so an escape of up to three `..` still lands in `box`. */
  root: string;
}

/** A git repository with one commit holding `files`, inside a box that also holds files outside it. */
export function victim(files: Record<string, string | Buffer> = {}): Victim {
  const box = tempDir('attack');
  const root = join(box, 'a', 'b', 'repo');
  mkdirSync(root, { recursive: true });
  writeFiles(join(box, 'outside'), { 'secret.txt': 'the rest of the machine\n' });
  execFileSync('git', ['init', '-q', '-b', 'main', root], { env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' } });
  writeFiles(root, { 'src/train.py': 'print("train")\n', ...files });
  git(root, ['add', '-A']);
  git(root, ['commit', '-q', '-m', 'initial']);
  return { box, root };
}

export function writeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/**
 * Every entry below `dir` (following no symlink) with what it is: a file's SHA-256 and mode, a link's
 * target, or a folder; entries under `skip` (relative paths) are left out.
 */
export function fingerprint(dir: string, skip: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      if (skip.includes(childRel)) continue;
      const path = join(dir, childRel);
      const s = lstatSync(path);
      if (s.isSymbolicLink()) out[childRel] = `link ${readlinkSync(path)}`;
      else if (s.isDirectory()) {
        out[childRel] = 'dir';
        visit(childRel);
      } else out[childRel] = `file ${(s.mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
    }
  };
  visit('');
  return out;
}

/** What must not change whatever the data says: the repository's `.git` and everything outside the repository. */
export function untouchable(v: Victim): { git: Record<string, string>; outside: Record<string, string> } {
  return { git: fingerprint(join(v.root, '.git')), outside: fingerprint(v.box, ['a/b/repo']) };
}

/** Objects by name (an MD5, with `.dir` for a manifest), or a list of contents each named by its MD5. */
export type Objects = Record<string, string | Buffer> | (string | Buffer)[];

/** A directory remote holding these objects, laid out as DVC lays them out. */
export function remoteWith(objects: Objects, dir = tempDir('remote')): string {
  const named = Array.isArray(objects) ? objects.map((bytes) => [md5Hex(bytes), bytes] as const) : Object.entries(objects);
  for (const [md5, bytes] of named) putObject(dir, md5, bytes);
  return dir;
}

/** Writes `bytes` under the name `md5` (which need not be their MD5) in a remote or cache folder. */
export function putObject(dir: string, md5: string, bytes: string | Buffer): void {
  writeFiles(dir, { [`files/md5/${md5.slice(0, 2)}/${md5.slice(2)}`]: bytes });
}

/** A `.dir` manifest for these files, with whatever names the attacker likes, and the objects it needs. */
export function dirObject(files: Record<string, string | Buffer>): { md5: string; objects: Record<string, string | Buffer> } {
  const { md5, bytes } = dirManifest(Object.entries(files).map(([relpath, content]) => ({ relpath, md5: md5Hex(content) })));
  return { md5, objects: { [md5]: bytes, ...Object.fromEntries(Object.values(files).map((c) => [md5Hex(c), c])) } };
}

/** The text of a `.dvc` file as DVC writes it (`path` is written as given, quoted when YAML needs it). */
export function dvcFile(md5: string, path: string, size = 1): string {
  return `outs:\n- md5: ${md5}\n  size: ${size}\n${md5.endsWith('.dir') ? '  nfiles: 1\n' : ''}  hash: md5\n  path: ${JSON.stringify(path)}\n`;
}

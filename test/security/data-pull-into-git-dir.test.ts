// Issue 10 item 1: a pull request carries a `.dvc` file (or a `.dir` manifest, or a symlink) and CI runs
// `mlops data pull` on it. Nothing it says may write into `.git/` or `.dvc/`, with or without --force.
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dirObject, dvcFile, git, md5Hex, mlops, putObject, remoteWith, untouchable, victim, writeFiles, type Victim } from './data-attack.ts';

/** A git config that runs a command on the next `git status` (what the attacker wants in `.git/config`). */
function hostileConfig(v: Victim): string {
  return `[core]\n\trepositoryformatversion = 0\n\tfsmonitor = "touch ${join(v.box, 'pwned')}; false"\n`;
}

/** The attack has failed: exit 2 naming the input, `.git` and everything outside as they were, git still sane. */
async function expectRefused(v: Victim, args: string[], named: RegExp[]) {
  const before = untouchable(v);
  const r = await mlops(v.root, args);
  expect(r.code, r.log).toBe(2);
  const errors = r.log.split('\n').filter((line) => line.startsWith('error: '));
  expect(errors).toHaveLength(1); // one line naming the input, the value and the fix
  for (const n of named) expect(errors[0]).toMatch(n);
  expect(untouchable(v)).toEqual(before);
  expect(git(v.root, ['status', '--porcelain']).code).toBe(0);
  expect(existsSync(join(v.box, 'pwned'))).toBe(false);
  return r;
}

describe('a .dvc file that points into .git or .dvc', () => {
  for (const force of [false, true]) {
    const flags = force ? ['--force'] : [];

    it(`path: .git/config is refused${force ? ' with --force' : ''} (it would run the attacker's core.fsmonitor)`, async () => {
      const v = victim();
      const config = hostileConfig(v);
      writeFileSync(join(v.root, 'evil.dvc'), dvcFile(md5Hex(config), '.git/config', config.length));
      const remote = remoteWith([config]);
      await expectRefused(v, ['data', 'pull', '--remote', remote, ...flags], [/evil\.dvc/, /\.git\/config/]);
    });

    it(`path: .git is refused${force ? ' with --force' : ''} (the repository would be replaced)`, async () => {
      const v = victim();
      const dir = dirObject({ config: hostileConfig(v), HEAD: 'ref: refs/heads/main\n' });
      writeFileSync(join(v.root, 'evil.dvc'), dvcFile(dir.md5, '.git'));
      await expectRefused(v, ['data', 'pull', '--remote', remoteWith(dir.objects), ...flags], [/evil\.dvc/, /"\.git"/]);
      expect(existsSync(join(v.root, 'src/train.py'))).toBe(true);
    });

    it(`path: .dvc/cache/files/md5/<object> is refused${force ? ' with --force' : ''} (the cache would be poisoned)`, async () => {
      const v = victim({ 'data/train.csv': 'a,b\n1,2\n' });
      expect((await mlops(v.root, ['data', 'add', 'data/train.csv'])).code).toBe(0);
      const object = md5Hex('a,b\n1,2\n');
      const cached = join(v.root, '.dvc/cache/files/md5', object.slice(0, 2), object.slice(2));
      const poison = 'a,b\n6,6\n';
      writeFileSync(join(v.root, 'evil.dvc'), dvcFile(md5Hex(poison), `.dvc/cache/files/md5/${object.slice(0, 2)}/${object.slice(2)}`));
      await expectRefused(v, ['data', 'pull', 'evil.dvc', '--remote', remoteWith([poison]), ...flags], [/evil\.dvc/, /\.dvc\/cache\/files\/md5/]);
      expect(readFileSync(cached, 'utf8')).toBe('a,b\n1,2\n');
    });
  }

  it('a .dvc file in a sub-folder that climbs into .git (path: ../.git/hooks/pre-commit) is refused', async () => {
    const v = victim();
    const hook = '#!/bin/sh\ntouch pwned\n';
    writeFiles(v.root, { 'sub/evil.dvc': dvcFile(md5Hex(hook), '../.git/hooks/pre-commit') });
    await expectRefused(v, ['data', 'pull', '--remote', remoteWith([hook]), '--force'], [/sub\/evil\.dvc/, /\.git\/hooks\/pre-commit/]);
  });

  it('a nested repository (path: data/.git, or .GIT on a case-insensitive disk) is refused', async () => {
    for (const path of ['data/.git', '.GIT', 'data/.Git.']) {
      const v = victim();
      const dir = dirObject({ config: hostileConfig(v) });
      writeFileSync(join(v.root, 'evil.dvc'), dvcFile(dir.md5, path));
      await expectRefused(v, ['data', 'pull', '--remote', remoteWith(dir.objects)], [/evil\.dvc/, new RegExp(path.replace(/\./g, '\\.'))]);
    }
  });

  it('status on path: .git is refused too (it would hash the repository and record it as data)', async () => {
    const v = victim();
    const dir = dirObject({ config: 'x' });
    writeFileSync(join(v.root, 'evil.dvc'), dvcFile(dir.md5, '.git'));
    await expectRefused(v, ['data', 'status'], [/evil\.dvc/, /"\.git"/]);
    expect(existsSync(join(v.root, '.dvc/tmp'))).toBe(false);
  });
});

describe('a .dir manifest whose entries point into .git or .dvc', () => {
  for (const entry of ['.git/config', 'sub/.git/hooks/post-checkout', '.dvc/config', '.GIT/config', '.git ./config']) {
    it(`entry ${JSON.stringify(entry)} is refused before anything is written`, async () => {
      const v = victim();
      const dir = dirObject({ 'ok.csv': 'fine\n', [entry]: hostileConfig(v) });
      writeFileSync(join(v.root, 'data.dvc'), dvcFile(dir.md5, 'data'));
      await expectRefused(v, ['data', 'pull', '--remote', remoteWith(dir.objects), '--force'], [/data\.dvc/, new RegExp(JSON.stringify(entry).replace(/[.]/g, '\\.'))]);
      expect(existsSync(join(v.root, 'data'))).toBe(false);
    });
  }
});

describe('symlinks committed to the repository', () => {
  for (const force of [false, true]) {
    it(`data -> .git: a pull does not write through it${force ? ' (--force)' : ''}`, async () => {
      const v = victim();
      symlinkSync('.git', join(v.root, 'data'));
      git(v.root, ['add', 'data']);
      const dir = dirObject({ config: hostileConfig(v) });
      writeFileSync(join(v.root, 'data.dvc'), dvcFile(dir.md5, 'data'));
      await expectRefused(v, ['data', 'pull', '--remote', remoteWith(dir.objects), ...(force ? ['--force'] : [])], [/"data"/, /symlink/]);
    });
  }

  it('data/hooks -> ../.git/hooks inside the tracked folder: --force neither deletes nor writes through it', async () => {
    const v = victim();
    mkdirSync(join(v.root, 'data'));
    symlinkSync('../.git/hooks', join(v.root, 'data/hooks'));
    const dir = dirObject({ 'hooks/pre-commit': '#!/bin/sh\ntouch pwned\n' });
    writeFileSync(join(v.root, 'data.dvc'), dvcFile(dir.md5, 'data'));
    await expectRefused(v, ['data', 'pull', '--remote', remoteWith(dir.objects), '--force'], [/data\/hooks/, /symlink/]);
  });

  it('.dvc/cache -> ../.git: a pull does not put objects in the repository', async () => {
    const v = victim();
    mkdirSync(join(v.root, '.dvc'));
    symlinkSync('../.git', join(v.root, '.dvc/cache'));
    const payload = 'payload\n';
    writeFileSync(join(v.root, 'data.csv.dvc'), dvcFile(md5Hex(payload), 'data.csv'));
    await expectRefused(v, ['data', 'pull', '--remote', remoteWith([payload])], [/\.dvc\/cache/, /symlink/]);
  });

  it('a remote configured inside .git is refused for a push', async () => {
    const v = victim({ 'data.csv': 'x\n' });
    expect((await mlops(v.root, ['data', 'add', 'data.csv'])).code).toBe(0);
    writeFileSync(join(v.root, '.dvc/config'), "[core]\n    remote = r\n['remote \"r\"']\n    url = ../.git/objects/store\n");
    await expectRefused(v, ['data', 'push'], [/remote/, /\.git/]);
  });
});

describe('add never copies a repository into the data', () => {
  it('a .git (or .dvc) folder inside the data is skipped as DVC skips it, so its token is never pushed', async () => {
    const v = victim();
    const token = '[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n';
    writeFiles(v.root, { 'data/train.csv': 'a\n', 'data/.git/config': token, 'data/sub/.dvc/config': 'x', 'data/.hg/hgrc': 'x' });
    const remote = remoteWith([]);
    expect((await mlops(v.root, ['data', 'add', 'data'])).code).toBe(0);
    expect((await mlops(v.root, ['data', 'push', '--remote', remote])).code).toBe(0);
    expect(readFileSync(join(v.root, 'data.dvc'), 'utf8')).toContain('nfiles: 1\n');
    expect(existsSync(join(v.root, '.dvc/cache/files/md5', md5Hex(token).slice(0, 2), md5Hex(token).slice(2)))).toBe(false);
    expect(existsSync(join(remote, 'files/md5', md5Hex(token).slice(0, 2), md5Hex(token).slice(2)))).toBe(false);
    // The same folder a second time, and pulled elsewhere: the nested repository is left alone.
    expect((await mlops(v.root, ['data', 'status', '--json'])).stdout).toContain('"workspace": "ok"');
  });

  it('a symlink inside the data that points into .git is refused', async () => {
    const v = victim({ 'data/train.csv': 'a\n' });
    symlinkSync('../.git/config', join(v.root, 'data/config'));
    const r = await mlops(v.root, ['data', 'add', 'data']);
    expect(r.code).toBe(2);
    expect(r.log).toMatch(/data\/config.*symlink.*\.git/);
    expect(existsSync(join(v.root, 'data.dvc'))).toBe(false);
  });
});

describe('pull --force never deletes a repository it finds in the data', () => {
  it('a data/.git (a dataset cloned with git) survives a pull that makes data/ match another version', async () => {
    const v = victim();
    const dir = dirObject({ 'train.csv': 'a\n' });
    writeFileSync(join(v.root, 'data.dvc'), dvcFile(dir.md5, 'data'));
    writeFiles(v.root, { 'data/old.csv': 'old\n', 'data/.git/HEAD': 'ref: refs/heads/main\n', 'data/.git/config': '[core]\n' });
    const r = await mlops(v.root, ['data', 'pull', '--remote', remoteWith(dir.objects), '--force']);
    expect(r.code, r.log).toBe(0);
    expect(existsSync(join(v.root, 'data/old.csv'))).toBe(false);
    expect(readFileSync(join(v.root, 'data/.git/config'), 'utf8')).toBe('[core]\n');
  });

  it('nor when a file replaces the folder that holds it: exit 2, and the repository is still there', async () => {
    const v = victim();
    const payload = 'now a file\n';
    writeFileSync(join(v.root, 'data.dvc'), dvcFile(md5Hex(payload), 'data'));
    writeFiles(v.root, { 'data/.git/HEAD': 'ref: refs/heads/main\n', 'data/.git/refs/tags/.keep': '' });
    const r = await mlops(v.root, ['data', 'pull', '--remote', remoteWith([payload]), '--force']);
    expect(r.code, r.log).toBe(2);
    expect(r.log).toMatch(/"data" is a directory in the workspace but a file in the data/);
    expect(readFileSync(join(v.root, 'data/.git/HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
  });
});

// Keep the helper's own contract honest: a fingerprint sees a change to .git/config.
it('the fingerprint of .git notices an edited config (the tests above can fail)', () => {
  const v = victim();
  const before = untouchable(v);
  writeFileSync(join(v.root, '.git/config'), hostileConfig(v));
  expect(untouchable(v)).not.toEqual(before);
  putObject(join(v.box, 'outside'), md5Hex('x'), 'x');
  expect(untouchable(v).outside).not.toEqual(before.outside);
});

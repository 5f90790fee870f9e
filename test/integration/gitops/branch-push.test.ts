import { mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isUsageError } from '../../../src/errors.ts';
import { ForeignCommitsError, pushBranch, type BranchPushSettings, type Edit } from '../../../src/gitops/branch-push.ts';
import { basicCredential } from '../../../src/gitops/git.ts';
import type { Logger } from '../../../src/log.ts';
import { startGitHttpServer, type GitHttpServer } from '../../helpers/git-http-server.ts';
import { argvLoggingGit, git, humanCommit, seedBareRepo, showFile } from './repos.ts';
import { tempDir as testTempDir } from '../../helpers/tmp.ts';

const TOKEN = 'ghs_TestToken0123456789abcdefSECRET';
const BRANCH = 'mlops/churn/staging';
const FILE = 'overlays/staging/inference.yaml';
const BOT = { name: 'mlops-actions[bot]', email: 'mlops-actions@users.noreply.github.com' };

/** Sets the staging storageUri to `version`, the way bump would. */
function setVersion(version: string): Edit {
  return async (worktree) => {
    const file = join(worktree, FILE);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(/sha256-[0-9a-f]{16}/, version));
  };
}

function capturingLogger(lines: string[]): Logger {
  const push = (m: string) => lines.push(m);
  return { debug: push, info: push, notice: push, warning: push, error: push };
}

describe.each(['file', 'http'] as const)('pushBranch over %s://', (transport) => {
  let root: string;
  let bare: string;
  let server: GitHttpServer | undefined;
  let remoteUrl: string;
  let argvLog: string;
  let gitPath: string;
  let tempDir: string;
  let output: string[];

  beforeAll(async () => {
    if (transport === 'http') {
      server = await startGitHttpServer({ projectRoot: tmpdir(), user: 'x-access-token', password: TOKEN });
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  beforeEach(() => {
    root = testTempDir('gitops-test');
    bare = seedBareRepo(root);
    remoteUrl = transport === 'file' ? `file://${bare}` : `${server?.url}/${bare.slice(tmpdir().length + 1)}`;
    argvLog = join(root, 'argv.log');
    gitPath = argvLoggingGit(root, argvLog);
    tempDir = mkdtempSync(join(root, 'work-'));
    output = [];
    return () => rmSync(root, { recursive: true, force: true });
  });

  function settings(edit: Edit, extra: Partial<BranchPushSettings> = {}): BranchPushSettings {
    return {
      remoteUrl,
      token: TOKEN,
      base: 'main',
      branch: BRANCH,
      edit,
      message: {
        title: 'Deploy churn sha256-aaaa to staging',
        trailers: { 'Model-Version': 'sha256-aaaa', 'Source-Commit': 'abc123', 'Run-URL': 'https://github.com/o/r/actions/runs/1' },
      },
      author: BOT,
      logger: capturingLogger(output),
      gitPath,
      tempDir,
      ...extra,
    };
  }

  /** Nothing the run left behind, logged or spawned carries the token. */
  function expectTokenNowhere({ pushed = true } = {}) {
    const secrets = [TOKEN, basicCredential(TOKEN)];
    const argv = readFileSync(argvLog, 'utf8');
    expect(argv).toContain(pushed ? 'push' : 'fetch'); // the log did capture git's argv
    const config = readFileSync(join(bare, 'config'), 'utf8');
    const leftovers = readdirSync(tempDir);
    for (const secret of secrets) {
      expect(argv).not.toContain(secret);
      expect(output.join('\n')).not.toContain(secret);
      expect(config).not.toContain(secret);
      expect(JSON.stringify(process.env)).not.toContain(secret);
    }
    expect(leftovers).toEqual([]); // the clone (and its .git/config) is gone
    expect(argv).not.toMatch(/extraheader|AUTHORIZATION/i);
    if (server) {
      const authed = server.requests.filter((r) => r.status !== 401);
      expect(authed.length).toBeGreaterThan(0);
      for (const r of authed) expect(r.headers.authorization).toBe(`basic ${basicCredential(TOKEN)}`);
      for (const r of server.requests) expect(r.path).not.toContain(TOKEN);
    }
  }

  it('creates, then updates, then leaves the branch unchanged', async () => {
    const first = await pushBranch(settings(setVersion('sha256-aaaaaaaaaaaaaaaa')));
    expect(first).toMatchObject({ operation: 'created', branch: BRANCH, base: 'main', changedFiles: [FILE], attempts: 1, baseHasChange: false });
    expect(showFile(bare, BRANCH, FILE)).toContain('sha256-aaaaaaaaaaaaaaaa');
    expect(showFile(bare, 'main', FILE)).toContain('sha256-0000000000000001');
    const message = git(bare, ['log', '-1', '--format=%an <%ae>%n%B', BRANCH]);
    expect(message).toContain(`${BOT.name} <${BOT.email}>`);
    expect(message).toContain('Model-Version: sha256-aaaa\nSource-Commit: abc123\nRun-URL: https://github.com/o/r/actions/runs/1');
    expect(git(bare, ['rev-parse', `${BRANCH}~1`]).trim()).toBe(git(bare, ['rev-parse', 'main']).trim());
    expectTokenNowhere();

    const second = await pushBranch(settings(setVersion('sha256-bbbbbbbbbbbbbbbb')));
    expect(second.operation).toBe('updated');
    expect(second.commit).toBe(git(bare, ['rev-parse', BRANCH]).trim());
    expect(showFile(bare, BRANCH, FILE)).toContain('sha256-bbbbbbbbbbbbbbbb');
    expect(git(bare, ['rev-list', '--count', `main..${BRANCH}`]).trim()).toBe('1'); // one commit, replaced in place

    const third = await pushBranch(settings(setVersion('sha256-bbbbbbbbbbbbbbbb')));
    expect(third).toMatchObject({ operation: 'unchanged', commit: second.commit });
    expectTokenNowhere();
  });

  it('re-fetches and re-applies when the base moves during the run', async () => {
    let calls = 0;
    const edit: Edit = async (worktree) => {
      calls++;
      if (calls === 1) humanCommit(root, bare, 'main', 'README.md', 'merged meanwhile\n');
      await setVersion('sha256-cccccccccccccccc')(worktree);
    };
    const result = await pushBranch(settings(edit));
    expect(result).toMatchObject({ operation: 'created', attempts: 2 });
    expect(calls).toBe(2);
    const main = git(bare, ['rev-parse', 'main']).trim();
    expect(result.baseCommit).toBe(main);
    expect(git(bare, ['rev-parse', `${BRANCH}~1`]).trim()).toBe(main);
    expect(showFile(bare, BRANCH, 'README.md')).toBe('merged meanwhile\n');
    expect(showFile(bare, BRANCH, FILE)).toContain('sha256-cccccccccccccccc');
    expectTokenNowhere();
  });

  it('retries when a concurrent run pushes our branch first (force-with-lease refuses the stale push)', async () => {
    let calls = 0;
    const edit: Edit = async (worktree) => {
      calls++;
      // Another run for the same model and environment wins the race.
      if (calls === 1) await pushBranch(settings(setVersion('sha256-dddddddddddddddd')));
      await setVersion('sha256-eeeeeeeeeeeeeeee')(worktree);
    };
    const result = await pushBranch(settings(edit));
    expect(result).toMatchObject({ operation: 'updated', attempts: 2 });
    expect(showFile(bare, BRANCH, FILE)).toContain('sha256-eeeeeeeeeeeeeeee');
    expectTokenNowhere();
  });

  it('gives up after maxAttempts when the base keeps moving, pushing nothing', async () => {
    let calls = 0;
    const edit: Edit = async (worktree) => {
      calls++;
      humanCommit(root, bare, 'main', 'README.md', `merge ${calls}\n`);
      await setVersion('sha256-ffffffffffffffff')(worktree);
    };
    await expect(pushBranch(settings(edit, { maxAttempts: 2 }))).rejects.toThrow(/^gave up after 2 attempts: main or mlops\/churn\/staging kept moving on /);
    expect(calls).toBe(2);
    expect(git(bare, ['branch', '--list', BRANCH]).trim()).toBe('');
    expect(readFileSync(argvLog, 'utf8')).not.toMatch(/(^| )push /m);
    expectTokenNowhere({ pushed: false });
  });

  it('refuses to overwrite a human commit on our branch unless force is set', async () => {
    await pushBranch(settings(setVersion('sha256-aaaaaaaaaaaaaaaa')));
    const human = humanCommit(root, bare, BRANCH, 'overlays/staging/extra.yaml', 'kind: ConfigMap\n');
    await expect(pushBranch(settings(setVersion('sha256-bbbbbbbbbbbbbbbb')))).rejects.toThrow(ForeignCommitsError);
    await expect(pushBranch(settings(setVersion('sha256-bbbbbbbbbbbbbbbb')))).rejects.toThrow(/force: false but mlops\/churn\/staging has 1 commit\(s\) by someone else \([0-9a-f]{12} by Jane Human <jane@example.com>\)/);
    expect(git(bare, ['rev-parse', BRANCH]).trim()).toBe(human);

    const forced = await pushBranch(settings(setVersion('sha256-bbbbbbbbbbbbbbbb'), { force: true }));
    expect(forced.operation).toBe('updated');
    expect(git(bare, ['rev-list', '--count', `main..${BRANCH}`]).trim()).toBe('1');
    expect(output.some((l) => l.includes('overwriting because force is set'))).toBe(true);
    expectTokenNowhere();
  });

  it('reports unchanged with nothing to propose when the base already has the change', async () => {
    const result = await pushBranch(settings(setVersion('sha256-0000000000000001')));
    expect(result).toMatchObject({ operation: 'unchanged', baseHasChange: true, commit: undefined, changedFiles: [] });
    expect(git(bare, ['branch', '--list', BRANCH]).trim()).toBe('');
  });

  it('never pushes anything but our branch', async () => {
    const before = git(bare, ['for-each-ref', '--format=%(refname) %(objectname)']);
    await pushBranch(settings(setVersion('sha256-aaaaaaaaaaaaaaaa')));
    const after = git(bare, ['for-each-ref', '--format=%(refname) %(objectname)']);
    const changed = after.split('\n').filter((l) => !before.split('\n').includes(l));
    expect(changed.map((l) => l.split(' ')[0])).toEqual([`refs/heads/${BRANCH}`]);
    const pushes = readFileSync(argvLog, 'utf8').split('\n').filter((l) => / push /.test(` ${l} `));
    expect(pushes).toHaveLength(1);
    expect(pushes[0]).toMatch(new RegExp(`--force-with-lease=refs/heads/${BRANCH}: origin --end-of-options [0-9a-f]{40}:refs/heads/${BRANCH}$`));
  });
});

describe('pushBranch over http with a wrong token', () => {
  it('says the token was refused (bad input), without the token in it', async () => {
    const root = testTempDir('gitops-test');
    const bare = seedBareRepo(root);
    const server = await startGitHttpServer({ projectRoot: tmpdir(), user: 'x-access-token', password: 'the-right-one' });
    try {
      const wrong = 'ghs_WrongToken_SECRET_value';
      const error: unknown = await pushBranch({
        remoteUrl: `${server.url}/${bare.slice(tmpdir().length + 1)}`,
        token: wrong,
        base: 'main',
        branch: BRANCH,
        edit: setVersion('sha256-aaaaaaaaaaaaaaaa'),
        message: { title: 't', trailers: {} },
        author: BOT,
        tempDir: root,
      }).catch((e: unknown) => e);
      if (!(error instanceof Error)) throw new Error('expected the push to fail');
      expect(isUsageError(error)).toBe(true);
      expect(error.message).toMatch(/^token: was refused by http:\/\/127\.0\.0\.1:\d+ when reading/);
      expect(error.message).not.toContain(wrong);
      expect(error.message).not.toContain(basicCredential(wrong));
    } finally {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

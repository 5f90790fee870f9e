import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { branchNameProblem, pullRequestBranch } from '../../../src/gitops/branch.ts';
import { formatCommitMessage } from '../../../src/gitops/branch-push.ts';
import { authEnv, basicCredential } from '../../../src/gitops/git.ts';
import { UsageError } from '../../../src/errors.ts';

function gitAccepts(name: string): boolean {
  try {
    execFileSync('git', ['check-ref-format', '--branch', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('branch names', () => {
  const names = [
    'main', 'mlops/churn/staging', 'release-1.2', 'feature/a_b', 'a', 'x/y.z',
    '', '-x', '/a', 'a/', 'a//b', 'a..b', 'a.', '.a', 'a/.b', 'a.lock', 'a/b.lock/c', 'a b', 'a~1', 'a^', 'a:b',
    'a?', 'a*', 'a[b', 'a\\b', 'a@{b', 'a\tb', 'a\u007fb',
  ];
  it.each(names)('agrees with git check-ref-format --branch on %j', (name) => {
    expect(branchNameProblem(name) === undefined).toBe(gitAccepts(name));
  });

  it('rejects "@" and "HEAD", which git --branch would expand to the current branch', () => {
    expect(branchNameProblem('@')).toBe('is reserved by git');
    expect(branchNameProblem('HEAD')).toBe('is reserved by git');
  });

  it('builds mlops/<model>/<environment> and names the bad input', () => {
    expect(pullRequestBranch('churn', 'production')).toBe('mlops/churn/production');
    expect(() => pullRequestBranch('churn/x', 'staging')).toThrow(UsageError);
    expect(() => pullRequestBranch('churn', '..')).toThrow(/^environment: "\.\." must start with a letter or digit/);
    expect(() => pullRequestBranch('-rf', 'staging')).toThrow(/^model: "-rf"/);
    expect(() => pullRequestBranch('churn', 'prod.lock')).toThrow(/^environment:/);
  });
});

describe('commit message', () => {
  it('ends with the provenance trailers git can parse', () => {
    const message = formatCommitMessage({
      title: 'Deploy churn sha256-1 to staging',
      body: 'Metrics in the PR.',
      trailers: { 'Model-Version': 'sha256-1', 'Source-Commit': 'abc', 'Run-URL': 'https://x/runs/1', Skipped: undefined },
    });
    expect(message).toBe('Deploy churn sha256-1 to staging\n\nMetrics in the PR.\n\nModel-Version: sha256-1\nSource-Commit: abc\nRun-URL: https://x/runs/1\n');
    const parsed = execFileSync('git', ['interpret-trailers', '--parse'], { input: message, encoding: 'utf8' });
    expect(parsed).toBe('Model-Version: sha256-1\nSource-Commit: abc\nRun-URL: https://x/runs/1\n');
  });

  it('keeps a newline in a value from forging extra trailers', () => {
    const message = formatCommitMessage({ title: 't', trailers: { 'Model-Version': 'v1\nSigned-off-by: evil' } });
    expect(message).toBe('t\n\nModel-Version: v1 Signed-off-by: evil\n');
  });
});

describe('auth environment', () => {
  it('scopes the extraheader to the remote origin and keeps existing GIT_CONFIG entries', () => {
    const env = authEnv({ GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'core.x', GIT_CONFIG_VALUE_0: 'y' }, 'https://github.com/o/r.git', 'tok');
    expect(env).toEqual({
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_1: 'http.https://github.com/.extraheader',
      GIT_CONFIG_VALUE_1: `AUTHORIZATION: basic ${basicCredential('tok')}`,
    });
    expect(Buffer.from(basicCredential('tok'), 'base64').toString()).toBe('x-access-token:tok');
    expect(authEnv({}, 'file:///srv/r.git', 'tok')).toEqual({});
  });
});

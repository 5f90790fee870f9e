import { spawn } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGitHubApi, type GitHubApi } from '../../helpers/github-api.ts';
import { tempDir } from '../../helpers/tmp.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const bundle = join(root, 'actions', 'gate', 'dist', 'index.js');
const fixtures = join(root, 'test', 'fixtures', 'gates');

interface Run {
  code: number | null;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
}

/** GITHUB_OUTPUT's multi-line format: `name<<DELIM\nvalue\nDELIM`. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1]!] = m[3]!;
  return out;
}

let api: GitHubApi;
let work: string;

beforeEach(async () => {
  api = await startGitHubApi();
  work = tempDir('gate-action');
  await cp(join(fixtures, 'workspace'), work, { recursive: true });
});
afterEach(async () => {
  await api.close();
});

async function runAction(inputs: Record<string, string>, event: { name: string; payload: unknown; sha?: string }): Promise<Run> {
  const eventPath = join(work, 'event.json');
  const outputPath = join(work, 'output.txt');
  const summaryPath = join(work, 'summary.md');
  await writeFile(eventPath, JSON.stringify(event.payload));
  await writeFile(outputPath, '');
  await writeFile(summaryPath, '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: work,
    GITHUB_EVENT_NAME: event.name,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_SHA: event.sha ?? 'f'.repeat(40),
    GITHUB_REPOSITORY: 'acme/churn',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '42',
    GITHUB_API_URL: api.url,
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    'INPUT_TOKEN': 'ghs_secret_token_value',
    'INPUT_RULES': '.mlops/gates.yml',
    'INPUT_COMMENT-KEY': 'default',
    'INPUT_COMMENT': 'true',
    'INPUT_FAIL-ON-REGRESSION': 'true',
    'INPUT_BASELINE': '',
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const child = spawn(process.execPath, [bundle], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c));
  child.stderr.on('data', (c: Buffer) => (stdout += c));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  // Workflow commands escape %, CR and LF in their messages.
  stdout = stdout.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
  return { code, stdout, outputs: parseOutputs(await readFile(outputPath, 'utf8')), summary: await readFile(summaryPath, 'utf8') };
}

const pullRequestEvent = { name: 'pull_request', payload: { pull_request: { number: 7, head: { sha: 'f'.repeat(40) } }, repository: { owner: { login: 'acme' }, name: 'churn' } } };

describe('actions/gate bundle', () => {
  it('passes on several legs, sets outputs, writes the summary and one PR comment, and updates it on a re-run', async () => {
    api.state.addPullRequest('acme', 'churn', { number: 7 });
    const first = await runAction({ metrics: 'legs', baseline: 'baseline.json' }, pullRequestEvent);
    // The token is registered as a secret (the runner masks it) and never printed otherwise.
    expect(first.stdout).toContain('::add-mask::ghs_secret_token_value');
    expect(first.stdout.replace('::add-mask::ghs_secret_token_value', '')).not.toContain('ghs_secret_token_value');
    expect(first.code).toBe(0);
    expect(first.outputs.passed).toBe('true');
    expect(first.outputs['best-leg']).toBe('python-3.12');
    expect(first.outputs.report).toContain('### ✅ Gate passed — best leg `python-3.12`');
    expect(first.summary).toBe(first.outputs.report);
    expect(first.summary).toContain('xychart-beta');
    expect(first.summary).toContain('[Workflow run](https://github.com/acme/churn/actions/runs/42)');
    const comments = api.state.commentsOn('acme', 'churn', 7);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toBe(`<!-- mlops-actions:gate:default -->\n${first.outputs.report}`);
    expect(first.outputs['comment-url']).toBe(`https://github.com/acme/churn/pull/7#issuecomment-${comments[0]!.id}`);

    const second = await runAction({ metrics: 'legs/node-22', baseline: 'none' }, pullRequestEvent);
    expect(second.code).toBe(0);
    const after = api.state.commentsOn('acme', 'churn', 7);
    expect(after.map((c) => c.id)).toEqual([comments[0]!.id]);
    expect(after[0]!.body).toContain('no baseline');
    expect(api.violations).toEqual([]);
  });

  it('fails the step on a regression, with outputs still set', async () => {
    api.state.addPullRequest('acme', 'churn', { number: 7 });
    const run = await runAction({ metrics: 'legs/node-22', baseline: 'regressed-baseline.json' }, pullRequestEvent);
    expect(run.code).toBe(1);
    expect(run.outputs.passed).toBe('false');
    expect(run.outputs['best-leg']).toBe('');
    expect(run.stdout).toMatch(/::error::Gate failed: accuracy 0\.914: drop 0\.056 \(5\.77%\) exceeds max-drop 0\.01/);
    expect(run.summary).toContain('❌');
    expect(api.state.commentsOn('acme', 'churn', 7)).toHaveLength(1);
  });

  it('succeeds with passed=false when fail-on-regression is false', async () => {
    const run = await runAction({ metrics: 'legs/node-22', baseline: 'regressed-baseline.json', 'fail-on-regression': 'false', comment: 'false' }, pullRequestEvent);
    expect(run.code).toBe(0);
    expect(run.outputs.passed).toBe('false');
    expect(run.stdout).toMatch(/::warning::Gate failed: .*fail-on-regression is false/);
    expect(api.requests).toHaveLength(0);
  });

  it('skips the comment with a notice on a push with no open pull request', async () => {
    const run = await runAction({ metrics: 'legs' }, { name: 'push', payload: { ref: 'refs/heads/main' }, sha: 'a'.repeat(40) });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('::notice::Gate comment skipped: this push run has no open pull request');
    expect(api.calls('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls')).toHaveLength(1);
    expect(run.outputs['comment-url']).toBe('');
    expect(api.violations).toEqual([]);
  });

  it('comments on the open pull request of a pushed commit', async () => {
    api.state.addPullRequest('acme', 'churn', { number: 9, headSha: 'b'.repeat(40) });
    const run = await runAction({ metrics: 'legs' }, { name: 'push', payload: {}, sha: 'b'.repeat(40) });
    expect(run.code).toBe(0);
    expect(api.state.commentsOn('acme', 'churn', 9)).toHaveLength(1);
    expect(api.violations).toEqual([]);
  });

  it('keeps the verdict when the comment cannot be written (read-only token)', async () => {
    api.state.addPullRequest('acme', 'churn', { number: 7 });
    api.fault('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { status: 403, body: { message: 'Resource not accessible by integration' } });
    const run = await runAction({ metrics: 'legs' }, pullRequestEvent);
    expect(run.code).toBe(0);
    expect(run.outputs.passed).toBe('true');
    expect(run.stdout).toMatch(/::warning::Gate comment not written: Resource not accessible by integration.*pull-requests: write/);
  });

  it('fails with one clear line on bad input, naming the file and key', async () => {
    await writeFile(join(work, 'bad.yml'), 'metrics:\n  accuracy: { mni: 0.9 }\n');
    const badRules = await runAction({ metrics: 'legs', rules: 'bad.yml', comment: 'false' }, pullRequestEvent);
    expect(badRules.code).toBe(1);
    expect(badRules.stdout).toContain('::error::Invalid input: bad.yml: key "metrics.accuracy.mni" is not a known key; did you mean "min"?');
    const badMetrics = await runAction({ metrics: 'broken', comment: 'false' }, pullRequestEvent);
    expect(badMetrics.stdout).toContain('::error::Invalid input: broken/metrics.json: key "f1" has value "NaN"');
    const badKey = await runAction({ metrics: 'legs', 'comment-key': 'a b' }, pullRequestEvent);
    expect(badKey.stdout).toContain('::error::Invalid input: comment-key: "a b" must be');
    expect(api.requests).toHaveLength(0);
  });

  it('accepts inline YAML rules', async () => {
    const run = await runAction({ metrics: 'legs', rules: 'aggregate: all\nmetrics:\n  accuracy: { min: 0.92 }', comment: 'false' }, pullRequestEvent);
    expect(run.code).toBe(1);
    expect(run.outputs['best-leg']).toBe('python-3.12');
    expect(run.stdout).toMatch(/::error::Gate failed: node-22 accuracy 0\.914: below min 0\.92/);
  });

  it('says which inputs production needs', async () => {
    const run = await runAction({ metrics: 'legs', baseline: 'production', comment: 'false' }, pullRequestEvent);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error::Invalid input: baseline: "production" needs/);
  });
});

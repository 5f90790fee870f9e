import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { defuseWorkflowCommands, logValue } from '../../src/github/escape.ts';
import { git, seedBareRepo } from '../integration/gitops/repos.ts';
import { tempDir } from '../helpers/tmp.ts';
import { mlops, outsideCode } from './mlops-cli.ts';

/**
 * Issue 10 item 6: nothing that arrives with data reaches a workflow command or Markdown unescaped.
 * Leg names come from run.json (written by the code under review), cards from the model store.
 */

const BUNDLE = join(import.meta.dirname, '../../actions/gate/dist/index.js');
const FORGED = 'node-24\n::error title=pwned::the gate is broken\n::add-mask::Gate';
const MENTION = '@octocat [click here](https://evil.example/login)';

/** Lines of a step's stdout that the runner would obey as workflow commands. */
function commands(stdout: string): string[] {
  return stdout.split(/\r\n|\r|\n/).filter((l) => l.trimStart().startsWith('::'));
}

describe('workflow commands', () => {
  it('a leg named with newlines and ::commands:: in run.json is refused, and no forged command reaches the runner', async () => {
    const ws = tempDir('sec-inject-ws');
    mkdirSync(join(ws, 'legs/a'), { recursive: true });
    writeFileSync(join(ws, 'legs/a/metrics.json'), '{"accuracy": 0.9}\n');
    writeFileSync(join(ws, 'legs/a/run.json'), JSON.stringify({ leg: FORGED, metrics: 'metrics.json' }));
    const output = join(ws, 'out');
    writeFileSync(output, '');
    const env = { PATH: process.env.PATH, GITHUB_WORKSPACE: ws, GITHUB_OUTPUT: output, GITHUB_EVENT_NAME: 'push', INPUT_METRICS: 'legs', INPUT_RULES: 'metrics: {accuracy: {min: 0.5}}', INPUT_COMMENT: 'false' };
    const r = await promisify(execFile)(process.execPath, [BUNDLE], { env, cwd: ws }).then((x) => ({ ...x, code: 0 }), (e: { stdout: string; code: number }) => e);
    expect(r.code).toBe(1);
    const obeyed = commands(r.stdout);
    expect(obeyed.filter((l) => /^\s*::(add-mask|error title=pwned)::/.test(l))).toEqual([]);
    expect(obeyed.some((l) => l.startsWith('::error::Invalid input: metrics: the leg of') && l.includes('control characters'))).toBe(true);
    expect(readFileSync(output, 'utf8')).not.toContain('best-leg');
  });

  it('every line the actions log is defused when it reads as a command; values are shown on one line', () => {
    const message = `Gate passed; best leg x\n  ::add-mask::Gate\n##[error]old form\r::warning::cr`;
    expect(commands(defuseWorkflowCommands(message))).toEqual([]);
    expect(defuseWorkflowCommands(message)).not.toContain('##[');
    expect(logValue(FORGED)).toBe('node-24\\n::error title=pwned::the gate is broken\\n::add-mask::Gate');
    expect(logValue('\u001b[2Jcleared\u2028')).toBe('\\u001b[2Jcleared\\u2028');
  });
});

describe('Markdown: reports and pull request bodies', () => {
  it('leg and metric names go in code spans: no @mention or link forms in the gate report', async () => {
    const ws = tempDir('sec-inject-report');
    for (const leg of ['a', 'b']) {
      mkdirSync(join(ws, leg));
      writeFileSync(join(ws, leg, 'metrics.json'), `{"accuracy": 0.9${leg === 'a' ? 1 : 2}, "@team/leads": 1}\n`);
      writeFileSync(join(ws, leg, 'run.json'), JSON.stringify({ leg: `${MENTION} ${leg}`, metrics: 'metrics.json' }));
    }
    const r = await mlops(['gate', '--metrics', 'a', '--metrics', 'b', '--rules', 'metrics: {accuracy: {min: 0.95}, "@team/leads": {max: 0}}'], ws);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('@octocat');
    const prose = outsideCode(r.stdout);
    expect(prose).not.toMatch(/@octocat|@team|\]\(https:\/\/evil/);
  });

  async function pullRequest(card: Record<string, unknown>, manifest?: string) {
    const root = tempDir('sec-inject-gitops');
    const bare = seedBareRepo(root);
    if (manifest) {
      const work = join(root, 'edit');
      git(root, ['clone', '--quiet', `file://${bare}`, work]);
      writeFileSync(join(work, 'overlays/production/inference.yaml'), manifest);
      git(work, ['commit', '--quiet', '-am', 'a manifest with a fence in it']);
      git(work, ['push', '--quiet', 'origin', 'main']);
    }
    const cwd = tempDir('sec-inject-cwd');
    writeFileSync(
      join(cwd, 'model.json'),
      JSON.stringify({
        schema: 'mlops-actions/model/v1', name: 'churn', version: 'sha256-2222222222222222', format: 'onnx',
        files: [{ path: 'model.onnx', sha256: 'a'.repeat(64), size: 1 }], params: {}, created: '2026-11-22T07:00:00Z',
        metrics: { accuracy: 0.93 }, data: [{ path: 'data/train', md5: '5ea40360f5b4ec688df672a4db9c17d1.dir' }],
        source: { repository: 'acme/ml', commit: 'c0ffee0000000000000000000000000000000000', 'run-url': 'https://github.com/acme/ml/actions/runs/7', leg: 'node-24' },
        ...card,
      }),
    );
    const r = await mlops(
      ['pull-request', '--repository', pathToFileURL(bare).href, '--model', 'churn', '--environment', 'production', '--manifest', 'overlays/production/inference.yaml', '--storage-uri', 's3://models/models/churn/sha256-2222222222222222/', '--model-card', 'model.json', '--pr-file', 'pr.md'],
      cwd,
      { PATH: process.env.PATH },
    );
    return { ...r, body: r.code === 0 ? readFileSync(join(cwd, 'pr.md'), 'utf8') : '' };
  }

  it('a card whose run-url points elsewhere, or whose leg mentions someone, plants no link or mention in the PR body', async () => {
    const r = await pullRequest({ source: { repository: 'acme/ml', commit: 'c0ffee0000000000000000000000000000000000', 'run-url': 'https://evil.example/acme/ml/actions/runs/7', leg: MENTION } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.body).toContain('evil.example');
    expect(outsideCode(r.body)).not.toMatch(/evil\.example|@octocat/);
  });

  it('source.commit must be 40 hex and source.repository owner/name (exit 2 naming the card)', async () => {
    for (const source of [{ commit: 'c0ffee @octocat' }, { repository: '@evil/team x' }, { leg: 'a\n::add-mask::x' }]) {
      const r = await pullRequest({ source });
      expect(r.code, JSON.stringify(source)).toBe(2);
      expect(r.stderr).toMatch(/model-card: .*model\.json: is not a mlops-actions\/model\/v1 model card \(source\.(commit|repository|leg)/);
    }
  });

  it('a manifest line that would close the diff fence stays inside it', async () => {
    const manifest = [
      'apiVersion: serving.kserve.io/v1beta1',
      'kind: InferenceService',
      'metadata:',
      '  name: churn',
      'spec:',
      '  predictor:',
      '    model:',
      '      modelFormat:',
      '        name: onnx',
      '      storageUri: s3://models/models/churn/sha256-0000000000000001/',
      'x-note: |',
      '  ```',
      `  ${MENTION}`,
      '',
    ].join('\n');
    const r = await pullRequest({}, manifest);
    expect(r.code, r.stderr).toBe(0);
    expect(r.body).toContain('@octocat');
    expect(outsideCode(r.body)).not.toMatch(/@octocat|evil\.example/);
  });
});

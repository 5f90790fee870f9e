import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from '../helpers/git-http-server.ts';
import { tempDir } from '../helpers/tmp.ts';
import { seedBareRepo } from '../integration/gitops/repos.ts';
import { mlops } from './mlops-cli.ts';

/**
 * Issue 10 item 10 (gate, GitOps, train): the exit code the contract promises and one line that names the input,
 * the value and the fix. 2 is bad input; 3 is work that could not complete.
 */

const RULE = 'metrics: {accuracy: {min: 0.5}}';

function leg(): string {
  const ws = tempDir('sec-exit');
  writeFileSync(join(ws, 'metrics.json'), '{"accuracy": 0.9}\n');
  return ws;
}

describe('gate input', () => {
  it('a rules path that is a directory is exit 2 naming rules', async () => {
    const ws = leg();
    mkdirSync(join(ws, '.mlops'));
    const r = await mlops(['gate', '--metrics', 'metrics.json', '--rules', '.mlops'], ws);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('mlops gate: rules: ".mlops" is a directory; give the rules file in it (e.g. .mlops/gates.yml) or inline YAML');
  });

  it('a YAML bomb in the rules is exit 2, not an out-of-memory or exit 3', async () => {
    const ws = leg();
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    writeFileSync(join(ws, 'gates.yml'), `${levels.join('\n')}\nmetrics: {accuracy: {min: 0.5}}\n`);
    const r = await mlops(['gate', '--metrics', 'metrics.json', '--rules', 'gates.yml'], ws);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gates\.yml: expands too many YAML aliases .* YAML bomb/);
  });

  it('a duplicate rule is reported by its real name and line', async () => {
    const ws = leg();
    writeFileSync(join(ws, 'gates.yml'), 'metrics:\n  accuracy: { min: 0.9 }\n  roc_auc: { min: 0.8 }\n  accuracy: { min: 0.5 }\n');
    const r = await mlops(['gate', '--metrics', 'metrics.json', '--rules', 'gates.yml'], ws);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gates\.yml:4:3: not valid YAML: Map keys must be unique \(key "accuracy" appears twice\)/);
  });

  it('a ".." in the storageUri production deploys is exit 2 naming the manifest', async () => {
    const ws = leg();
    const store = tempDir('sec-exit-store');
    for (const uri of ['s3://models/models/../sha256-0123456789abcdef/', 's3://models/models/churn/%2e%2e/sha256-0123456789abcdef/', 'file:///etc/../tmp/models/churn/sha256-0123456789abcdef/']) {
      writeFileSync(join(ws, 'inference.yaml'), `kind: InferenceService\nmetadata: {name: churn}\nspec: {predictor: {model: {storageUri: "${uri}"}}}\n`);
      for (const extra of [['--remote', store], []]) {
        const r = await mlops(['gate', '--metrics', 'metrics.json', '--rules', RULE, '--baseline', 'production', '--manifest', 'inference.yaml', ...extra], ws);
        expect(r.code, `${uri} ${extra.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(/manifest: "inference\.yaml" deploys the storageUri .* which has a "\." or "\.\." path segment: fix the manifest/);
      }
    }
  });
});

describe('train', () => {
  it('a timeout is exit 3 (could not complete), naming the timeout', async () => {
    const ws = tempDir('sec-exit-train');
    const r = await mlops(['train', '--timeout', '1s', '--', process.execPath, '-e', 'setInterval(() => {}, 1000)'], ws, { PATH: process.env.PATH });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^mlops train: timeout: 1s was reached: .* was stopped/m);
  });
});

describe('a refused git token', () => {
  const TOKEN = 'ghs_RightToken_0123456789';
  let server: GitHttpServer;
  beforeAll(async () => {
    const root = tempDir('sec-exit-git');
    mkdirSync(join(root, 'acme'));
    seedBareRepo(join(root, 'acme'), 'gitops');
    server = await startGitHttpServer({ projectRoot: root, user: 'x-access-token', password: TOKEN });
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each([
    ['a wrong token', 'ghs_WrongToken_9876543210', /^mlops pull-request: token: was refused by http:\/\/127\.0\.0\.1:\d+ when reading/],
    ['no token', '', /^mlops pull-request: token: none was given, and http:\/\/127\.0\.0\.1:\d+ asks for credentials/],
  ])('%s is reported as refused (exit 2), not as "could not read Username"', async (_what, token, message) => {
    const r = await mlops(
      ['pull-request', '--repository', `${server.url}/acme/gitops.git`, '--model', 'churn', '--environment', 'staging', '--manifest', 'overlays/staging/inference.yaml', '--storage-uri', 's3://models/models/churn/sha256-2222222222222222/', '--pr-file', 'pr.md'],
      tempDir('sec-exit-cwd'),
      { PATH: process.env.PATH, HOME: tempDir('sec-exit-home'), ...(token && { GITHUB_TOKEN: token }) },
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/could not read Username/);
    expect(r.stderr).not.toContain(token || TOKEN);
  });
});

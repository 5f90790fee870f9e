import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.ts';
import { mlops } from './mlops-cli.ts';

/** Issue 10 item 8: secrets stay out of URLs, and error messages never quote a file's content. */

const TOKEN = 'ghp_0123456789SecretTokenValueXYZ';
const AWS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('a token in the repository URL', () => {
  it.each([
    ['a query string', `https://github.com/acme/gitops.git?access_token=${TOKEN}`],
    ['a fragment', `https://github.com/acme/gitops.git#${TOKEN}`],
    ['user info', `https://x-access-token:${TOKEN}@github.com/acme/gitops.git`],
  ])('in %s is refused before git runs, without echoing it', async (_where, repository) => {
    const r = await mlops(['pull-request', '--repository', repository, '--model', 'churn', '--environment', 'production', '--manifest', 'm.yaml', '--storage-uri', 's3://b/models/churn/sha256-2222222222222222/', '--pr-file', 'pr.md'], tempDir('sec-url'), { PATH: process.env.PATH });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^mlops pull-request: repository: "https:\/\/[^"]*\*\*\*[^"]*" must not (have a query string or fragment|carry credentials)/);
    expect(`${r.stdout}${r.stderr}`).not.toContain(TOKEN);
  });
});

describe('error messages do not quote file content', () => {
  it('a leg metrics file that is really a credentials file: exit 2, the key is not printed', async () => {
    const ws = tempDir('sec-quote');
    mkdirSync(join(ws, 'leg'));
    const files = [
      `[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = ${AWS_KEY}\n`,
      `aws_access_key_id: AKIAIOSFODNN7EXAMPLE\naws_secret_access_key: ${AWS_KEY}\n`,
      `accuracy: 0.9\n  aws_secret_access_key: ${AWS_KEY}\n`,
    ];
    for (const text of files) {
      writeFileSync(join(ws, 'leg', 'metrics.json'), text);
      const r = await mlops(['gate', '--metrics', 'leg', '--rules', 'metrics: {accuracy: {min: 0.5}}'], ws);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^mlops gate: leg\/metrics\.json/);
      expect(r.stderr).not.toContain(AWS_KEY);
      expect(r.stderr).not.toContain('AKIAIOSFODNN7EXAMPLE');
    }
  });

  it('a run.json that is not JSON: exit 2 with the position, not the text', async () => {
    const ws = tempDir('sec-quote-run');
    mkdirSync(join(ws, 'leg'));
    writeFileSync(join(ws, 'leg', 'run.json'), `{"leg": "a", "token": "${TOKEN}" oops}`);
    const r = await mlops(['gate', '--metrics', 'leg', '--rules', 'metrics: {accuracy: {min: 0.5}}'], ws);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/run\.json: not valid JSON at line 1, column \d+; fix or remove run\.json/);
    expect(r.stderr).not.toContain(TOKEN);
  });
});

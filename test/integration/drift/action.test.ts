// actions/drift's committed bundle, run as GitHub runs it (INPUT_*, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY),
// against the GitHub stand-in: outputs, the job summary, the sticky issue, one retrain per window,
// fail-on-drift, and refusals of bad input.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WORKFLOW_DISPATCH } from '../../../src/github/workflow-dispatch.ts';
import { startGitHubApi, type GitHubApi } from '../../helpers/github-api.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { payloadLog, writeProfileFile } from './fixtures.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const bundle = join(root, 'actions', 'drift', 'dist', 'index.js');
const TOKEN = 'ghs_secret_token_value';

let api: GitHubApi;
let work: string;

beforeEach(async () => {
  api = await startGitHubApi();
  api.state.addWorkflow('acme', 'churn-ml', { file: 'retrain.yml', inputs: { model: { required: true }, reason: {}, 'profile-version': {}, window: {} }, runName: 'Retrain ${{ inputs.model }} (window ${{ inputs.window }})' });
  work = tempDir('drift-action');
  writeProfileFile(join(work, 'profile.json'));
  mkdirSync(join(work, 'logs'));
  writeFileSync(join(work, 'logs', 'shifted.jsonl'), payloadLog({ records: 25, rowsPerRecord: 100, seed: 21, shift: ['tenure_months', 'monthly_charges', 'contract'], start: '2026-11-22T09:05:00Z' }));
});
afterEach(async () => {
  await api.close();
});

function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) out[m[1]!] = m[3]!;
  return out;
}

async function run(inputs: Record<string, string>) {
  const output = join(work, 'output.txt');
  const summary = join(work, 'summary.md');
  const event = join(work, 'event.json');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  writeFileSync(event, JSON.stringify({ schedule: '5 * * * *' }));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: work,
    GITHUB_EVENT_NAME: 'schedule',
    GITHUB_EVENT_PATH: event,
    GITHUB_REPOSITORY: 'acme/churn-ml',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '77',
    GITHUB_API_URL: api.url,
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    INPUT_TOKEN: TOKEN,
    INPUT_FORMAT: 'auto',
    INPUT_RULES: '.mlops/drift.yml',
    INPUT_ISSUE: 'true',
    'INPUT_ISSUE-LABEL': 'mlops-drift',
    'INPUT_DISPATCH-REF': 'main',
    'INPUT_FAIL-ON-DRIFT': 'true',
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const child = spawn(process.execPath, [bundle], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c));
  child.stderr.on('data', (c: Buffer) => (stdout += c));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  stdout = stdout.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
  return { code, stdout, outputs: parseOutputs(readFileSync(output, 'utf8')), summary: readFileSync(summary, 'utf8') };
}

const hour = { since: '2026-11-22T09:00:00Z', until: '2026-11-22T10:00:00Z' };

describe('actions/drift bundle', () => {
  it('reports drift, writes the summary and the sticky issue, and starts the retrain once per window', async () => {
    const inputs = { profile: 'profile.json', current: 'logs', ...hour, dispatch: 'retrain.yml', 'fail-on-drift': 'false' };
    const first = await run(inputs);
    expect(first.code, first.stdout).toBe(0);
    expect(first.outputs).toMatchObject({ drifted: 'true', insufficient: 'false', 'features-drifted': 'tenure_months,monthly_charges,contract', window: '2026-11-22T09:00:00.000Z..2026-11-22T10:00:00.000Z', dispatch: 'dispatched' });
    expect(first.outputs['run-url']).toMatch(/^https:\/\/github\.com\/acme\/churn-ml\/actions\/runs\/\d+$/);
    expect(first.outputs['issue-url']).toBe('https://github.com/acme/churn-ml/issues/1');
    expect(first.summary).toMatch(/### 🔴 dataset drift — 3 of 4 columns drifted/);
    expect(first.summary).toMatch(/```mermaid/);
    expect(first.stdout).toMatch(/::warning::Dataset drift: 3 of 4 columns drifted \(tenure_months, monthly_charges, contract\) \(fail-on-drift is false/);
    expect(first.stdout.replace(`::add-mask::${TOKEN}`, '')).not.toContain(TOKEN);

    const second = await run(inputs);
    expect(second.outputs.dispatch).toBe('already-dispatched');
    expect(second.outputs['run-url']).toBe(first.outputs['run-url']);
    expect(api.calls(WORKFLOW_DISPATCH)).toHaveLength(1);
    expect(api.state.repo('acme', 'churn-ml').issues.size).toBe(1);
    expect(api.violations).toEqual([]);
  });

  it('fails the step on drift by default, with the verdict', async () => {
    const r = await run({ profile: 'profile.json', current: 'logs' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/::error::Dataset drift: 3 of 4 columns drifted/);
    expect(r.outputs.drifted).toBe('true');
    expect(r.outputs.dispatch).toBe('off');
  });

  it('refuses paths outside the workspace and bad rules, naming the input or key', async () => {
    const outside = await run({ profile: 'profile.json', current: '../elsewhere' });
    expect(outside.code).toBe(1);
    expect(outside.stdout).toMatch(/::error::Invalid input: current: "..\/elsewhere" must be a path inside the workspace/);
    const rules = await run({ profile: 'profile.json', current: 'logs', rules: 'correction: holm\n' });
    expect(rules.stdout).toMatch(/::error::Invalid input: rules \(inline YAML\): key "correction" has value "holm": must be bonferroni or none/);
    expect(api.requests).toHaveLength(0);
  });
});

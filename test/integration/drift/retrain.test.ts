// The retrain loop against the GitHub stand-in (every request checked against @octokit/openapi): the
// workflow_dispatch endpoint and body, one dispatch per window across runs, GitHub's 422 and 403 explained,
// repository_dispatch as the alternative, and one sticky issue per model, created then updated.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DriftResult } from '../../../src/drift/run.ts';
import { closeTheLoop, type RetrainSettings } from '../../../src/drift/retrain.ts';
import { dispatchRecords } from '../../../src/github/drift-issue.ts';
import { createGitHubClient } from '../../../src/github/octokit.ts';
import { REPOSITORY_DISPATCH, WORKFLOW_DISPATCH, WORKFLOW_RUNS, dispatchRequest, sendDispatch } from '../../../src/github/workflow-dispatch.ts';
import { isUsageError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/log.ts';
import { startGitHubApi, type GitHubApi } from '../../helpers/github-api.ts';

let api: GitHubApi;
beforeEach(async () => {
  api = await startGitHubApi();
  api.state.addWorkflow('acme', 'churn-ml', {
    file: 'retrain.yml',
    inputs: { model: { required: true }, reason: {}, 'profile-version': {}, window: { required: true } },
    runName: 'Retrain ${{ inputs.model }} (window ${{ inputs.window }})',
  });
});
afterEach(async () => {
  await api.close();
});

const client = () => createGitHubClient({ token: 'ghs_test', logger: silentLogger, baseUrl: api.url, rateLimitRetries: 0 });
const repo = { owner: 'acme', repo: 'churn-ml' };

function result(window: string, drifted = true): DriftResult {
  const column = (name: string, isDrifted: boolean) => ({
    name,
    kind: 'numeric' as const,
    role: 'feature' as const,
    test: 'psi' as const,
    statistic: isDrifted ? 0.41 : 0.01,
    threshold: 0.2,
    drifted: isDrifted,
    severity: 'error' as const,
    insufficient: false,
    rows: 5000,
    statistics: {},
    missing: { reference: 0, current: 0 },
    histogram: { labels: ['≤ 1', '> 1'], reference: [0.5, 0.5], current: [0.2, 0.8] },
  });
  return {
    drifted,
    insufficient: false,
    rows: 5000,
    dataset: { share: drifted ? 1 : 0, 'drift-share': 0.5, drifted: drifted ? 2 : 0, tested: 2 },
    features: [column('tenure_months', drifted), column('monthly_charges', drifted)],
    correction: 'bonferroni',
    'min-rows': 1000,
    model: 'churn',
    version: 'sha256-0123456789abcdef',
    profile: 's3://ml/models/churn/sha256-0123456789abcdef/profile.json',
    window: { since: null, until: null, first: null, last: null, key: window },
    records: { records: 0, requests: 0, responses: 0, malformed: 0, examples: [], outside: 0, unpairedRequests: 0, unpairedResponses: 0, duplicates: 0, mismatched: 0, fast: 0 },
    sources: [],
  };
}

const WINDOW = '2026-11-22T09:00:00.000Z..2026-11-22T10:00:00.000Z';
const settings = (over: Partial<RetrainSettings> = {}): RetrainSettings => ({ repo, model: 'churn', issue: true, dispatch: { kind: 'workflow', workflow: 'retrain.yml', ref: 'main' }, ...over });

describe('retrain dispatch', () => {
  it('sends workflow_dispatch to the right endpoint with the model, reason, profile version and window, and prints the run URL', async () => {
    const outcome = await closeTheLoop(client(), result(WINDOW), '### drift', settings(), silentLogger);
    const [call] = api.calls(WORKFLOW_DISPATCH);
    expect(call!.path).toBe('/repos/acme/churn-ml/actions/workflows/retrain.yml/dispatches');
    expect(call!.body).toEqual({
      ref: 'main',
      inputs: { model: 'churn', reason: 'dataset drift: 2 of 2 columns drifted: tenure_months (psi 0.41), monthly_charges (psi 0.41)', 'profile-version': 'sha256-0123456789abcdef', window: WINDOW },
      return_run_details: true,
    });
    const run = api.state.repo('acme', 'churn-ml').runs[0]!;
    expect(outcome.dispatch).toMatchObject({ status: 'dispatched', runUrl: `https://github.com/acme/churn-ml/actions/runs/${run.id}` });
    expect(run.display_title).toBe(`Retrain churn (window ${WINDOW})`);
    expect(api.violations).toEqual([]);
  });

  it('starts one retrain per window across two runs, and a new one for the next window', async () => {
    await closeTheLoop(client(), result(WINDOW), 'first', settings(), silentLogger);
    const second = await closeTheLoop(client(), result(WINDOW), 'second', settings(), silentLogger);
    expect(second.dispatch.status).toBe('already-dispatched');
    expect(api.calls(WORKFLOW_DISPATCH)).toHaveLength(1);
    // Without the issue's record, the run's name (run-name carries the window) still tells.
    const third = await closeTheLoop(client(), result(WINDOW), 'third', settings({ issue: false }), silentLogger);
    expect(third.dispatch.status).toBe('already-dispatched');
    expect(api.calls(WORKFLOW_RUNS).length).toBeGreaterThan(0);
    expect(api.calls(WORKFLOW_DISPATCH)).toHaveLength(1);
    const next = await closeTheLoop(client(), result('2026-11-22T10:00:00.000Z..2026-11-22T11:00:00.000Z'), 'next', settings(), silentLogger);
    expect(next.dispatch.status).toBe('dispatched');
    expect(api.calls(WORKFLOW_DISPATCH)).toHaveLength(2);
    expect(api.violations).toEqual([]);
  });

  it('does not dispatch without dataset drift', async () => {
    const outcome = await closeTheLoop(client(), result(WINDOW, false), 'calm', settings(), silentLogger);
    expect(outcome.dispatch.status).toBe('not-needed');
    expect(api.calls(WORKFLOW_DISPATCH)).toHaveLength(0);
    expect(api.calls('POST /repos/{owner}/{repo}/issues')).toHaveLength(0);
  });

  it('refuses more than 25 inputs before sending, and explains GitHub’s 422 for them', async () => {
    const extra = Object.fromEntries(Array.from({ length: 22 }, (_, i) => [`x${i}`, 'v']));
    const error = await closeTheLoop(client(), result(WINDOW), 'r', settings({ extraInputs: extra }), silentLogger).catch((e: unknown) => e);
    expect(isUsageError(error)).toBe(true);
    expect((error as Error).message).toMatch(/26 inputs for retrain\.yml, but GitHub takes at most 25 workflow_dispatch inputs: drop 1/);
    expect(api.calls(WORKFLOW_DISPATCH)).toHaveLength(0);
    const request = { route: WORKFLOW_DISPATCH, params: { ...repo, workflow_id: 'retrain.yml', ref: 'main', inputs: { model: 'churn', window: WINDOW, ...extra, x97: 'v', x98: 'v', x99: 'v' } } } as const;
    await expect(sendDispatch(client(), request)).rejects.toThrow(/GitHub refused the workflow_dispatch of retrain\.yml in acme\/churn-ml \(422: you may only define up to 25 `inputs`.*\): send at most 25 inputs/);
    const undeclared = { route: WORKFLOW_DISPATCH, params: { ...repo, workflow_id: 'retrain.yml', ref: 'main', inputs: { model: 'churn', window: WINDOW, colour: 'red' } } } as const;
    await expect(sendDispatch(client(), undeclared)).rejects.toThrow(/Unexpected inputs provided.*declare the inputs under on\.workflow_dispatch\.inputs of retrain\.yml/);
  });

  it('names the missing permission on a 403', async () => {
    api.state.permissions = new Set(['issues:write', 'contents:read']);
    await expect(closeTheLoop(client(), result(WINDOW), 'r', settings(), silentLogger)).rejects.toThrow(/403: Resource not accessible by integration\): the token may not start workflows: give the job `permissions: actions: write`/);
    await expect(closeTheLoop(client(), result(WINDOW), 'r', settings({ dispatch: { kind: 'repository', eventType: 'retrain' } }), silentLogger)).rejects.toThrow(/repository_dispatch .* it needs `contents: write`/);
    expect(api.violations).toEqual([]);
  });

  it('still starts the retrain when the token may not write issues, and says why the issue is missing', async () => {
    api.state.permissions = new Set(['actions:write']);
    const warnings: string[] = [];
    const outcome = await closeTheLoop(client(), result(WINDOW), 'r', settings(), { ...silentLogger, warning: (m) => warnings.push(m) });
    expect(outcome.dispatch.status).toBe('dispatched');
    expect(outcome.issue).toBeUndefined();
    expect(warnings).toEqual(['Drift issue not written (403): the token may not write issues: give the job `permissions: issues: write`']);
  });

  it('says so when the workflow does not exist', async () => {
    await expect(closeTheLoop(client(), result(WINDOW), 'r', settings({ dispatch: { kind: 'workflow', workflow: 'retrian.yml', ref: 'main' } }), silentLogger)).rejects.toThrow(/404.*no workflow retrian\.yml is visible to the token/);
  });

  it('sends repository_dispatch as the alternative, once per window too', async () => {
    const s = settings({ dispatch: { kind: 'repository', eventType: 'mlops-retrain' } });
    await closeTheLoop(client(), result(WINDOW), 'r', s, silentLogger);
    await closeTheLoop(client(), result(WINDOW), 'r', s, silentLogger);
    const calls = api.calls(REPOSITORY_DISPATCH);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body).toMatchObject({ event_type: 'mlops-retrain', client_payload: { model: 'churn', window: WINDOW } });
    expect(api.violations).toEqual([]);
  });

  it('writes the request instead of sending it when asked (the demo)', async () => {
    const written: unknown[] = [];
    const outcome = await closeTheLoop(undefined, result(WINDOW), 'r', settings({ issue: false, write: async (r) => void written.push(r) }), silentLogger);
    expect(outcome.dispatch.status).toBe('written');
    expect(written).toEqual([dispatchRequest(repo, { kind: 'workflow', workflow: 'retrain.yml', ref: 'main' }, outcome.dispatch.request!.params.inputs as Record<string, string>)]);
    expect(api.requests).toHaveLength(0);
  });
});

describe('the sticky drift issue', () => {
  it('is created once with the marker and label, then updated in place with the latest report', async () => {
    const first = await closeTheLoop(client(), result(WINDOW), '### 🔴 first report', settings(), silentLogger);
    expect(first.issue).toMatchObject({ operation: 'created', number: 1 });
    const issue = api.state.repo('acme', 'churn-ml').issues.get(1)!;
    expect(issue.labels).toEqual(['mlops-drift']);
    expect(issue.body!.startsWith('<!-- mlops-actions:drift:churn -->\n### 🔴 first report')).toBe(true);
    expect(issue.body).toMatch(/Retraining started/);
    expect(dispatchRecords(issue.body)).toEqual([{ window: WINDOW, run: expect.stringMatching(/^https:\/\/github\.com\/acme\/churn-ml\/actions\/runs\/\d+$/) }]);

    const second = await closeTheLoop(client(), result(WINDOW), '### 🔴 second report', settings(), silentLogger);
    expect(second.issue).toMatchObject({ operation: 'updated', number: 1 });
    expect(api.state.repo('acme', 'churn-ml').issues.size).toBe(1);
    expect(api.state.repo('acme', 'churn-ml').issues.get(1)!.body).toMatch(/second report[\s\S]*already started for this window/);

    // Closed by a person, reopened when drift comes back; a calm run only updates it.
    api.state.repo('acme', 'churn-ml').issues.get(1)!.state = 'closed';
    await closeTheLoop(client(), result('w2'), '### third', settings(), silentLogger);
    expect(api.state.repo('acme', 'churn-ml').issues.get(1)!.state).toBe('open');
    await closeTheLoop(client(), result('w3', false), '### calm', settings(), silentLogger);
    const latest = api.state.repo('acme', 'churn-ml').issues.get(1)!;
    expect(latest.body).toMatch(/### calm/);
    expect(dispatchRecords(latest.body).map((r) => r.window)).toEqual([WINDOW, 'w2']);
    expect(api.violations).toEqual([]);
  });

  it('keeps one issue per model: another model gets its own, and a quoted marker is not ours', async () => {
    const other = api.state.addIssue('acme', 'churn-ml', 'A person quoting us');
    other.body = '> <!-- mlops-actions:drift:churn -->';
    other.labels = ['mlops-drift'];
    await closeTheLoop(client(), result(WINDOW), 'churn report', settings(), silentLogger);
    await closeTheLoop(client(), result(WINDOW), 'fraud report', settings({ model: 'fraud' }), silentLogger);
    const bodies = [...api.state.repo('acme', 'churn-ml').issues.values()].map((i) => (i.body ?? '').split('\n')[0]);
    expect(bodies).toEqual(['> <!-- mlops-actions:drift:churn -->', '<!-- mlops-actions:drift:churn -->', '<!-- mlops-actions:drift:fraud -->']);
  });
});

// The demo's last step: production (mlops serve) gets an hour of traffic shifted on two features, its payload
// log is checked by drift against the profile published with the version, and the retrain dispatch is written.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { tempDir } from '../../helpers/tmp.ts';

describe('npm run demo ends the loop with drift', () => {
  it('finds the two shifted features in the logged payloads and writes the dispatch it would send', async () => {
    const workdir = tempDir('drift-demo');
    execFileSync('git', ['init', '-q', workdir]);
    const out: string[] = [];
    const problems: string[] = [];
    const logger = { debug() {}, info() {}, notice() {}, warning: (m: string) => problems.push(m), error: (m: string) => problems.push(m) };
    const code = await main(['demo', '--workdir', workdir, '--no-python', '--json'], { cwd: workdir, env: { ...process.env }, logger, out: (t) => out.push(t) });
    expect(problems).toEqual([]);
    expect(code).toBe(0);
    const { drift, published } = JSON.parse(out.join('')) as { drift: { version: string; drifted: boolean; featuresDrifted: string[]; rows: number; window: string; paths: Record<string, string> }; published: { version: string } };
    expect(drift).toMatchObject({ version: published.version, drifted: true, featuresDrifted: ['tenure_months', 'monthly_charges'], rows: 2000 });
    expect(drift.window).toMatch(/^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z\.\.\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/);
    // The version was published with its profile, and the log holds paired CloudEvents.
    expect(readFileSync(`${workdir}/store/models/churn/${published.version}/profile.json`, 'utf8')).toMatch(/"schema": "mlops-actions\/profile\/v1"/);
    // What mlops serve's payload logger wrote: the hour of traffic, and the rollout's smoke inference at real time.
    const log = drift.paths.payloadLog!;
    const records = readdirSync(log)
      .flatMap((f) => readFileSync(join(log, f), 'utf8').trim().split('\n'))
      .map((l) => JSON.parse(l) as { id: string; type: string; time: string; source: string });
    const [since, until] = drift.window.split('..').map((t) => Date.parse(t)) as [number, number];
    const inWindow = records.filter((r) => Date.parse(r.time) >= since && Date.parse(r.time) < until);
    expect(inWindow).toHaveLength(200);
    expect(records).toHaveLength(202);
    expect(new Set(inWindow.map((r) => r.type))).toEqual(new Set(['org.kubeflow.serving.inference.request', 'org.kubeflow.serving.inference.response']));
    expect(new Set(inWindow.map((r) => r.id)).size).toBe(100);
    expect(records[0]!.source).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(readFileSync(drift.paths.report!, 'utf8')).toMatch(/^### 🔴 churn: dataset drift — 2 of 8 columns drifted/);
    const dispatch = JSON.parse(readFileSync(drift.paths.dispatch!, 'utf8')) as { method: string; path: string; body: { inputs: Record<string, string> } };
    expect([dispatch.method, dispatch.path]).toEqual(['POST', '/repos/your-org/churn-ml/actions/workflows/pipeline.yml/dispatches']);
    expect(dispatch.body.inputs).toMatchObject({ model: 'churn', 'profile-version': published.version, window: drift.window });
  });
});

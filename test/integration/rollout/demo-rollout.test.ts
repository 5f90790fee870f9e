import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mergeBranch, seedGitopsRepo } from '../../../src/demo/gitops-repo.ts';
import { serveProduction } from '../../../src/demo/production-server.ts';
import { rolloutStepSummary, runRolloutStep } from '../../../src/demo/rollout-step.ts';
import { runPullRequest } from '../../../src/gitops/pull-request.ts';
import type { Logger } from '../../../src/log.ts';
import { publishModel } from '../../../src/model/publish.ts';
import { LocalRemote } from '../../../src/storage/local-remote.ts';
import { tempDir } from '../../helpers/tmp.ts';

/**
 * The demo's last step on its own: after the local merge, `mlops serve` serves what production's manifest on
 * the GitOps main branch deploys and `mlops rollout --cluster none` verifies it (the whole demo runs it in
 * test/integration/demo). Real parts: a bare git repository, a published version, onnxruntime behind the server.
 */

const ROOT = join(import.meta.dirname, '../../..');
const MANIFEST = 'manifests/overlays/production/inference-patch.yaml';
const BUCKET = 's3://mlops-demo/';
const env = { PATH: process.env.PATH, HOME: tempDir('demo-rollout-home') };
const lines: string[] = [];
const logger: Logger = { debug() {}, info: (m) => lines.push(m), notice: (m) => lines.push(m), warning: (m) => lines.push(`warning: ${m}`), error: (m) => lines.push(`error: ${m}`) };

describe('demo: serve the merged version and verify it with rollout --cluster none', () => {
  it('serves and verifies what main deploys; serves nothing when main deploys nothing of the demo store', async () => {
    const work = tempDir('demo-rollout');
    const gitops = join(work, 'gitops.git');
    const store = join(work, 'store');
    await seedGitopsRepo(gitops, join(ROOT, 'manifests'), env);
    const serve = () => serveProduction({ gitops, manifest: MANIFEST, modelStore: store, bucket: BUCKET, model: 'churn', payloadLog: join(work, 'payload-logs'), env, logger });
    // The skeleton's placeholder storageUri is not in the demo's store.
    expect(await serve()).toBeUndefined();

    const published = await publishModel(
      { modelDir: 'test/fixtures/model/churn', name: 'churn', metrics: 'test/fixtures/model/metrics.json', params: 'test/fixtures/model/params.json' },
      { remote: new LocalRemote(store), logger, cwd: ROOT, env },
    );
    const pr = await runPullRequest(
      {
        repository: pathToFileURL(gitops).href,
        serverUrl: 'https://github.com',
        model: 'churn',
        environment: 'production',
        change: { kind: 'bump', manifests: [MANIFEST], bump: {} },
        storageUri: `${BUCKET}models/churn/${published.version}/`,
        labels: [],
        draft: false,
        force: false,
        author: { name: 'mlops-actions[bot]', email: 'mlops-actions@users.noreply.github.com' },
        prFile: join(work, 'pull-request.md'),
        cwd: work,
      },
      { logger, env },
    );
    await mergeBranch(gitops, pr.branch, pr.commit as string, pr.baseCommit, env);

    const serving = await serve();
    if (!serving) throw new Error('main deploys the published version, so the demo serves it');
    const result = await runRolloutStep(serving, { model: 'churn', modelStore: store, env, logger }).finally(() => serving.server.close());
    expect(result?.storageUri).toBe(`${BUCKET}models/churn/${published.version}/`);
    expect(result?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(result?.rollout).toMatchObject({ status: 'serving', version: published.version, revision: published.version });
    expect(result?.rollout.checks.map((c) => [c.name, c.ok])).toEqual([['endpoint', true], ['inference', true]]);
    expect(result?.rollout.checks[0]?.detail).toBe(`ready, serving version ${published.version}`);
    expect(result?.rollout.checks[1]?.detail).toMatch(new RegExp(`^one 1-row inference \\(the signature in churn ${published.version}'s model card\\) answered `));
    expect(rolloutStepSummary(result, work)).toEqual([
      `  rollout    serving: mlops serve at ${result?.url} serves ${published.version} (store/models/churn/${published.version}), checked by mlops rollout --cluster none`,
    ]);
    expect(lines.filter((l) => /^(warning|error)/.test(l))).toEqual([]);
    // Closed by the caller: the smoke inference is in the payload log.
    await expect(fetch(`${result?.url}/v2/health/live`)).rejects.toThrow();
    expect(readdirSync(join(work, 'payload-logs'))).toHaveLength(1);
  });
});

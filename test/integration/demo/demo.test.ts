import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { tempDir } from '../../helpers/tmp.ts';

const workdir = tempDir('demo-test');
// As with `npm run demo` in a clone (.mlops-demo inside this repository), the workdir sits inside a git repository.
execFileSync('git', ['init', '-q', workdir]);
afterAll(() => rmSync(workdir, { recursive: true, force: true }));

async function demo(...extra: string[]) {
  const out: string[] = [];
  const errors: string[] = [];
  const info: string[] = [];
  const logger = { debug() {}, info: (m: string) => info.push(m), notice() {}, warning: (m: string) => errors.push(m), error: (m: string) => errors.push(m) };
  const code = await main(['demo', '--workdir', workdir, '--no-python', '--json', ...extra], { cwd: workdir, env: { ...process.env }, logger, out: (t) => out.push(t) });
  expect(errors).toEqual([]);
  // The step counter only goes forward: 1/6 … 6/6, each step once per run whatever the number of legs.
  const steps = info.map((m) => /^\[run \d+\] (\d)\/6 /.exec(m)?.[1]).filter((n) => n !== undefined);
  expect([...new Set(steps)]).toEqual(['1', '2', '3', '4', '5', '6']);
  expect(steps).toEqual([...steps].sort());
  return { code, result: JSON.parse(out.join('')) };
}

const gitops = (...args: string[]) => execFileSync('git', ['--git-dir', join(workdir, 'gitops.git'), ...args], { encoding: 'utf8' });
const MANIFEST = 'manifests/overlays/production/inference-patch.yaml';

// The whole loop, several times: minutes, not seconds, on a loaded two-core machine.
describe('npm run demo (mlops demo), Node leg, twice', { timeout: 240_000 }, () => {
  let first: { version: string; commit: string };

  it('run 1: data, train, evaluate, gate without a baseline, publish, and a created PR that is merged', async () => {
    const { code, result } = await demo();
    expect(code).toBe(0);
    expect(result.run).toBe(1);
    expect(result.legs.map((l: { name: string }) => l.name)).toEqual([`node-${process.versions.node.split('.')[0]}`]);
    expect(result.gate).toEqual({ passed: true, bestLeg: result.legs[0].name, baseline: null });
    expect(result.production).toBeUndefined();
    expect(result.published.version).toMatch(/^sha256-[0-9a-f]{16}$/);
    expect(result.pullRequest).toMatchObject({ operation: 'created', branch: 'mlops/churn/production', base: 'main' });
    expect(result.merged).toBe(true);
    first = { version: result.published.version, commit: result.pullRequest.commit };

    const pr = readFileSync(join(workdir, 'pull-request.md'), 'utf8');
    expect(pr).toContain(`Title: Deploy churn ${first.version} to production\nBranch: mlops/churn/production -> main\nOperation: created\n`);
    expect(pr).toContain('<!-- mlops-actions:pull-request:churn/production -->');
    expect(pr).toContain('Nothing in production yet to compare with');
    // The DVC remote holds the data, the model store the version, the GitOps main branch the new storageUri.
    expect(existsSync(join(workdir, 'store/dvc/files/md5'))).toBe(true);
    // The demo's project is its own DVC project: nothing is written into the enclosing repository.
    expect(existsSync(join(workdir, 'project/.dvc/cache/files/md5'))).toBe(true);
    expect(existsSync(join(workdir, '.dvc'))).toBe(false);
    // The card carries the params the leg trained with and the project commit it trained on.
    const card = JSON.parse(readFileSync(join(workdir, 'store/models/churn', first.version, 'model.json'), 'utf8'));
    const head = execFileSync('git', ['-C', join(workdir, 'project'), 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    expect(card).toMatchObject({ name: 'churn', version: first.version, params: { train: { C: 1, trainer: 'typescript-newton' } }, source: { commit: head, ref: 'refs/heads/main', leg: result.legs[0].name } });
    expect(gitops('show', `main:${MANIFEST}`)).toContain(`storageUri: s3://mlops-demo/models/churn/${first.version}/`);
  });

  it('run 2: a new model gated against the first as production, in a new PR (the first was merged)', async () => {
    const { code, result } = await demo();
    expect(code).toBe(0);
    expect(result.run).toBe(2);
    expect(result.production).toBe(first.version);
    const second: string = result.published.version;
    expect(second).not.toBe(first.version);
    expect(result.pullRequest).toMatchObject({ operation: 'created', baseCommit: first.commit });

    const pr = readFileSync(join(workdir, 'pull-request.md'), 'utf8');
    expect(pr).toContain(`Title: Deploy churn ${second} to production\nBranch: mlops/churn/production -> main\nOperation: created\n`);
    expect(pr).toContain(`| Metric | Production (${first.version}) | This model | Δ |`);
    expect(pr).toMatch(/\| `roc_auc` \| 0\.\d+ \| 0\.\d+ \| [↑↓=]/);
    expect(pr).not.toContain('confusion_matrix'); // only the gated metrics
    expect(pr).toContain(`-      storageUri: s3://mlops-demo/models/churn/${first.version}/`);
    expect(pr).toContain(`+      storageUri: s3://mlops-demo/models/churn/${second}/`);
    // Production is scored again on this run's holdout (3000 rows → 750 held out), not read from its card.
    const report = readFileSync(join(workdir, 'gate-report.md'), 'utf8');
    expect(report).toContain(`baseline \`production churn ${first.version}\` re-scored on \`data/holdout.csv\` (${result.gate.baseline.production.rescored.rows} rows)`);
    expect(result.gate.baseline.production).toMatchObject({ version: first.version, rescored: { holdout: 'data/holdout.csv', cached: false } });
    const card = JSON.parse(readFileSync(join(workdir, 'store/models/churn', first.version, 'model.json'), 'utf8'));
    expect(result.gate.baseline.production.rescored.rows).toBeGreaterThan(card.metrics.rows);
    expect(gitops('log', '--format=%s', 'main')).toBe(`Deploy churn ${second} to production\nDeploy churn ${first.version} to production\nGitOps skeleton from mlops-actions manifests/\n`);
  });
});

describe('mlops demo with the Python leg (Debian python3 with numpy, scikit-learn and onnx, as .ci/run installs)', { timeout: 240_000 }, () => {
  it('trains and gates both languages together', async () => {
    const dir = tempDir('demo-python');
    try {
      const run = async () => {
        const out: string[] = [];
        const code = await main(['demo', '--workdir', dir, '--no-merge'], { cwd: dir, env: { ...process.env }, logger: { debug() {}, info() {}, notice() {}, warning() {}, error() {} }, out: (t) => out.push(t) });
        expect(code).toBe(0);
        return out.join('\n');
      };
      const summary = await run();
      // The legs train different models (the Python leg regularises harder): the best one is the one with the higher roc_auc.
      const roc = (leg: string) => Number(new RegExp(`leg ${leg} +accuracy 0\\.\\d{4}  roc_auc (0\\.\\d{4})`).exec(summary)?.[1]);
      const [node, python] = [roc('node-\\d+'), roc('python-3\\.\\d+')];
      expect(node).toBeGreaterThan(0.5);
      expect(python).toBeGreaterThan(0.5);
      expect(node).not.toBe(python);
      expect(summary).toMatch(new RegExp(`best leg ${node > python ? 'node-\\d+' : 'python-3\\.\\d+'}\n`));
      expect(summary).toContain('pull request created: mlops/churn/production -> main\n');
      expect(summary).toContain('Run it again: the next model updates this open PR');
      // Not merged: the second run updates the same open PR.
      expect(await run()).toContain('pull request updated: mlops/churn/production -> main\n');
      // --no-merge: main still deploys the skeleton's placeholder.
      expect(execFileSync('git', ['--git-dir', join(dir, 'gitops.git'), 'show', `main:${MANIFEST}`], { encoding: 'utf8' })).toContain('sha256-0000000000000000');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

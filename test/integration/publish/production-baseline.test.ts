import { cpSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { silentLogger } from '../../../src/log.ts';
import { productionBaseline } from '../../../src/model/production-baseline.ts';
import { publishModel } from '../../../src/model/publish.ts';
import { openRemote } from '../../../src/storage/open-remote.ts';
import { LocalRemote } from '../../../src/storage/local-remote.ts';
import { workspace } from './suite.ts';
import { tempDir } from '../../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '../../..');

/** A GitOps copy of manifests/ whose production overlay serves a freshly published version. */
async function deployed() {
  const cwd = workspace();
  const registry = tempDir('registry');
  const published = await publishModel(
    { modelDir: 'churn', name: 'churn', metrics: 'metrics.json' },
    { remote: new LocalRemote(registry), logger: silentLogger, cwd, env: {} },
  );
  const gitops = tempDir('gitops');
  cpSync(join(ROOT, 'manifests'), gitops, { recursive: true });
  // In the cluster the version lives in S3; CI reads the same version from its mirror (the remote input).
  const uri = `s3://models/models/churn/${published.version}/`;
  const code = await main(['bump', 'overlays/production/inference-patch.yaml', '--storage-uri', uri], { out: () => {}, logger: silentLogger, cwd: gitops });
  expect(code).toBe(0);
  return { cwd, registry, gitops, published };
}

const deps = (cwd: string) => ({ cwd, logger: silentLogger, openRemote: (url: string) => openRemote(url, { cwd }) });

describe('baseline: production', () => {
  it('renders the overlay, follows its storageUri to model.json and returns its metrics', async () => {
    const { registry, gitops, published } = await deployed();
    const baseline = await productionBaseline({ manifest: 'overlays/production', remote: registry }, deps(gitops));
    expect(baseline).toEqual({ source: `production churn ${published.version}`, metrics: { accuracy: 0.93, f1: 0.9, 'latency.p99_ms': 3.5 } });
  });

  it('reads a manifest file whose storageUri is the version itself (no remote needed)', async () => {
    const { registry, published } = await deployed();
    const dir = tempDir('manifest');
    writeFileSync(
      join(dir, 'inference.yaml'),
      `apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: churn}\nspec:\n  predictor:\n    onnx:\n      storageUri: file://${registry}/models/churn/${published.version}/\n`,
    );
    const baseline = await productionBaseline({ manifest: 'inference.yaml' }, deps(dir));
    expect(baseline?.metrics.accuracy).toBe(0.93);
  });

  it('fails closed when the version production serves has no model.json, unless a first rollout is allowed', async () => {
    const registry = tempDir('registry');
    const manifest = join(ROOT, 'manifests/overlays/production');
    await expect(productionBaseline({ manifest, remote: registry }, deps(ROOT))).rejects.toThrow(
      /^baseline: production deploys s3:\/\/models\/models\/churn\/sha256-0{16}\/ .* but its model card .*model\.json does not exist/,
    );
    expect(await productionBaseline({ manifest, remote: registry, allowMissing: true }, deps(ROOT))).toBeUndefined();
  });

  it('refuses a manifest that does not exist and a storageUri it cannot read without a remote', async () => {
    await expect(productionBaseline({ manifest: 'nope.yaml' }, deps(tmpdir()))).rejects.toThrow(/manifest: "nope.yaml" does not exist/);
    const dir = tempDir('manifest');
    writeFileSync(join(dir, 'i.yaml'), 'kind: InferenceService\nmetadata: {name: x}\nspec: {predictor: {model: {storageUri: "gs://b/models/x/sha256-0123456789abcdef/"}}}\n');
    await expect(productionBaseline({ manifest: 'i.yaml' }, deps(dir))).rejects.toThrow(/remote: "" is needed/);
  });

  it('mlops gate --baseline production --manifest compares with the deployed model and fails on a drop', async () => {
    const { registry, gitops } = await deployed();
    writeFileSync(join(gitops, 'candidate.json'), '{"accuracy": 0.91}\n');
    const out: string[] = [];
    const code = await main(
      ['gate', '--metrics', 'candidate.json', '--rules', 'metrics: {accuracy: {min: 0.5, max-drop: 0.01}}', '--baseline', 'production', '--manifest', 'overlays/production', '--remote', registry, '--json'],
      { out: (t) => out.push(t), logger: silentLogger, cwd: gitops },
    );
    expect(code).toBe(1);
    const result = JSON.parse(out.join(''));
    expect(JSON.stringify(result)).toContain('production churn sha256-');
    expect(result.passed).toBe(false);
  });
});

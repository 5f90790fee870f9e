import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationSet } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/ApplicationSet';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { main } from '../../../src/cli/main.ts';
import { silentLogger } from '../../../src/log.ts';
import { validateStructural, type Schema } from './structural-schema.ts';
import { tempDir } from '../../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '../../..');
const MANIFESTS = join(ROOT, 'manifests');
type Obj = Record<string, any>;

let isvcSchema: Schema;
beforeAll(() => {
  const crd = parse(readFileSync(join(ROOT, 'test/fixtures/kserve/serving.kserve.io_inferenceservices.yaml'), 'utf8'));
  isvcSchema = crd.spec.versions.find((v: Obj) => v.name === 'v1beta1').schema.openAPIV3Schema;
});

function render(dir: string): Obj[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS() as Obj);
}

describe('manifests/ GitOps skeleton', () => {
  for (const [overlay, namespace, canary] of [
    ['staging', 'ml-staging', undefined],
    ['production', 'ml-production', 10],
  ] as const) {
    it(`overlays/${overlay} renders and its InferenceService validates against KServe's CRD`, () => {
      const objects = render(join(MANIFESTS, 'overlays', overlay));
      const isvc = objects.find((o) => o.kind === 'InferenceService') as Obj;
      expect(validateStructural(isvc, isvcSchema)).toEqual([]);
      expect(isvc.apiVersion).toBe('serving.kserve.io/v1beta1');
      for (const o of objects) expect(o.metadata.namespace).toBe(namespace);
      expect(isvc.spec.predictor.canaryTrafficPercent).toBe(canary);
      expect(isvc.metadata.annotations['serving.kserve.io/deploymentMode']).toBe('Serverless');
      expect(isvc.spec.predictor.model.storageUri).toMatch(/^s3:\/\/.+\/sha256-[0-9a-f]{16}\/$/);

      // The predictor's ServiceAccount exists and carries the S3 secret with KServe's annotations.
      const account = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === isvc.spec.predictor.serviceAccountName) as Obj;
      const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === account.secrets[0].name) as Obj;
      for (const key of ['s3-endpoint', 's3-usehttps', 's3-region']) expect(secret.metadata.annotations[`serving.kserve.io/${key}`]).toBeTypeOf('string');
      expect(secret.stringData.AWS_SECRET_ACCESS_KEY).toMatch(/^REPLACE_/);
    });
  }

  it('the schema check catches a wrong field or type (it is not vacuous)', () => {
    const isvc = render(join(MANIFESTS, 'overlays', 'production')).find((o) => o.kind === 'InferenceService') as Obj;
    isvc.spec.predictor.canaryTrafficPercent = '10';
    isvc.spec.predictor.model.storageURI = 's3://typo/';
    expect(validateStructural(isvc, isvcSchema)).toEqual([
      'spec.predictor.canaryTrafficPercent: must be an integer, got "10"',
      'spec.predictor.model.storageURI: unknown field',
    ]);
  });

  it('argocd/ renders and its ApplicationSet validates, with automated sync, prune, selfHeal and retry', () => {
    const objects = render(join(MANIFESTS, 'argocd'));
    expect(objects.map((o) => o.kind)).toEqual(['ApplicationSet']);
    const set = new ApplicationSet(objects[0] as never);
    expect(() => set.validate()).not.toThrow();
    const template = (objects[0] as Obj).spec.template.spec;
    expect(template.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(template.syncPolicy.retry.limit).toBeGreaterThan(0);
    const environments = (objects[0] as Obj).spec.generators[0].list.elements.map((e: Obj) => e.environment);
    for (const env of environments) expect(render(join(MANIFESTS, 'overlays', env)).length).toBeGreaterThan(0);
  });

  it('a bump of the production patch changes one line and the rendered overlay serves the new version', async () => {
    const copy = tempDir('gitops');
    cpSync(MANIFESTS, copy, { recursive: true });
    const out: string[] = [];
    const uri = 's3://models/models/churn/sha256-0123456789abcdef/';
    const code = await main(['bump', 'overlays/production/inference-patch.yaml', '--storage-uri', uri, '--json'], { out: (t) => out.push(t), logger: silentLogger, cwd: copy });
    expect(code).toBe(0);
    const diff: string = JSON.parse(out.join('')).diff;
    expect(diff.split('\n').filter((l) => /^[-+][^-+]/.test(l))).toEqual([
      '-    mlops-actions.io/model-version: sha256-0000000000000000 # bumped by mlops',
      '+    mlops-actions.io/model-version: sha256-0123456789abcdef # bumped by mlops',
      '-      storageUri: s3://models/models/churn/sha256-0000000000000000/ # bumped by mlops',
      `+      storageUri: ${uri} # bumped by mlops`,
    ]);
    const isvc = render(join(copy, 'overlays', 'production')).find((o) => o.kind === 'InferenceService') as Obj;
    expect(isvc.spec.predictor.model.storageUri).toBe(uri);
    expect(isvc.metadata.annotations['mlops-actions.io/model-version']).toBe('sha256-0123456789abcdef');
    expect(isvc.metadata.annotations['serving.kserve.io/deploymentMode']).toBe('Serverless');
    expect(validateStructural(isvc, isvcSchema)).toEqual([]);
    const staging = render(join(copy, 'overlays', 'staging')).find((o) => o.kind === 'InferenceService') as Obj;
    expect(staging.spec.predictor.model.storageUri).toBe('s3://models/models/churn/sha256-0000000000000000/');
  });

  it('a bump of a kustomization images: entry changes the image kustomize renders into the InferenceService', async () => {
    const dir = tempDir('kustomize-images');
    cpSync(join(ROOT, 'test/fixtures/manifests/isvc-containers.yaml'), join(dir, 'isvc.yaml'));
    writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [isvc.yaml]\nimages:\n  - name: ghcr.io/org/model-server # pinned here\n    newTag: "1.0.0"\n');
    const digest = `sha256:${'d'.repeat(64)}`;
    const code = await main(['bump', 'kustomization.yaml', '--image', `ghcr.io/org/model-server=ghcr.io/org/model-server:1.1.0@${digest}`], { out: () => {}, logger: silentLogger, cwd: dir });
    expect(code).toBe(0);
    expect(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')).toBe(
      `resources: [isvc.yaml]\nimages:\n  - name: ghcr.io/org/model-server # pinned here\n    newTag: "1.1.0"\n    digest: ${digest}\n`,
    );
    const isvc = render(dir).find((o) => o.kind === 'InferenceService') as Obj;
    expect(isvc.spec.predictor.containers[0].image).toBe(`ghcr.io/org/model-server:1.1.0@${digest}`);
    expect(validateStructural(isvc, isvcSchema)).toEqual([]);
  });
});

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { bumpText, parseImageUpdate, type BumpRequest } from '../../../src/manifests/bump.ts';
import { tempDir } from '../../helpers/tmp.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/manifests');
const GOLDEN = join(FIXTURES, 'golden');
const V = 'sha256-abcdefabcdefabcd';
const DIGEST = `sha256:${'b'.repeat(64)}`;

type Obj = Record<string, any>;
interface Case {
  name: string;
  fixture: string;
  /** Golden diff name when one fixture has several cases (default: the fixture's). */
  golden?: string;
  request: BumpRequest;
  /** Index of the edited document. */
  doc?: number;
  /** Mutates the parsed original into what the result must parse to. */
  expect: (o: Obj) => void;
}

const CASES: Case[] = [
  {
    name: 'comments everywhere: storageUri, canary, existing and new annotations',
    fixture: 'isvc-comments.yaml',
    request: {
      storageUri: `s3://models/models/churn/${V}/`,
      canaryTrafficPercent: 20,
      provenance: [['mlops-actions.io/model-version', V], ['mlops-actions.io/run-url', 'https://github.com/o/r/actions/runs/9']],
    },
    expect: (o) => {
      o.spec.predictor.model.storageUri = `s3://models/models/churn/${V}/`;
      o.spec.predictor.canaryTrafficPercent = 20;
      o.metadata.annotations['mlops-actions.io/model-version'] = V;
      o.metadata.annotations['mlops-actions.io/run-url'] = 'https://github.com/o/r/actions/runs/9';
    },
  },
  {
    name: 'single and double quotes keep their style; a quoted number becomes a number',
    fixture: 'isvc-quotes.yaml',
    request: {
      storageUri: `gs://bucket/models/fraud/${V}/`,
      canaryTrafficPercent: 50,
      annotations: [['mlops-actions.io/model-version', "it's"], ['mlops-actions.io/commit', 'deadbeef']],
    },
    expect: (o) => {
      o.spec.predictor.model.storageUri = `gs://bucket/models/fraud/${V}/`;
      o.spec.predictor.canaryTrafficPercent = 50;
      o.metadata.annotations['mlops-actions.io/model-version'] = "it's";
      o.metadata.annotations['mlops-actions.io/commit'] = 'deadbeef';
    },
  },
  {
    name: 'flow maps on one line',
    fixture: 'isvc-flow.yaml',
    request: {
      storageUri: `s3://m/models/flowy/${V}/`,
      canaryTrafficPercent: 5,
      annotations: [['mlops-actions.io/commit', 'ffff'], ['mlops-actions.io/data', 'data/train=abc.dir']],
    },
    expect: (o) => {
      o.spec.predictor.model.storageUri = `s3://m/models/flowy/${V}/`;
      o.spec.predictor.canaryTrafficPercent = 5;
      o.metadata.annotations['mlops-actions.io/commit'] = 'ffff';
      o.metadata.annotations['mlops-actions.io/data'] = 'data/train=abc.dir';
    },
  },
  {
    name: 'anchors, aliases and merge keys stay; annotations are created',
    fixture: 'isvc-anchors.yaml',
    request: {
      storageUri: `s3://models/models/anchored/${V}/`,
      images: [parseImageUpdate('feast-transformer=ghcr.io/org/transformer:1.1.0')],
      provenance: [['mlops-actions.io/model-version', V]],
    },
    expect: (o) => {
      o.spec.predictor.model.storageUri = `s3://models/models/anchored/${V}/`;
      o.spec.transformer.containers[0].image = 'ghcr.io/org/transformer:1.1.0';
      o.metadata.annotations = { 'mlops-actions.io/model-version': V };
    },
  },
  {
    name: 'multi-document file with a directive and ... markers, selected by kind/name',
    fixture: 'multi-doc.yaml',
    doc: 2,
    request: { select: 'InferenceService/churn-b', storageUri: `s3://models/models/churn/${V}/` },
    expect: (o) => {
      o.spec.predictor.model.storageUri = `s3://models/models/churn/${V}/`;
    },
  },
  {
    name: 'CRLF line endings, also on added lines',
    fixture: 'isvc.crlf.yaml',
    request: {
      storageUri: `s3://models/models/windows/${V}/`,
      annotations: [['owner', 'ml-team'], ['mlops-actions.io/commit', '1234']],
    },
    expect: (o) => {
      o.spec.predictor.model.storageUri = `s3://models/models/windows/${V}/`;
      o.metadata.annotations['mlops-actions.io/commit'] = '1234';
    },
  },
  {
    name: 'the older framework form spec.predictor.sklearn.storageUri',
    fixture: 'isvc-framework.yaml',
    request: { storageUri: 'gs://kfserving-examples/models/sklearn/1.1/model' },
    expect: (o) => {
      o.spec.predictor.sklearn.storageUri = 'gs://kfserving-examples/models/sklearn/1.1/model';
    },
  },
  {
    name: 'predictor and transformer containers by name',
    fixture: 'isvc-containers.yaml',
    request: {
      images: [parseImageUpdate('kserve-container=ghcr.io/org/model-server:1.2.0'), parseImageUpdate(`transformer=ghcr.io/org/transformer@${DIGEST}`)],
    },
    expect: (o) => {
      o.spec.predictor.containers[0].image = 'ghcr.io/org/model-server:1.2.0';
      o.spec.transformer.containers[0].image = `ghcr.io/org/transformer@${DIGEST}`;
    },
  },
  {
    name: 'kustomization images: newTag (quoted when it would read as a number) and digest',
    fixture: 'kustomization.yaml',
    request: {
      images: [parseImageUpdate('ghcr.io/org/model-server=ghcr.io/org/model-server:1.10'), parseImageUpdate(`transformer=ghcr.io/org/transformer:2.0.0@${DIGEST}`)],
    },
    expect: (o) => {
      o.images[0].newTag = '1.10';
      o.images[1].newTag = '2.0.0';
      o.images[1].digest = DIGEST;
    },
  },
  {
    name: 'create-missing appends an images: entry in the list\'s own layout',
    fixture: 'kustomization.yaml',
    golden: 'kustomization.create-missing.yaml',
    request: { createMissing: true, images: [parseImageUpdate(`sidecar=ghcr.io/org/sidecar:0.3@${DIGEST}`)] },
    expect: (o) => {
      o.images.push({ name: 'sidecar', newName: 'ghcr.io/org/sidecar', newTag: '0.3', digest: DIGEST });
    },
  },
  {
    name: 'create-missing adds the images: list itself',
    fixture: 'kustomization-no-images.yaml',
    request: { createMissing: true, images: [parseImageUpdate('ghcr.io/org/model-server=ghcr.io/org/model-server:2.0'), parseImageUpdate('app=registry.local:5000/app:7')] },
    expect: (o) => {
      o.images = [
        { name: 'ghcr.io/org/model-server', newTag: '2.0' },
        { name: 'app', newName: 'registry.local:5000/app', newTag: '7' },
      ];
    },
  },
  {
    name: 'create-missing adds storageUri, canaryTrafficPercent and annotations at the right indentation',
    fixture: 'isvc-bare.yaml',
    request: {
      createMissing: true,
      storageUri: `s3://models/models/bare/${V}/`,
      canaryTrafficPercent: 10,
      provenance: [['mlops-actions.io/model-version', V]],
    },
    expect: (o) => {
      o.spec.predictor.model.storageUri = `s3://models/models/bare/${V}/`;
      o.spec.predictor.canaryTrafficPercent = 10;
      o.metadata.annotations = { 'mlops-actions.io/model-version': V };
    },
  },
];

function parseAll(text: string): unknown[] {
  return parseAllDocuments(text, { merge: true }).map((d) => d.toJS());
}

/** Applies the diff with real git to a copy of the original: proves the diff is exact. */
function gitApply(fixture: string, original: string, diff: string): string {
  const dir = tempDir('bump-diff');
  writeFileSync(join(dir, fixture), original);
  writeFileSync(join(dir, 'change.diff'), diff);
  execFileSync('git', ['apply', '--unsafe-paths', `--directory=.`, 'change.diff'], { cwd: dir, stdio: 'pipe' });
  return readFileSync(join(dir, fixture), 'utf8');
}

describe('bump golden files', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const original = readFileSync(join(FIXTURES, c.fixture), 'utf8');
      const result = bumpText(original, c.fixture, c.request);
      expect(result.changed).toBe(true);

      const golden = join(GOLDEN, `${c.golden ?? c.fixture}.diff`);
      if (process.env.UPDATE_GOLDEN && !existsSync(golden)) writeFileSync(golden, result.diff);
      expect(result.diff).toBe(readFileSync(golden, 'utf8'));

      // The result parses to the original with exactly the target fields changed.
      const before = parseAll(original);
      const after = parseAll(result.text);
      const index = c.doc ?? 0;
      c.expect(before[index] as Obj);
      expect(after).toEqual(before);

      // Every line the diff does not show is byte-identical (line endings included).
      if (original.includes('\r\n')) {
        const lf = gitApply(c.fixture, original.replaceAll('\r\n', '\n'), result.diff);
        expect(lf.replaceAll('\n', '\r\n')).toBe(result.text);
        expect(result.text.replaceAll('\r\n', '')).not.toContain('\n');
      } else {
        expect(gitApply(c.fixture, original, result.diff)).toBe(result.text);
      }

      // Bumping again with the same request is a no-op.
      const again = bumpText(result.text, c.fixture, c.request);
      expect(again).toMatchObject({ changed: false, diff: '', changes: [] });
      expect(again.text).toBe(result.text);
    });
  }
});

import { copyFileSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { silentLogger } from '../../../src/log.ts';
import { tempDir } from '../../helpers/tmp.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/manifests');
const URI = 's3://models/models/churn/sha256-abcdefabcdefabcd/';

/** Runs `mlops bump` on a copy of a fixture (or of given text) in a fresh directory. */
async function bump(source: { fixture: string } | { text: string }, args: string[]) {
  const dir = tempDir('bump-refusal');
  const file = join(dir, 'inference.yaml');
  if ('fixture' in source) copyFileSync(join(FIXTURES, source.fixture), file);
  else writeFileSync(file, source.text);
  const before = readFileSync(file);
  const mtime = statSync(file).mtimeMs;
  const out: string[] = [];
  const err: string[] = [];
  const logger = { ...silentLogger, error: (m: string) => err.push(m) };
  const code = await main(['bump', 'inference.yaml', ...args], { out: (t) => out.push(t), logger, cwd: dir });
  return {
    code,
    error: err.join('\n'),
    out: out.join('\n'),
    unchanged: Buffer.compare(before, readFileSync(file)) === 0 && statSync(file).mtimeMs === mtime && readdirSync(dir).length === 1,
  };
}

interface Refusal {
  name: string;
  source: { fixture: string } | { text: string };
  args: string[];
  /** Fragments the one-line message must contain (file, path, value, reason). */
  says: string[];
}

const BOMB = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
  .concat(['b', 'c', 'd', 'e', 'f', 'g'].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefg'[i]}`).join(',')}]`))
  .join('\n');

const REFUSALS: Refusal[] = [
  {
    name: 'an alias bomb',
    source: { text: `${BOMB}\nkind: InferenceService\nmetadata: {name: x}\nspec: {predictor: {model: {storageUri: "s3://a/b/"}}}\n` },
    args: ['--storage-uri', URI],
    says: ['inference.yaml', 'alias bomb'],
  },
  {
    name: 'very deep nesting',
    source: { text: `kind: InferenceService\nmetadata: {name: x}\nspec: {predictor: {model: {storageUri: "s3://a/b/"}}}\nx: ${'['.repeat(100)}${']'.repeat(100)}\n` },
    args: ['--storage-uri', URI],
    says: ['inference.yaml', 'deeper than 64'],
  },
  {
    name: 'nesting deep enough to exhaust the parser\'s stack',
    source: { text: `kind: InferenceService\nmetadata: {name: x}\nx: ${'['.repeat(5000)}${']'.repeat(5000)}\n` },
    args: ['--storage-uri', URI],
    says: ['inference.yaml', 'deeper than 64'],
  },
  {
    name: 'duplicate keys',
    source: { text: 'kind: InferenceService\nmetadata:\n  name: x\nspec:\n  predictor:\n    model:\n      storageUri: s3://a/b/\n      storageUri: s3://c/d/\n' },
    args: ['--storage-uri', URI],
    says: ['inference.yaml', 'duplicate key'],
  },
  {
    name: 'broken YAML',
    source: { text: 'kind: InferenceService\nmetadata: {name: x\nspec: [\n' },
    args: ['--storage-uri', URI],
    says: ['inference.yaml', 'not valid YAML'],
  },
  {
    name: 'several InferenceServices and no selector',
    source: { fixture: 'multi-doc.yaml' },
    args: ['--storage-uri', URI],
    says: ['inference.yaml', '2 InferenceServices', 'InferenceService/churn-a', 'select'],
  },
  {
    name: 'a selector that matches nothing',
    source: { fixture: 'multi-doc.yaml' },
    args: ['--storage-uri', URI, '--select', 'InferenceService/churn-c'],
    says: ['inference.yaml', '"InferenceService/churn-c"', 'InferenceService/churn-b'],
  },
  {
    name: 'a missing storageUri without create-missing',
    source: { fixture: 'isvc-bare.yaml' },
    args: ['--storage-uri', URI],
    says: ['inference.yaml', 'spec.predictor.model.storageUri', 'is absent', 'create-missing', URI],
  },
  {
    name: 'a missing canaryTrafficPercent without create-missing',
    source: { fixture: 'isvc-framework.yaml' },
    args: ['--canary-traffic-percent', '10'],
    says: ['inference.yaml', 'spec.predictor.canaryTrafficPercent', 'is absent', '10'],
  },
  {
    name: 'an image for a container that does not exist',
    source: { fixture: 'isvc-containers.yaml' },
    args: ['--image', 'sidecar=ghcr.io/org/sidecar:1.0'],
    says: ['inference.yaml', 'containers[name=sidecar]', 'ghcr.io/org/sidecar:1.0'],
  },
  {
    name: 'an InferenceService with no model to put a storageUri in',
    source: { fixture: 'isvc-containers.yaml' },
    args: ['--storage-uri', URI, '--create-missing'],
    says: ['inference.yaml', 'spec.predictor.model', 'modelFormat'],
  },
  ...[
    ['a space', 'ghcr.io/org/app :1.0', 'whitespace'],
    ['a newline', 'ghcr.io/org/app:1.0\nx', 'whitespace'],
    ['an upper-case repository', 'ghcr.io/Org/App:1.0', 'not an OCI image reference'],
    ['a bad tag', 'ghcr.io/org/app:-bad', 'not an OCI image reference'],
    ['a too-long tag', `ghcr.io/org/app:${'a'.repeat(129)}`, 'not an OCI image reference'],
    ['a short digest', 'ghcr.io/org/app@sha256:abc', 'sha256: followed by 64'],
    ['a non-sha256 digest', `ghcr.io/org/app@md5:${'a'.repeat(32)}`, 'sha256: followed by 64'],
  ].map(([what, ref, reason]) => ({
    name: `an image reference with ${what}`,
    source: { fixture: 'isvc-containers.yaml' },
    args: ['--image', `kserve-container=${ref}`],
    says: ['image', JSON.stringify(ref), reason as string],
  })),
  ...[
    ['an unsupported scheme', 'ftp://host/models/x/', 'ftp://'],
    ['no scheme', '/models/x/', 'no scheme'],
    ['a .. segment', 's3://bucket/models/../secrets/', '".."'],
    ['an encoded .. segment', 's3://bucket/models/%2e%2e/secrets/', '".."'],
    ['a space', 's3://bucket/my models/', 'whitespace'],
    ['no bucket', 's3:///models/', 'no bucket'],
  ].map(([what, uri, reason]) => ({
    name: `a storageUri with ${what}`,
    source: { fixture: 'isvc-comments.yaml' },
    args: ['--storage-uri', uri as string],
    says: ['inference.yaml', 'spec.predictor.model.storageUri', JSON.stringify(uri), reason as string],
  })),
  ...['101', '-1', '12.5', 'ten'].map((n) => ({
    name: `canary-traffic-percent ${n}`,
    source: { fixture: 'isvc-comments.yaml' },
    args: [`--canary-traffic-percent=${n}`],
    says: ['canary-traffic-percent', JSON.stringify(n), '0 to 100'],
  })),
  {
    name: 'an invalid annotation key',
    source: { fixture: 'isvc-comments.yaml' },
    args: ['--annotation', 'Bad_Prefix/x=1'],
    says: ['inference.yaml', 'metadata.annotations["Bad_Prefix/x"]', 'DNS subdomain'],
  },
  {
    name: 'an annotation value with a newline',
    source: { fixture: 'isvc-comments.yaml' },
    args: ['--annotation', 'team=a\nb'],
    says: ['inference.yaml', 'metadata.annotations["team"]', '"a\\nb"', 'newline'],
  },
  {
    name: 'a target that is an alias',
    source: { text: 'kind: InferenceService\nmetadata: {name: x, labels: {uri: &u "s3://a/b/"}}\nspec:\n  predictor:\n    model:\n      storageUri: *u\n' },
    args: ['--storage-uri', URI],
    says: ['inference.yaml', 'spec.predictor.model.storageUri', 'alias', URI],
  },
  {
    name: 'a target that carries an anchor used elsewhere',
    source: { text: 'kind: InferenceService\nmetadata: {name: x, labels: {uri: *u}}\nspec:\n  predictor:\n    model:\n      storageUri: &u s3://a/b/\n'.replace('labels: {uri: *u}', 'labels: {}') + 'x: *u\n' },
    args: ['--storage-uri', URI],
    says: ['inference.yaml', 'spec.predictor.model.storageUri', 'anchor &u'],
  },
  {
    name: 'a block scalar target',
    source: { text: 'kind: InferenceService\nmetadata: {name: x}\nspec:\n  predictor:\n    model:\n      storageUri: |\n        s3://a/b/\n' },
    args: ['--storage-uri', URI],
    says: ['inference.yaml', 'spec.predictor.model.storageUri', 'block scalar'],
  },
  {
    name: 'a storageUri for a kustomization',
    source: { fixture: 'kustomization.yaml' },
    args: ['--storage-uri', URI],
    says: ['inference.yaml', 'kustomization', 'storage-uri'],
  },
  {
    name: 'a kustomization image with no images: entry',
    source: { fixture: 'kustomization.yaml' },
    args: ['--image', 'sidecar=ghcr.io/org/sidecar:1.0'],
    says: ['inference.yaml', 'images[name=sidecar]', 'ghcr.io/org/sidecar:1.0'],
  },
  {
    name: 'a tag-only reference where the kustomization pins a digest',
    source: { fixture: 'kustomization.yaml' },
    args: ['--image', 'transformer=ghcr.io/org/transformer:3.0.0'],
    says: ['inference.yaml', 'images[name=transformer].digest', 'ghcr.io/org/transformer:3.0.0'],
  },
  {
    name: 'a document that is no InferenceService or kustomization',
    source: { text: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' },
    args: ['--storage-uri', URI],
    says: ['inference.yaml', 'no InferenceService'],
  },
];

describe('mlops bump refuses with exit 2, a message naming file, path and value, and the file unchanged', () => {
  for (const r of REFUSALS) {
    it(r.name, async () => {
      const result = await bump(r.source, r.args);
      expect(result.error.split('\n')).toHaveLength(1);
      for (const fragment of r.says) expect(result.error).toContain(fragment);
      expect(result.code).toBe(2);
      expect(result.unchanged).toBe(true);
    });
  }

  it('a file that does not exist', async () => {
    const err: string[] = [];
    const code = await main(['bump', 'nope.yaml', '--storage-uri', URI], { out: () => {}, logger: { ...silentLogger, error: (m) => err.push(m) }, cwd: tmpdir() });
    expect(code).toBe(2);
    expect(err.join('')).toContain('"nope.yaml" does not exist');
  });
});

describe('mlops bump success', () => {
  it('exits 0 with changed=false when already up to date, leaving the file untouched', async () => {
    const result = await bump({ fixture: 'isvc-comments.yaml' }, ['--storage-uri', 's3://models/models/churn/sha256-0000000000000000/', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({ changed: false, diff: '', changes: [] });
    expect(result.unchanged).toBe(true);
  });

  it('writes the change atomically, keeping the file mode, and prints the diff', async () => {
    const dir = tempDir('bump-write');
    const file = join(dir, 'inference.yaml');
    copyFileSync(join(FIXTURES, 'isvc-comments.yaml'), file);
    const { chmodSync } = await import('node:fs');
    chmodSync(file, 0o640);
    const out: string[] = [];
    const code = await main(['bump', 'inference.yaml', '--storage-uri', URI, '--commit', 'abc123', '--json'], { out: (t) => out.push(t), logger: silentLogger, cwd: dir });
    expect(code).toBe(0);
    const json = JSON.parse(out.join(''));
    expect(json.changed).toBe(true);
    expect(json.changes.map((c: { path: string }) => c.path)).toEqual([
      'spec.predictor.model.storageUri',
      'metadata.annotations["mlops-actions.io/model-version"]',
      'metadata.annotations["mlops-actions.io/commit"]',
    ]);
    expect(json.diff.split('\n').filter((l: string) => /^[-+][^-+]/.test(l))).toHaveLength(6);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['inference.yaml']);
    expect(readFileSync(file, 'utf8')).toContain(`storageUri: ${URI} # bumped by CI`);
  });

  it('--dry-run prints the diff and writes nothing', async () => {
    const result = await bump({ fixture: 'isvc-comments.yaml' }, ['--storage-uri', URI, '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.out).toContain(`+      storageUri: ${URI} # bumped by CI`);
    expect(result.unchanged).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { annotationKeyProblem, parseImageReference, storageUriProblem } from '../../../src/manifests/references.ts';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('image references (OCI grammar)', () => {
  it.each([
    ['nginx', { name: 'nginx' }],
    ['nginx:1.27', { name: 'nginx', tag: '1.27' }],
    ['docker.io/library/nginx:latest', { name: 'docker.io/library/nginx', tag: 'latest' }],
    ['localhost:5000/team/model-server:v1_2.3-rc', { name: 'localhost:5000/team/model-server', tag: 'v1_2.3-rc' }],
    ['Registry.Example.com/a__b/c-d/e.f', { name: 'Registry.Example.com/a__b/c-d/e.f' }],
    ['[::1]:5000/model', { name: '[::1]:5000/model' }],
    [`ghcr.io/org/app@${DIGEST}`, { name: 'ghcr.io/org/app', digest: DIGEST }],
    [`ghcr.io/org/app:1.0@${DIGEST}`, { name: 'ghcr.io/org/app', tag: '1.0', digest: DIGEST }],
  ])('accepts %s', (text, expected) => {
    expect(parseImageReference(text)).toEqual(expected);
  });

  it.each(['', 'org/App', 'app:', 'app:.tag', 'app::1', 'a//b', '-app', 'app/', `app@sha256:${'A'.repeat(64)}`, `app@sha512:${'a'.repeat(128)}`, 'app:1 0', `a/${'b'.repeat(300)}`])(
    'refuses %j',
    (text) => {
      expect(typeof parseImageReference(text)).toBe('string');
    },
  );
});

describe('storage URIs', () => {
  it.each(['s3://bucket/models/churn/sha256-0123456789abcdef/', 'gs://b/m', 'pvc://claim/models/x', 'https://host/path/model.onnx', 'oci://ghcr.io/org/model:1', 'hdfs://nn/models', 'hf://org/model', 'webhdfs://h/p'])(
    'accepts %s',
    (uri) => expect(storageUriProblem(uri)).toBeUndefined(),
  );
  it.each(['file:///etc/passwd', 'ftp://h/m', 's3://b/a/../c', 's3://b/./c', 's3://b/%2E%2E/c', 's3://', 'bucket/models', 's3://b/x y', 's3://b/%zz'])('refuses %s', (uri) =>
    expect(storageUriProblem(uri)).toBeTypeOf('string'),
  );
});

describe('annotation keys', () => {
  it.each(['mlops-actions.io/model-version', 'team', 'serving.kserve.io/deploymentMode', 'a.b/c_d.e-f'])('accepts %s', (key) => expect(annotationKeyProblem(key)).toBeUndefined());
  it.each(['', '/x', 'UPPER.io/x', 'a/-x', `a/${'x'.repeat(64)}`, 'a b'])('refuses %j', (key) => expect(annotationKeyProblem(key)).toBeTypeOf('string'));
});

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bumpText } from '../../../src/manifests/bump.ts';

const URI = 's3://models/models/churn/sha256-0123456789abcdef/';
const head = 'apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\n';

function bump(text: string, request: Parameters<typeof bumpText>[2]) {
  const result = bumpText(text, 'inference.yaml', request);
  return { ...result, value: parse(result.text) };
}

describe('bump edge cases', () => {
  it('fills an empty storageUri value', () => {
    const r = bump(`${head}metadata: {name: x}\nspec:\n  predictor:\n    model:\n      storageUri:\n      modelFormat: {name: onnx}\n`, { storageUri: URI });
    expect(r.text).toContain(`      storageUri: "${URI}"\n      modelFormat`);
    expect(r.value.spec.predictor.model.storageUri).toBe(URI);
  });

  it('fills empty, null and {} annotations', () => {
    const annotations: [string, string][] = [['mlops-actions.io/commit', 'abc']];
    const empty = bump(`${head}metadata:\n  name: x\n  annotations: # none yet\nspec: {predictor: {model: {storageUri: a}}}\n`, { annotations });
    expect(empty.text).toContain('  annotations: # none yet\n    mlops-actions.io/commit: abc\nspec:');
    const tilde = bump(`${head}metadata:\n  name: x\n  annotations: ~\nspec: {predictor: {model: {storageUri: a}}}\n`, { annotations });
    expect(tilde.text).toContain('  annotations: {mlops-actions.io/commit: abc}\n');
    const braces = bump(`${head}metadata:\n  name: x\n  annotations: {}\nspec: {predictor: {model: {storageUri: a}}}\n`, { annotations });
    expect(braces.text).toContain('  annotations: {mlops-actions.io/commit: abc}\n');
    for (const r of [empty, tilde, braces]) expect(r.value.metadata.annotations).toEqual({ 'mlops-actions.io/commit': 'abc' });
  });

  it('adds a line at the end of a file without a final newline', () => {
    const r = bump(`${head}metadata: {name: x}\nspec:\n  predictor:\n    model:\n      modelFormat: {name: onnx}`, { storageUri: URI, createMissing: true });
    expect(r.text.endsWith(`      modelFormat: {name: onnx}\n      storageUri: ${URI}`)).toBe(true);
    expect(r.diff).toContain('\\ No newline at end of file');
  });

  it('quotes values that would not read back as the same string', () => {
    const r = bump(`${head}metadata:\n  name: x\n  annotations:\n    a: plain\nspec: {predictor: {model: {storageUri: a}}}\n`, {
      annotations: [['a', 'true'], ['b', '1.10'], ['c', 'x: y'], ['d', '# not a comment'], ['e', 'null'], ['f', 'ünïcode ok']],
    });
    expect(r.text).toContain('    a: "true"\n    b: "1.10"\n    c: "x: y"\n    d: "# not a comment"\n    e: "null"\n    f: ünïcode ok\n');
    expect(r.value.metadata.annotations).toEqual({ a: 'true', b: '1.10', c: 'x: y', d: '# not a comment', e: 'null', f: 'ünïcode ok' });
  });

  it('writes canaryTrafficPercent 0 and 100 as numbers', () => {
    const text = `${head}metadata: {name: x}\nspec:\n  predictor:\n    canaryTrafficPercent: 10\n    model: {storageUri: a}\n`;
    expect(bump(text, { canaryTrafficPercent: 0 }).value.spec.predictor.canaryTrafficPercent).toBe(0);
    expect(bump(text, { canaryTrafficPercent: 100 }).text).toContain('canaryTrafficPercent: 100\n');
  });

  it('selects a kustomization in a multi-document file by kind', () => {
    const text = `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n- name: app\n  newTag: "1"\n---\n${head}metadata: {name: a}\nspec: {predictor: {model: {storageUri: a}}}\n`;
    const r = bumpText(text, 'k.yaml', { select: 'Kustomization/', images: [{ name: 'app', reference: { name: 'app', tag: '2' } }] });
    expect(r.target).toBe('Kustomization');
    expect(r.diff).toContain('-  newTag: "1"\n+  newTag: "2"');
  });
});

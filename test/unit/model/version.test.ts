import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileManifest, listModelFiles, versionOf } from '../../../src/model/files.ts';
import { onnxSignature } from '../../../src/model/signature.ts';
import { readFileSync } from 'node:fs';
import { tempDir } from '../../helpers/tmp.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/model');

function modelDir(files: Record<string, string>): string {
  const dir = tempDir('model');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe('model version', () => {
  it('is sha256- + 16 hex of the canonical manifest (checked against sha256sum)', async () => {
    const dir = modelDir({ 'b.bin': 'bbb', 'a/x.onnx': 'onnx', 'A.txt': 'upper' });
    const files = await listModelFiles(dir);
    // Code-point order: upper case before lower case, and "a/x.onnx" before "b.bin".
    expect(files.map((f) => f.path)).toEqual(['A.txt', 'a/x.onnx', 'b.bin']);
    const manifest = fileManifest(files);
    const sha = (s: string) => execFileSync('sha256sum', { input: s }).toString().slice(0, 64);
    expect(manifest).toBe(`A.txt\t${sha('upper')}\t5\na/x.onnx\t${sha('onnx')}\t4\nb.bin\t${sha('bbb')}\t3\n`);
    expect(versionOf(files)).toBe(`sha256-${sha(manifest).slice(0, 16)}`);
  });

  it('depends only on paths and bytes: not on file order, location or timestamps', async () => {
    const a = modelDir({ 'model.onnx': 'm', 'z/vocab.json': '{}' });
    const b = tempDir('model-copy');
    cpSync(a, b, { recursive: true, preserveTimestamps: false });
    expect(versionOf(await listModelFiles(a))).toBe(versionOf(await listModelFiles(b)));
    writeFileSync(join(b, 'model.onnx'), 'M');
    expect(versionOf(await listModelFiles(a))).not.toBe(versionOf(await listModelFiles(b)));
  });

  it('refuses symlinks, reserved names, empty and missing directories', async () => {
    const dir = modelDir({ 'model.onnx': 'm' });
    symlinkSync('/etc/passwd', join(dir, 'leak'));
    await expect(listModelFiles(dir)).rejects.toThrow(/"leak" is a symlink/);
    await expect(listModelFiles(modelDir({ 'model.json': '{}' }))).rejects.toThrow(/model.json, a name publish writes itself/);
    await expect(listModelFiles(tempDir('empty'))).rejects.toThrow(/holds no files/);
    await expect(listModelFiles('/nonexistent/model')).rejects.toThrow(/does not exist/);
  });
});

describe('ONNX signature', () => {
  it('reads inputs and outputs with dtype and shape (-1 for the batch), like onnxruntime sees them', async () => {
    const bytes = readFileSync(join(FIXTURES, 'churn/model.onnx'));
    const signature = onnxSignature(bytes);
    expect(signature).toEqual({
      inputs: [{ name: 'input', dtype: 'float32', shape: [-1, 3] }],
      outputs: [{ name: 'probability', dtype: 'float32', shape: [-1, 1] }],
    });
    const ort = (await import('onnxruntime-node')).default;
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(signature.inputs.map((i) => i.name));
    expect(session.outputNames).toEqual(signature.outputs.map((o) => o.name));
    await session.release();
  });

  it('fails on bytes that are not an ONNX model', () => {
    expect(() => onnxSignature(Buffer.from('not onnx at all'))).toThrow();
  });
});

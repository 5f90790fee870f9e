// src/model/download.ts: a published version brought to a local folder with every byte checked, and model.json
// treated as hostile (unsafe paths, collisions, a file list that does not make the version, a version in the
// wrong folder). Every refusal names the file and leaves nothing behind.
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { isUsageError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/log.ts';
import { parseModelCard, serializeCard, type CardFile } from '../../../src/model/card.ts';
import { downloadModelVersion, IntegrityError, locateVersion, onnxFile } from '../../../src/model/download.ts';
import { versionOf } from '../../../src/model/files.ts';
import { openRemote } from '../../../src/storage/open-remote.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { churnModel, type Churn } from './fixtures.ts';

let churn: Churn;
beforeAll(async () => {
  churn = await churnModel({ rows: 200 });
});

const deps = { openRemote: (url: string) => openRemote(url), logger: silentLogger };

/** A copy of the published version in a folder of its own (named like a version unless `folder` says). */
function copyVersion(folder = churn.version): string {
  const dir = join(tempDir('version'), folder);
  cpSync(churn.versionDir, dir, { recursive: true });
  return dir;
}

/** Rewrites the copy's model.json with other files (and the version they make, so only the check under test fails). */
function withFiles(dir: string, files: CardFile[], version = versionOf(files)): void {
  const card = parseModelCard(readFileSync(join(dir, 'model.json')), 'model.json');
  writeFileSync(join(dir, 'model.json'), serializeCard({ ...card, files, version }));
}

async function refusal(uri: string): Promise<{ error: Error; leftovers: string[] }> {
  const parent = tempDir('download-parent');
  const error = await downloadModelVersion(uri, deps, { parent }).then(
    () => new Error('expected a refusal'),
    (e: Error) => e,
  );
  return { error, leftovers: readdirSync(parent) };
}

describe('downloadModelVersion', () => {
  it('copies model.json and every file, each checked, and removes the copy on request', async () => {
    const parent = tempDir('download-parent');
    const got = await downloadModelVersion(churn.storageUri, deps, { parent });
    expect(got.storageUri).toBe(churn.storageUri);
    expect(got.card.version).toBe(churn.version);
    expect(readdirSync(got.dir).sort()).toEqual(['model.json', 'model.onnx']);
    expect(readFileSync(join(got.dir, 'model.onnx'))).toEqual(readFileSync(churn.modelPath));
    expect(onnxFile(got)).toBe(join(got.dir, 'model.onnx'));
    expect(got.files).toEqual({ 'model.onnx': join(got.dir, 'model.onnx') });
    await got.remove();
    expect(existsSync(got.dir)).toBe(false);
  });

  it('takes file:// URLs, directory paths with or without a trailing slash, relative to cwd', async () => {
    const plain = churn.versionDir;
    for (const uri of [plain, `${plain}/`, pathToFileURL(plain).href, `store/models/churn/${churn.version}`]) {
      const got = await downloadModelVersion(uri, { ...deps, cwd: churn.work });
      expect(got.storageUri).toBe(churn.storageUri);
      await got.remove();
    }
    expect(locateVersion('s3://bucket/models/churn/sha256-0123456789abcdef')).toEqual({ remoteUrl: 's3://bucket/models/churn/sha256-0123456789abcdef', storageUri: 's3://bucket/models/churn/sha256-0123456789abcdef/' });
  });

  it('refuses a file whose size differs from model.json, naming it', async () => {
    const dir = copyVersion();
    writeFileSync(join(dir, 'model.onnx'), Buffer.concat([readFileSync(join(dir, 'model.onnx')), Buffer.from([0])]));
    const { error, leftovers } = await refusal(dir);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).file).toBe(`${pathToFileURL(dir).href}/model.onnx`);
    expect(error.message).toMatch(/model\.onnx: has \d+ bytes, model\.json says \d+: the stored file is corrupt/);
    expect(leftovers).toEqual([]);
  });

  it('refuses a version without model.json (incomplete or not a version)', async () => {
    const dir = copyVersion();
    writeFileSync(join(dir, 'model.json'), '');
    const { error } = await refusal(dir);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error.message).toMatch(/model\.json: is not valid JSON/);
    const empty = tempDir('empty-version');
    expect((await refusal(empty)).error.message).toMatch(/model\.json: does not exist: this is not a published model version/);
  });

  it('refuses a model.json in the folder of another version', async () => {
    const { error } = await refusal(copyVersion('sha256-0000000000000000'));
    expect(error.message).toMatch(new RegExp(`model\\.json: says version ${churn.version}, but it sits under sha256-0000000000000000: the remote was tampered with`));
  });

  it('refuses a file list that does not make the version model.json claims', async () => {
    const dir = copyVersion('any-folder');
    const card = parseModelCard(readFileSync(join(dir, 'model.json')), 'model.json');
    withFiles(dir, card.files.map((f) => ({ ...f, size: f.size + 1 })), card.version);
    expect((await refusal(dir)).error.message).toMatch(new RegExp(`model\\.json: lists files that make version sha256-[0-9a-f]{16}, not the ${card.version} it claims`));
  });

  it.each([
    // The model card's schema refuses these paths already (files.N.path), before the download checks them again.
    ['a path that climbs out', '../escape.bin', /model card \(files\.\d+\.path: must be a relative path inside the version\)/],
    ['an absolute path', '/etc/passwd', /model card \(files\.\d+\.path: must be a relative path inside the version\)/],
    ['a backslash path', 'a\\..\\b', /model card \(files\.\d+\.path: must be a relative path inside the version\)/],
    ['an empty segment', 'a//b', /model card \(files\.\d+\.path: must be a relative path inside the version\)/],
    ['model.json itself', 'model.json', /lists model\.json among its own files/],
  ])('refuses %s in model.json, writing nothing', async (_, path, message) => {
    const dir = copyVersion('hostile');
    const card = parseModelCard(readFileSync(join(dir, 'model.json')), 'model.json');
    withFiles(dir, [...card.files, { path, sha256: '0'.repeat(64), size: 1 }]);
    const { error, leftovers } = await refusal(dir);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error.message).toMatch(message);
    expect(leftovers).toEqual([]);
    expect(existsSync(join(dir, '..', 'escape.bin'))).toBe(false);
  });

  it('refuses names that collide on case-insensitive file systems, and a path both file and folder', async () => {
    const dir = copyVersion('collide');
    const card = parseModelCard(readFileSync(join(dir, 'model.json')), 'model.json');
    withFiles(dir, [...card.files, { path: 'Model.onnx', sha256: '0'.repeat(64), size: 1 }]);
    expect((await refusal(dir)).error.message).toMatch(/lists files whose names collide \(model\.onnx, Model\.onnx\)/);
    withFiles(dir, [...card.files, { path: 'model.onnx/weights', sha256: '0'.repeat(64), size: 1 }]);
    expect((await refusal(dir)).error.message).toMatch(/lists model\.onnx both as a file and as a folder/);
  });

  it.each([
    ['a directory that does not exist', () => join(churn.work, 'nope'), /storage-uri: ".*nope" does not exist/],
    ['a file', () => churn.modelPath, /storage-uri: ".*model\.onnx" is not a directory/],
    ['a whole bucket', () => 's3://bucket/', /storage-uri: "s3:\/\/bucket\/" names a whole bucket/],
    ['another scheme', () => 'gs://bucket/models/churn/', /storage-uri: "gs:\/\/bucket\/models\/churn\/" uses a scheme this tool cannot read/],
    ['nothing', () => ' ', /storage-uri: " " is empty/],
  ])('treats %s as bad input (exit 2)', async (_, uri, message) => {
    const { error } = await refusal(uri());
    expect(isUsageError(error)).toBe(true);
    expect(error.message).toMatch(message);
  });
});

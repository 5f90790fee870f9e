// The publish behaviour every remote must show; run on the local-directory remote here and on the S3
// servers (s3rver in `npm test`, radosgw in `npm run test:s3-real`) from test/integration/s3/.
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelCard } from '../../../src/model/card.ts';
import { versionOf } from '../../../src/model/files.ts';
import { publishModel, versionFiles, type PublishSettings } from '../../../src/model/publish.ts';
import { silentLogger } from '../../../src/log.ts';
import type { Body, PutOptions, Remote } from '../../../src/storage/remote.ts';
import { tempDir } from '../../helpers/tmp.ts';

export const FIXTURES = join(import.meta.dirname, '../../fixtures/model');

export interface Backend {
  /** Whether two writers racing for one key end with exactly one winner (the store honours If-None-Match or is a local link()). */
  exclusiveCreate: boolean;
  /** A fresh, empty remote; `puts()` counts PUT requests that reached the store. */
  open(): Promise<{ remote: Remote; puts(): number; failOn?(match: string): void }>;
}

/** Records the order of writes and can fail one, like a run killed at that point. */
export class RecordingRemote implements Remote {
  readonly writes: string[] = [];
  failOn: string | undefined;
  readonly inner: Remote;
  constructor(inner: Remote) {
    this.inner = inner;
  }
  get url() {
    return this.inner.url;
  }
  head(key: string) {
    return this.inner.head(key);
  }
  async putIfAbsent(key: string, body: Body, options?: PutOptions) {
    if (this.failOn && key.endsWith(this.failOn)) throw new Error(`simulated interruption before ${key}`);
    this.writes.push(key);
    return this.inner.putIfAbsent(key, body, options);
  }
  read(key: string) {
    return this.inner.read(key);
  }
  download(key: string, file: string) {
    return this.inner.download(key, file);
  }
  close() {
    return this.inner.close();
  }
}

export function workspace(): string {
  const dir = tempDir('publish-ws');
  cpSync(FIXTURES, dir, { recursive: true });
  return dir;
}

const settings = (extra: Partial<PublishSettings> = {}): PublishSettings => ({
  modelDir: 'churn',
  name: 'churn',
  profile: 'profile.json',
  runJson: 'run.json',
  ...extra,
});

const deps = (remote: Remote, cwd: string, now = '2026-11-22T10:00:00Z') => ({
  remote,
  logger: silentLogger,
  cwd,
  env: {},
  now: () => new Date(now),
});

export function publishSuite(name: string, backend: Backend): void {
  describe(`publish on ${name}`, () => {
    it('writes model files, then profile.json, then model.json last; storage-uri ends with /', async () => {
      const { remote, puts } = await backend.open();
      const recorder = new RecordingRemote(remote);
      const cwd = workspace();
      const result = await publishModel(settings(), deps(recorder, cwd));
      expect(result.status).toBe('published');
      expect(result.version).toMatch(/^sha256-[0-9a-f]{16}$/);
      expect(result.storageUri.endsWith(`/models/churn/${result.version}/`)).toBe(true);
      const prefix = `models/churn/${result.version}`;
      expect(recorder.writes.slice(-2)).toEqual([`${prefix}/profile.json`, `${prefix}/model.json`]);
      expect(new Set(recorder.writes.slice(0, -2))).toEqual(new Set(['extra-weights.bin', 'model.onnx', 'tokenizer/vocab.json'].map((p) => `${prefix}/${p}`)));
      expect(puts()).toBe(5);

      const card = parseModelCard((await remote.read(`${prefix}/model.json`)) as Uint8Array, 'model.json');
      expect(card).toEqual(result.card);
      expect(versionOf(card.files)).toBe(card.version);
      expect(card.files.map((f) => f.path)).toEqual(['extra-weights.bin', 'model.onnx', 'profile.json', 'tokenizer/vocab.json']);
      for (const file of card.files) expect((await remote.head(`${prefix}/${file.path}`))?.size).toBe(file.size);
      expect(Buffer.from((await remote.read(`${prefix}/model.onnx`)) as Uint8Array)).toEqual(readFileSync(join(cwd, 'churn/model.onnx')));
      await remote.close();
    });

    it('publishing the same bytes again is unchanged and sends no PUT, even with a new card', async () => {
      const { remote, puts } = await backend.open();
      const cwd = workspace();
      const first = await publishModel(settings(), deps(remote, cwd));
      const before = puts();
      const again = await publishModel(settings({ leg: 'node-24' }), deps(remote, workspace(), '2026-12-01T00:00:00Z'));
      expect(again).toMatchObject({ status: 'unchanged', version: first.version, storageUri: first.storageUri, created: [] });
      expect(again.card.created).toBe('2026-11-22T10:00:00Z');
      expect(puts()).toBe(before);
      await remote.close();
    });

    it('a concurrent publish of the same version ends with one intact copy', async () => {
      const { remote } = await backend.open();
      const cwd = workspace();
      const results = await Promise.all([
        publishModel(settings(), deps(remote, cwd, '2026-11-22T10:00:00Z')),
        publishModel(settings(), deps(remote, cwd, '2026-11-22T11:00:00Z')),
      ]);
      expect(results[0].version).toBe(results[1].version);
      const stored = parseModelCard((await remote.read(`models/churn/${results[0].version}/model.json`)) as Uint8Array, 'model.json');
      const winners = results.filter((r) => r.status === 'published');
      if (backend.exclusiveCreate) {
        expect(winners).toHaveLength(1);
        expect(results.find((r) => r.status === 'unchanged')?.card).toEqual(stored);
      }
      expect(winners.map((w) => w.card)).toContainEqual(stored);
      for (const file of stored.files) expect((await remote.head(`models/churn/${stored.version}/${file.path}`))?.size).toBe(file.size);
      await remote.close();
    });

    it('an interrupted publish leaves no model.json, and the next run completes it', async () => {
      const { remote, puts } = await backend.open();
      const recorder = new RecordingRemote(remote);
      recorder.failOn = 'model.json';
      const cwd = workspace();
      await expect(publishModel(settings(), deps(recorder, cwd))).rejects.toThrow(/simulated interruption/);
      const { version } = await versionFiles(settings(), cwd);
      expect(await remote.head(`models/churn/${version}/model.json`)).toBeUndefined();
      expect(await remote.head(`models/churn/${version}/model.onnx`)).toBeDefined();
      const putsBefore = puts();
      recorder.failOn = undefined;
      const resumed = await publishModel(settings(), deps(recorder, cwd));
      expect(resumed.status).toBe('published');
      expect(resumed.created).toEqual([`models/churn/${version}/model.json`]);
      // Already-uploaded files are not sent again: only model.json is PUT.
      expect(puts() - putsBefore).toBe(1);
      await remote.close();
    });
  });
}


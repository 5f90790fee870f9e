import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_MANIFEST_BYTES } from '../../src/manifests/bump-file.ts';
import { tempDir } from '../helpers/tmp.ts';
import { mlops } from './mlops-cli.ts';

/** Issue 10 item 7: bump keeps every byte of the file, refuses what it cannot keep, and scales. */

const HEAD = 'apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: churn\n';
const SPEC = 'spec:\n  predictor:\n    model:\n      storageUri: s3://models/models/churn/sha256-1111111111111111/\n';
const URI = 's3://models/models/churn/sha256-2222222222222222/';

function manifest(bytes: Uint8Array | string): { ws: string; file: string } {
  const ws = tempDir('sec-bump');
  writeFileSync(join(ws, 'inference.yaml'), bytes);
  return { ws, file: join(ws, 'inference.yaml') };
}

describe('bump keeps every byte', () => {
  it('refuses a file that is not UTF-8 (exit 2) instead of turning byte 0xFF into U+FFFD', async () => {
    const bytes = Buffer.concat([Buffer.from(`${HEAD}# owner: J`), Buffer.from([0xff]), Buffer.from(`rg (Latin-1)\n${SPEC}`)]);
    const { ws, file } = manifest(bytes);
    const r = await mlops(['bump', 'inference.yaml', '--storage-uri', URI], ws);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/manifest: "inference\.yaml" is not valid UTF-8 \(byte \d+ is 0xff\)/);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it('keeps a byte-order mark and multi-byte characters exactly', async () => {
    const text = `\uFEFF${HEAD}  # équipe: données 模型 🚀\n${SPEC}`;
    const { ws, file } = manifest(text);
    const r = await mlops(['bump', 'inference.yaml', '--storage-uri', URI], ws);
    expect(r.code, r.stderr).toBe(0);
    const after = readFileSync(file);
    expect([...after.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(after.includes(Buffer.from('  # équipe: données 模型 🚀\n'))).toBe(true);
    expect(after.toString('utf8')).toContain(`storageUri: ${URI}`);
  });

  it(`refuses a file over ${MAX_MANIFEST_BYTES} bytes (exit 2) and leaves it alone`, async () => {
    const filler = `# ${'x'.repeat(1022)}\n`;
    const text = `${HEAD}${filler.repeat(Math.ceil(MAX_MANIFEST_BYTES / filler.length))}${SPEC}`;
    const { ws, file } = manifest(text);
    const r = await mlops(['bump', 'inference.yaml', '--storage-uri', URI], ws);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is \d+ bytes, over bump's limit of 8388608 \(8 MiB\)/);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});

describe('bump scales', () => {
  // 80,000 keys in one map: the parser's pairwise duplicate check (both parses of a bump) costs over a minute
  // here; one pass with a Set per map leaves ~10 s of parsing on a loaded machine. The bound is the timeout.
  it('bumps a manifest with 80,000 keys in one map within the timeout', { timeout: 45_000 }, async () => {
    const keys = Array.from({ length: 80_000 }, (_, i) => `    team.example.com/k${i}: "v${i}"\n`).join('');
    const { ws, file } = manifest(`${HEAD}  annotations:\n${keys}${SPEC}`);
    const r = await mlops(['bump', 'inference.yaml', '--storage-uri', URI], ws);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain(URI);
  });

  it('still finds a duplicate key, and names it and its line', async () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `    team.example.com/k${i}: "v${i}"\n`).join('');
    const { ws, file } = manifest(`${HEAD}  annotations:\n${keys}    team.example.com/k17: "again"\n${SPEC}`);
    const before = readFileSync(file);
    const r = await mlops(['bump', 'inference.yaml', '--storage-uri', URI], ws);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/inference\.yaml:1006: has a duplicate key \("team\.example\.com\/k17" appears twice in one mapping\)/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });
});

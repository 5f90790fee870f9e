import { z } from 'zod';
import { badInput } from '../errors.ts';
import type { DirEntry } from './hash.ts';
import { md5Hex } from './hash.ts';
import { checkManifestPath } from './paths.ts';

const ManifestSchema = z.array(z.object({ md5: z.string().regex(/^[0-9a-f]{32}$/), relpath: z.string().min(1) }).loose());

/** Parses and checks a `.dir` object: its bytes must hash to its name and every relpath must be safe. */
export function parseManifest(bytes: Uint8Array, md5: string, object: string): DirEntry[] {
  if (`${md5Hex(bytes)}.dir` !== md5) {
    throw new Error(`${object}: content has MD5 ${md5Hex(bytes)}, expected ${md5.replace(/\.dir$/, '')}: the remote object is corrupt; nothing was written`);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw badInput('manifest', object, 'is not JSON: the object is corrupt');
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) throw badInput('manifest', object, `is not a DVC directory manifest (${parsed.error.issues[0]?.message})`);
  for (const entry of parsed.data) checkManifestPath(entry.relpath, object);
  return parsed.data.map((e) => ({ md5: e.md5, relpath: e.relpath }));
}

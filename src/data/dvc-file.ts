import { readFile, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { Document, isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { z } from 'zod';
import { badInput } from '../errors.ts';

/** The one output a `.dvc` file tracks, as DVC 3 writes it. */
export interface DvcOut {
  md5: string;
  size: number;
  nfiles?: number;
  path: string;
}

const OutSchema = z.object({
  md5: z.string().regex(/^[0-9a-f]{32}(\.dir)?$/, 'md5 must be 32 lowercase hex digits, with .dir for a directory'),
  size: z.coerce.number().int().nonnegative().optional(),
  nfiles: z.coerce.number().int().nonnegative().optional(),
  path: z.string().min(1),
});

export interface DvcFile {
  file: string;
  doc: Document;
  out: DvcOut;
}

/** Reads and validates `<path>.dvc`; errors name the file and the field. */
export async function readDvcFile(file: string): Promise<DvcFile> {
  const text = await readFile(file, 'utf8');
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw badInput('dvc-file', file, `is not valid YAML (${doc.errors[0]?.message.split('\n')[0]}): fix or re-create it with \`mlops data add\``);
  const outs = doc.get('outs');
  if (!isSeq(outs) || outs.items.length !== 1 || !isMap(outs.items[0])) {
    throw badInput('dvc-file', file, 'must have `outs:` with exactly one entry: re-create it with `mlops data add`');
  }
  // Values are validated as plain strings (the failsafe schema): an all-digit md5 must not turn into a number.
  const raw = (parseDocument(text, { schema: 'failsafe' }).toJSON() as { outs: unknown[] }).outs[0];
  const parsed = OutSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badInput('dvc-file', file, `has an invalid outs[0].${issue?.path.join('.')}: ${issue?.message}`);
  }
  return { file, doc, out: { ...parsed.data, size: parsed.data.size ?? 0 } };
}

/**
 * Writes `<path>.dvc`, editing an existing document in place (its comments, extra keys such as `desc`,
 * and key order survive) or creating one with DVC 3's key order: md5, size, nfiles, hash, path.
 */
export async function writeDvcFile(file: string, out: DvcOut, existing?: Document): Promise<void> {
  let doc: Document;
  if (existing) {
    doc = existing;
    const entry = (doc.get('outs') as { items: YAMLMap[] }).items[0] as YAMLMap;
    entry.set('md5', out.md5);
    entry.set('size', out.size);
    if (out.nfiles === undefined) entry.delete('nfiles');
    else if (entry.has('nfiles')) entry.set('nfiles', out.nfiles);
    else insertAfter(entry, 'size', 'nfiles', out.nfiles);
    if (!entry.has('hash')) insertAfter(entry, out.nfiles === undefined ? 'size' : 'nfiles', 'hash', 'md5');
    entry.set('path', out.path);
  } else {
    const entry: Record<string, unknown> = { md5: out.md5, size: out.size };
    if (out.nfiles !== undefined) entry.nfiles = out.nfiles;
    entry.hash = 'md5';
    entry.path = out.path;
    doc = new Document({ outs: [entry] });
  }
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, doc.toString({ indentSeq: false }));
  await rename(temp, file);
}

function insertAfter(map: YAMLMap, after: string, key: string, value: unknown): void {
  const index = map.items.findIndex((pair) => String((pair.key as { value?: unknown })?.value ?? pair.key) === after);
  map.items.splice(index + 1, 0, new Document().createPair(key, value) as (typeof map.items)[number]);
}

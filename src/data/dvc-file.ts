import { readFile, rename, writeFile } from 'node:fs/promises';
import { Document, isMap, isSeq, parseDocument, visit, type YAMLMap } from 'yaml';
import { z } from 'zod';
import { badInput } from '../errors.ts';
import { tempSuffix } from './paths.ts';

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

/** A `.dvc` file is a few hundred bytes; one far larger is not a pointer file (and YAML is costly to parse). */
const MAX_DVC_FILE = 1 << 20;

/**
 * Reads and validates `<path>.dvc` (`shown`: its name in messages); errors name the file and the field.
 * A `.dvc` file arrives with pull requests, so it is parsed as hostile: no aliases (an alias bomb expands
 * to gigabytes), at most 1 MiB.
 */
export async function readDvcFile(file: string, shown = file): Promise<DvcFile> {
  const text = await readFile(file, 'utf8');
  if (text.length > MAX_DVC_FILE) throw badInput('dvc-file', shown, `is ${text.length} bytes, not a .dvc pointer file (at most 1 MiB): re-create it with \`mlops data add\``);
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw badInput('dvc-file', shown, `is not valid YAML (${doc.errors[0]?.message.split('\n')[0]}): fix or re-create it with \`mlops data add\``);
  let aliases = false;
  visit(doc, {
    Alias() {
      aliases = true;
      return visit.BREAK;
    },
  });
  if (aliases) throw badInput('dvc-file', shown, 'uses YAML aliases (*name): a .dvc file has no use for them and they can expand without bound; write plain values');
  const outs = doc.get('outs');
  if (!isSeq(outs) || outs.items.length !== 1 || !isMap(outs.items[0])) {
    throw badInput('dvc-file', shown, 'must have `outs:` with exactly one entry: re-create it with `mlops data add`');
  }
  // Values are validated as plain strings (the failsafe schema): an all-digit md5 must not turn into a number.
  const raw = (parseDocument(text, { schema: 'failsafe' }).toJSON() as { outs: unknown[] }).outs[0];
  const parsed = OutSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badInput('dvc-file', shown, `has an invalid outs[0].${issue?.path.join('.')}: ${issue?.message}`);
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
  const temp = `${file}${tempSuffix()}`;
  await writeFile(temp, doc.toString({ indentSeq: false }));
  await rename(temp, file);
}

function insertAfter(map: YAMLMap, after: string, key: string, value: unknown): void {
  const index = map.items.findIndex((pair) => String((pair.key as { value?: unknown })?.value ?? pair.key) === after);
  map.items.splice(index + 1, 0, new Document().createPair(key, value) as (typeof map.items)[number]);
}

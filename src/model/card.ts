import { z } from 'zod';
import { hasControlCharacters } from '../github/escape.ts';
import { describeJsonError } from '../metrics/yaml-error.ts';
import type { ModelSignature } from './signature.ts';

export const MODEL_CARD_SCHEMA = 'mlops-actions/model/v1';

export interface CardFile {
  path: string;
  sha256: string;
  size: number;
}

export interface ModelSource {
  repository?: string;
  commit?: string;
  ref?: string;
  'run-url'?: string;
  leg?: string;
}

/** `model.json`, DESIGN §4.4: written last into the version directory, never overwritten. */
export interface ModelCard {
  schema: typeof MODEL_CARD_SCHEMA;
  name: string;
  version: string;
  format: string;
  files: CardFile[];
  metrics: Record<string, number>;
  params: Record<string, unknown>;
  data: { path: string; md5: string }[];
  source: ModelSource;
  signature?: ModelSignature;
  created: string;
}

const tensor = z.object({ name: z.string(), dtype: z.string(), shape: z.array(z.number()) });

/** Model names, as publish accepts them: they become object keys, branch names and log text. */
export const MODEL_NAME = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
/** A git commit as GitHub names it. */
export const COMMIT = /^[0-9a-f]{40}$/;
/** `owner/name` on GitHub. */
export const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;

const printable = (what: string) => z.string().max(2048).refine((s) => !hasControlCharacters(s), `${what} must have no control characters`);
/** A file path inside the version directory: relative, POSIX, no `.`/`..`/empty segments, nothing outside it. */
const filePath = z.string().min(1).max(1024).refine((p) => !hasControlCharacters(p) && !p.startsWith('/') && !p.includes('\\') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..'), 'must be a relative path inside the version');

/**
 * The provenance of a version: strings that reach PR bodies, commit trailers and annotations, so each is held
 * to its shape (DESIGN §4.4). publish checks the same schema before it writes a card.
 */
export const ModelSourceSchema = z.object({
  repository: z.string().regex(REPOSITORY, 'must be owner/name'),
  commit: z.string().regex(COMMIT, 'must be a 40-hex commit'),
  ref: printable('ref'),
  'run-url': printable('run-url').refine((u) => /^https?:\/\/[^\s]+$/.test(u), 'must be an http(s) URL'),
  leg: printable('leg').min(1),
}).partial();

/** What a reader (the gate's production baseline, drift) can rely on in a model.json. */
export const ModelCardSchema = z.object({
  schema: z.literal(MODEL_CARD_SCHEMA),
  name: z.string().regex(MODEL_NAME, 'must be a model name (lowercase letters, digits, . _ -)'),
  version: z.string().regex(/^sha256-[0-9a-f]{16}$/),
  format: printable('format'),
  files: z.array(z.object({ path: filePath, sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() })).min(1),
  metrics: z.record(z.string(), z.number().refine(Number.isFinite, 'must be a finite number')),
  params: z.record(z.string(), z.unknown()),
  data: z.array(z.object({ path: printable('data path'), md5: printable('data md5') })),
  source: ModelSourceSchema,
  signature: z.object({ inputs: z.array(tensor), outputs: z.array(tensor) }).optional(),
  created: z.string(),
});

/** Parses model.json bytes; the error names where it came from and the first bad field. */
export function parseModelCard(bytes: Uint8Array | string, where: string): ModelCard {
  let raw: unknown;
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: is ${describeJsonError(error, text)}`);
  }
  const parsed = ModelCardSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${where}: is not a ${MODEL_CARD_SCHEMA} model card (${issue?.path.join('.') || 'root'}: ${issue?.message})`);
  }
  return parsed.data as ModelCard;
}

export function serializeCard(card: ModelCard): string {
  return `${JSON.stringify(card, null, 2)}\n`;
}

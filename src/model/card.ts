import { z } from 'zod';
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

/** What a reader (the gate's production baseline, drift) can rely on in a model.json. */
export const ModelCardSchema = z.object({
  schema: z.literal(MODEL_CARD_SCHEMA),
  name: z.string().min(1),
  version: z.string().regex(/^sha256-[0-9a-f]{16}$/),
  format: z.string(),
  files: z.array(z.object({ path: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() })).min(1),
  metrics: z.record(z.string(), z.number().refine(Number.isFinite, 'must be a finite number')),
  params: z.record(z.string(), z.unknown()),
  data: z.array(z.object({ path: z.string(), md5: z.string() })),
  source: z.object({ repository: z.string(), commit: z.string(), ref: z.string(), 'run-url': z.string(), leg: z.string() }).partial(),
  signature: z.object({ inputs: z.array(tensor), outputs: z.array(tensor) }).optional(),
  created: z.string(),
});

/** Parses model.json bytes; the error names where it came from and the first bad field. */
export function parseModelCard(bytes: Uint8Array | string, where: string): ModelCard {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new Error(`${where}: is not JSON (${(error as Error).message})`);
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

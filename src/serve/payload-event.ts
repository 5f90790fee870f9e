import { z } from 'zod';
import { REQUEST_EVENT, RESPONSE_EVENT } from './payload-log.ts';

/**
 * One payload-log record as `mlops serve` writes it (see payload-log.ts): a CloudEvent 1.0 in the JSON event
 * format with KServe's logger attributes. Readers (drift) validate lines with this; extra attributes are kept.
 */
export const PayloadEventSchema = z
  .looseObject({
    specversion: z.literal('1.0'),
    id: z.string().min(1),
    source: z.string().min(1),
    type: z.enum([REQUEST_EVENT, RESPONSE_EVENT]),
    datacontenttype: z.string().optional(),
    time: z.iso.datetime({ offset: true }),
    inferenceservicename: z.string(),
    namespace: z.string(),
    component: z.string(),
    endpoint: z.string(),
    data: z.unknown().optional(),
    data_base64: z.string().optional(),
  })
  .refine((e) => (e.data === undefined) !== (e.data_base64 === undefined), 'a record has exactly one of data and data_base64');

export type PayloadEvent = z.infer<typeof PayloadEventSchema>;

/** Parses one line of a payload-log file; the error names `where` (file and line) and the first bad field. */
export function parsePayloadLine(line: string, where: string): PayloadEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (error) {
    throw new Error(`${where}: is not JSON (${(error as Error).message})`);
  }
  const parsed = PayloadEventSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${where}: is not a payload-log CloudEvent (${issue?.path.join('.') || 'record'}: ${issue?.message})`);
  }
  return parsed.data;
}

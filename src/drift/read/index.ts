/**
 * Reads the current window from every `--current` input into the profile's columns, streaming: CSV tables,
 * JSON Lines tables, and KServe payload-logger records (CloudEvents lines, or blob-storage records).
 * With `--format auto` each source is recognised by its name and first bytes.
 */
import { StringDecoder } from 'node:string_decoder';
import { badInput } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { ModelSignature } from '../../model/signature.ts';
import { CurrentData } from '../current.ts';
import type { Profile } from '../profile.ts';
import { CsvStream } from './csv.ts';
import { KserveDecoder, emptyStats, type RecordStats, type Window } from './kserve.ts';
import { lineBatches } from './lines.ts';
import { listSources, readWhole, type Source, type SourceOptions } from './sources.ts';

export const FORMATS = ['auto', 'csv', 'jsonl', 'kserve'] as const;
export type Format = (typeof FORMATS)[number];
export type { RecordStats, Window } from './kserve.ts';

/** Malformed records above this share of all records make the run fail (exit 3): the window cannot be trusted. */
export const MAX_MALFORMED_SHARE = 0.01;
const MAX_LINE = 64 << 20;
const MAX_DOCUMENT = 256 << 20;

export interface ReadSettings {
  current: string[];
  format: Format;
  window: Window;
  cwd: string;
  endpoint?: string;
  credentials?: SourceOptions['credentials'];
}

export interface SourceSummary {
  name: string;
  format: 'csv' | 'jsonl' | 'kserve';
  /** Sources whose modification time is outside the window (tables, blob records) are skipped whole. */
  skipped?: boolean;
}

export interface ReadResult {
  data: CurrentData;
  records: RecordStats;
  sources: SourceSummary[];
}

/** Thrown when too many records are malformed: exit 3, with what was wrong. */
export class UnreadableWindow extends Error {}

function inWindow(window: Window, time: number): boolean {
  return (window.since === undefined || time >= window.since) && (window.until === undefined || time < window.until);
}

/** The first chunk of a stream, and the whole stream again. */
async function peek(source: Source): Promise<{ head: Uint8Array; chunks: AsyncIterable<Uint8Array> } | undefined> {
  const iterator = source.open()[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return undefined;
  const head = first.value;
  return {
    head,
    chunks: {
      async *[Symbol.asyncIterator]() {
        yield head;
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          yield next.value;
        }
      },
    },
  };
}

function sniff(name: string, head: Uint8Array): 'csv' | 'jsonl' | 'kserve' | 'document' {
  if (/\.csv$/i.test(name)) return 'csv';
  let i = 0;
  while (i < head.length && (head[i] === 32 || head[i] === 9 || head[i] === 10 || head[i] === 13 || head[i] === 0xef || head[i] === 0xbb || head[i] === 0xbf)) i++;
  if (head[i] === 91) return 'document';
  if (head[i] !== 123) return 'csv';
  const nl = head.indexOf(10, i);
  const line = Buffer.from(head.buffer, head.byteOffset + i, (nl < 0 ? head.length : nl) - i).toString('utf8');
  try {
    const first = JSON.parse(line) as Record<string, unknown>;
    const type = first.type ?? first.ReqType;
    if ('specversion' in first || 'Bytes' in first || 'bytes' in first || (typeof type === 'string' && type.startsWith('org.kubeflow.serving.inference.'))) return 'kserve';
    return 'jsonl';
  } catch {
    // The first line alone is not JSON (cut by the chunk, or broken): decide by the name.
    return /\.(jsonl|ndjson)$/i.test(name) ? 'jsonl' : 'kserve';
  }
}

export async function readCurrent(settings: ReadSettings, profile: Profile, signature: ModelSignature | undefined, deps: { logger: Logger }): Promise<ReadResult> {
  const data = new CurrentData(profile);
  const decoder = new KserveDecoder(profile, data, settings.window, signature);
  const table = emptyStats();
  const summaries: SourceSummary[] = [];
  if (settings.current.length === 0) throw badInput('current', '', 'is required: a CSV or JSON Lines file, a folder of them, or an s3:// prefix of payload logs');
  for (const input of settings.current) {
    const list = await listSources(input, {
      cwd: settings.cwd,
      logger: deps.logger,
      ...(settings.endpoint && { endpoint: settings.endpoint }),
      ...(settings.window.since !== undefined && { since: settings.window.since }),
      ...(settings.credentials && { credentials: settings.credentials }),
    });
    try {
      if (list.sources.length === 0) deps.logger.warning(`current: ${JSON.stringify(input)} holds no files or objects${settings.window.since !== undefined ? ' written in the window' : ''}`);
      for (const source of list.sources) {
        const peeked = await peek(source);
        if (!peeked) continue;
        const sniffed = sniff(source.name, peeked.head);
        const format = settings.format === 'auto' ? (sniffed === 'document' ? 'kserve' : sniffed) : settings.format;
        const summary: SourceSummary = { name: source.name, format };
        summaries.push(summary);
        const where = (line: number) => () => `${source.name}:${line}`;
        if (format === 'kserve' && sniffed === 'document') {
          const bytes = await readWhole({ ...source, open: () => peeked.chunks }, MAX_DOCUMENT);
          let value: unknown;
          try {
            value = JSON.parse(bytes.toString('utf8'));
          } catch (error) {
            decoder.stats.records++;
            decoder.stats.malformed++;
            decoder.stats.examples.push({ id: null, where: source.name, reason: `not JSON (${(error as Error).message.split('\n')[0]})` });
            continue;
          }
          decoder.document(value, () => source.name, source.modified);
          continue;
        }
        if (format === 'kserve') {
          const oversized = (line: number) => {
            decoder.stats.records++;
            decoder.stats.malformed++;
            if (decoder.stats.examples.length < 10) decoder.stats.examples.push({ id: null, where: `${source.name}:${line}`, reason: `a record longer than ${MAX_LINE >> 20} MB` });
          };
          for await (const batch of lineBatches(peeked.chunks, { maxLine: MAX_LINE, onOversized: oversized })) {
            for (let k = 0; k < batch.starts.length; k++) decoder.line(batch.buffer, batch.starts[k]!, batch.ends[k]!, where(batch.firstLine + k), source.modified);
          }
          continue;
        }
        // Tables carry no time per row: the file's modification time places it in the window or not.
        if (!inWindow(settings.window, source.modified)) {
          summary.skipped = true;
          continue;
        }
        data.time(source.modified);
        if (format === 'csv') await readCsv(peeked.chunks, source.name, data, table);
        else await readJsonl(peeked.chunks, source.name, data, table);
      }
    } finally {
      await list.close();
    }
  }
  decoder.finish();
  const records = mergeStats(decoder.stats, table);
  if (records.records > 0 && records.malformed / records.records > MAX_MALFORMED_SHARE) {
    const first = records.examples[0];
    throw new UnreadableWindow(
      `current: ${records.malformed} of ${records.records} records are malformed (more than ${MAX_MALFORMED_SHARE * 100} %)` +
        (first ? `; the first: ${first.where}${first.id ? ` id ${JSON.stringify(first.id)}` : ''}: ${first.reason}` : ''),
    );
  }
  return { data, records, sources: summaries };
}

function mergeStats(a: RecordStats, b: RecordStats): RecordStats {
  return {
    records: a.records + b.records,
    requests: a.requests,
    responses: a.responses,
    malformed: a.malformed + b.malformed,
    examples: [...a.examples, ...b.examples].slice(0, 10),
    outside: a.outside,
    unpairedRequests: a.unpairedRequests,
    unpairedResponses: a.unpairedResponses,
    duplicates: a.duplicates,
    mismatched: a.mismatched,
    fast: a.fast,
  };
}

async function readCsv(chunks: AsyncIterable<Uint8Array>, name: string, data: CurrentData, stats: RecordStats): Promise<void> {
  let header: string[] | undefined;
  let indexes: { column: string; index: number }[] = [];
  const csv = new CsvStream((fields, line) => {
    if (!header) {
      header = fields.map((f) => f.trim());
      indexes = header.map((column, index) => ({ column, index })).filter(({ column }) => data.columns.has(column));
      for (const { column } of indexes) data.seen.add(column);
      return;
    }
    stats.records++;
    if (fields.length !== header.length) {
      stats.malformed++;
      if (stats.examples.length < 10) stats.examples.push({ id: null, where: `${name}:${line}`, reason: `${fields.length} fields, the header has ${header.length}` });
      return;
    }
    for (const { column, index } of indexes) data.add(column, fields[index]);
    data.rows++;
  });
  const text = new StringDecoder('utf8');
  for await (const chunk of chunks) csv.write(text.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)));
  csv.write(text.end());
  csv.end();
}

async function readJsonl(chunks: AsyncIterable<Uint8Array>, name: string, data: CurrentData, stats: RecordStats): Promise<void> {
  const columns = [...data.columns.keys()];
  const oversized = (line: number) => {
    stats.records++;
    stats.malformed++;
    if (stats.examples.length < 10) stats.examples.push({ id: null, where: `${name}:${line}`, reason: `a row longer than ${MAX_LINE >> 20} MB` });
  };
  for await (const batch of lineBatches(chunks, { maxLine: MAX_LINE, onOversized: oversized })) {
    for (let k = 0; k < batch.starts.length; k++) {
      const text = Buffer.from(batch.buffer.buffer, batch.buffer.byteOffset + batch.starts[k]!, batch.ends[k]! - batch.starts[k]!).toString('utf8');
      if (text.trim() === '') continue;
      stats.records++;
      let row: unknown;
      try {
        row = JSON.parse(text);
      } catch (error) {
        row = error;
      }
      if (typeof row !== 'object' || row === null || Array.isArray(row) || row instanceof Error) {
        stats.malformed++;
        if (stats.examples.length < 10) stats.examples.push({ id: null, where: `${name}:${batch.firstLine + k}`, reason: row instanceof Error ? `not JSON (${row.message.split('\n')[0]})` : 'not a JSON object' });
        continue;
      }
      const object = row as Record<string, unknown>;
      for (const column of columns) {
        if (Object.hasOwn(object, column)) {
          data.seen.add(column);
          data.add(column, object[column]);
        } else data.add(column, null);
      }
      data.rows++;
    }
  }
}

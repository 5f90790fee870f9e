/**
 * KServe payload-logger records → the current window's columns.
 *
 * Two record shapes (DESIGN §4.7): CloudEvents in the JSON format, one per line, as `mlops serve
 * --log-payloads` writes them (`id`, `type` org.kubeflow.serving.inference.request|response, `time`, `data`
 * the body, or `data_base64`); and KServe's blob-storage logger records (Go's LogRequest: `Id`, `ReqType`,
 * `Bytes` the base64 body, no time — the object's modification time stands in), one per line, or a JSON
 * array of them per object. Requests and responses are paired by id; the inputs of a request without
 * response still count (KServe logs responses only on HTTP 200), and so do the outputs of a response
 * without request (a `mode: response` logger); both are counted for the report.
 *
 * Bodies: v1 `instances` (rows as lists in the model's feature order, or objects by feature name) and
 * `predictions` (a scalar, a list or an object per row); Open Inference Protocol v2 `inputs`/`outputs`
 * tensors with `data` flat or nested. Columns are named by the profile: a 2-D input tensor's columns are the
 * features its `inputs` entry lists (or every feature in profile order), a 1-column tensor is the feature of
 * its name; output `name` or `name[k]`; a v1 scalar prediction is the first one-value output, a list of K
 * the first output of width K. With a model card, tensor names and widths are checked against its signature.
 *
 * A record that cannot be decoded is counted as malformed and reported with its id and where it was;
 * it never stops the run (the caller fails it when more than 1 % are malformed).
 */
import type { ModelSignature } from '../../model/signature.ts';
import type { CurrentData } from '../current.ts';
import type { Profile } from '../profile.ts';
import { FastV1Reader, REQUEST, RESPONSE, type FastRecord } from './fast-v1.ts';

export interface Window {
  since?: number;
  until?: number;
}

export interface MalformedRecord {
  id: string | null;
  where: string;
  reason: string;
}

export interface RecordStats {
  records: number;
  requests: number;
  responses: number;
  malformed: number;
  /** The first few malformed records, for the report. */
  examples: MalformedRecord[];
  /** Records outside --since/--until. */
  outside: number;
  unpairedRequests: number;
  unpairedResponses: number;
  /** A second request (or response) with an id already seen. */
  duplicates: number;
  /** Pairs whose request and response have different row counts. */
  mismatched: number;
  /** Records decoded by the byte-level fast path (the rest by JSON.parse). */
  fast: number;
}

export function emptyStats(): RecordStats {
  return { records: 0, requests: 0, responses: 0, malformed: 0, examples: [], outside: 0, unpairedRequests: 0, unpairedResponses: 0, duplicates: 0, mismatched: 0, fast: 0 };
}

const MAX_EXAMPLES = 10;

/** A decoded body: column names and row-major values. */
interface Block {
  names: readonly string[];
  rows: number;
  values: ArrayLike<unknown>;
}

class Malformed extends Error {}

function malformed(reason: string): never {
  throw new Malformed(reason);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function flatten(data: unknown, out: unknown[], depth: number): void {
  if (!Array.isArray(data)) {
    out.push(data);
    return;
  }
  if (depth > 32) malformed('tensor data nests deeper than 32 levels');
  for (const item of data) flatten(item, out, depth + 1);
}

interface Tensor {
  name: string;
  rows: number;
  width: number;
  data: unknown[];
}

function tensor(raw: unknown, what: string): Tensor {
  if (!isObject(raw)) malformed(`${what} is not an object`);
  const name = raw.name;
  if (typeof name !== 'string' || name === '') malformed(`${what} has no name`);
  const shape = raw.shape;
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    malformed(`${what} ${JSON.stringify(name)} has no valid shape`);
  }
  const dims = shape as number[];
  const data: unknown[] = [];
  flatten(raw.data, data, 0);
  const size = dims.reduce((a, b) => a * b, 1);
  if (data.length !== size) malformed(`${what} ${JSON.stringify(name)} has ${data.length} values for shape [${dims.join(', ')}]`);
  const rows = dims[0]!;
  return { name, rows, width: rows === 0 ? 0 : size / rows, data };
}

function base64Json(text: unknown, what: string): unknown {
  if (typeof text !== 'string') malformed(`${what} is not a base64 string`);
  if (!/^[A-Za-z0-9+/\r\n]*={0,2}$/.test(text)) malformed(`${what} is not valid base64`);
  return parseJson(Buffer.from(text, 'base64').toString('utf8'), `the body in ${what}`);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    malformed(`${what} is not JSON (${(error as Error).message.split('\n')[0]})`);
  }
}

export class KserveDecoder {
  readonly stats = emptyStats();
  private readonly pending = new Map<string, { request: number | undefined; response: number | undefined }>();
  private readonly fast = new FastV1Reader();
  private readonly features: string[];
  /** Input tensor → its feature columns. */
  private readonly tensors = new Map<string, string[]>();
  /** The columns of a v1 instance row, in order. */
  private readonly rowColumns: string[] | undefined;
  /** Output tensor → its columns (`name` or `name[0]…`). */
  private readonly outputs = new Map<string, string[]>();
  private readonly signature: ModelSignature | undefined;
  private readonly profile: Profile;
  private readonly data: CurrentData;
  private readonly window: Window;

  constructor(profile: Profile, data: CurrentData, window: Window, signature?: ModelSignature) {
    this.profile = profile;
    this.data = data;
    this.window = window;
    this.signature = signature;
    this.features = profile.features.map((f) => f.name);
    const inputs = profile.inputs;
    for (const m of inputs ?? []) this.tensors.set(m.name, m.features);
    if (!inputs) this.rowColumns = this.features;
    else if (inputs.length === 1) this.rowColumns = inputs[0]!.features;
    else if (inputs.every((m) => m.features.length === 1)) this.rowColumns = inputs.map((m) => m.features[0]!);
    else this.rowColumns = undefined;
    for (const o of profile.outputs) {
      const m = /^(.*)\[(\d+)\]$/.exec(o.name);
      const base = m ? m[1]! : o.name;
      const list = this.outputs.get(base) ?? [];
      list.push(o.name);
      this.outputs.set(base, list);
    }
  }

  // ---------------------------------------------------------------- records

  /** One JSON line: a CloudEvent or a blob-storage LogRequest. */
  line(buffer: Uint8Array, start: number, end: number, where: () => string, fallbackTime: number): void {
    for (let s = start; s < end; s++) {
      const c = buffer[s];
      if (c !== 32 && c !== 9) break;
      if (s === end - 1) return;
    }
    if (start === end) return;
    this.stats.records++;
    const fast = this.fast.read(buffer, start, end);
    if (fast) {
      this.stats.fast++;
      this.guard(fast.id, where, () => this.fastRecord(fast, fallbackTime));
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(buffer.buffer, buffer.byteOffset + start, end - start).toString('utf8'));
    } catch (error) {
      this.reject(null, where(), `not JSON (${(error as Error).message.split('\n')[0]})`);
      return;
    }
    this.record(value, where, fallbackTime, false);
  }

  /** A parsed JSON document holding a record or a list of them (KServe's JSON marshaller batches). */
  document(value: unknown, where: () => string, fallbackTime: number): void {
    if (Array.isArray(value)) {
      value.forEach((item, i) => this.record(item, () => `${where()} [${i}]`, fallbackTime, true));
    } else this.record(value, where, fallbackTime, true);
  }

  private record(value: unknown, where: () => string, fallbackTime: number, count: boolean): void {
    if (count) this.stats.records++;
    const id = isObject(value) ? (value.id ?? value.Id ?? value.ID ?? null) : null;
    const shownId = typeof id === 'string' ? id : null;
    this.guard(shownId, where, () => this.decodeRecord(value, fallbackTime));
  }

  private guard(id: string | null, where: () => string, work: () => void): void {
    try {
      work();
    } catch (error) {
      if (!(error instanceof Malformed)) throw error;
      this.reject(id, where(), error.message);
    }
  }

  private reject(id: string | null, where: string, reason: string): void {
    this.stats.malformed++;
    if (this.stats.examples.length < MAX_EXAMPLES) this.stats.examples.push({ id, where, reason });
  }

  private inWindow(time: number): boolean {
    const { since, until } = this.window;
    return (since === undefined || time >= since) && (until === undefined || time < until);
  }

  private timeOf(raw: unknown, fallbackTime: number): number {
    if (raw === undefined || raw === null) return fallbackTime;
    if (typeof raw !== 'string') malformed('time is not a string');
    const t = Date.parse(raw);
    if (Number.isNaN(t)) malformed(`time ${JSON.stringify(raw.slice(0, 40))} is not an RFC 3339 timestamp`);
    return t;
  }

  private decodeRecord(value: unknown, fallbackTime: number): void {
    if (!isObject(value)) malformed('a record must be a JSON object');
    const id = value.id ?? value.Id ?? value.ID;
    if (typeof id !== 'string' || id === '') malformed('the record has no id');
    const typeText = value.type ?? value.ReqType ?? value.reqType ?? value.reqtype;
    if (typeText !== REQUEST && typeText !== RESPONSE) malformed(`type ${JSON.stringify(typeText)} is neither ${REQUEST} nor ${RESPONSE}`);
    const response = typeText === RESPONSE;
    const time = this.timeOf(value.time, fallbackTime);
    let body: unknown;
    if ('data' in value) body = typeof value.data === 'string' ? parseJson(value.data, 'data') : value.data;
    else if ('data_base64' in value) body = base64Json(value.data_base64, 'data_base64');
    else if ('Bytes' in value || 'bytes' in value) body = base64Json(value.Bytes ?? value.bytes, 'Bytes');
    else malformed('the record has no data, data_base64 or Bytes');
    if (!isObject(body)) malformed('the body is not a JSON object');
    const block = response ? this.responseBlock(body) : this.requestBlock(body);
    this.commit(id, response, time, block);
  }

  private fastRecord(r: FastRecord, fallbackTime: number): void {
    const response = r.type === RESPONSE;
    const time = this.timeOf(r.time, fallbackTime);
    const width = r.scalar ? 1 : r.width;
    const names = response ? this.v1OutputColumns(width, r.scalar, undefined) : this.v1InputColumns(width);
    this.commit(r.id, response, time, { names, rows: r.rows, values: r.values });
  }

  private commit(id: string, response: boolean, time: number, block: Block): void {
    if (!this.inWindow(time)) {
      this.stats.outside++;
      return;
    }
    const data = this.data;
    data.time(time);
    const { names, rows, values } = block;
    const width = names.length;
    if (values instanceof Float64Array) {
      for (let j = 0; j < width; j++) {
        const column = data.columns.get(names[j]!);
        if (!column) continue;
        data.seen.add(names[j]!);
        if (column.kind === 'numeric') column.addStrided(values, j, width, rows);
        else for (let i = 0; i < rows; i++) column.addCategory(String(values[i * width + j]));
      }
    } else {
      for (let j = 0; j < width; j++) {
        if (!data.columns.has(names[j]!)) continue;
        data.seen.add(names[j]!);
        for (let i = 0; i < rows; i++) data.add(names[j]!, values[i * width + j]);
      }
    }
    if (response) {
      this.stats.responses++;
      data.outputRows += rows;
    } else {
      this.stats.requests++;
      data.rows += rows;
    }
    const pair = this.pending.get(id);
    if (!pair) {
      this.pending.set(id, response ? { request: undefined, response: rows } : { request: rows, response: undefined });
      return;
    }
    if ((response ? pair.response : pair.request) !== undefined) {
      this.stats.duplicates++;
      return;
    }
    const other = response ? pair.request : pair.response;
    if (other !== rows) this.stats.mismatched++;
    this.pending.delete(id);
  }

  /** Counts what is left unpaired; call once after the last record. */
  finish(): void {
    for (const pair of this.pending.values()) {
      if (pair.response === undefined) this.stats.unpairedRequests++;
      else if (pair.request === undefined) this.stats.unpairedResponses++;
    }
    this.pending.clear();
  }

  // ---------------------------------------------------------------- bodies

  private v1InputColumns(width: number): readonly string[] {
    const columns = this.rowColumns;
    if (!columns) malformed('v1 instances are rows, but the profile does not say which model input they fill: write the profile with --model');
    if (width !== columns.length) malformed(`an instance has ${width} values, the model takes ${columns.length} (${columns.slice(0, 6).join(', ')}${columns.length > 6 ? ', …' : ''})`);
    const input = this.signature?.inputs.length === 1 ? this.signature.inputs[0] : undefined;
    if (input && input.shape.length === 2 && input.shape[1]! > 0 && input.shape[1] !== width) {
      malformed(`an instance has ${width} values, the model card's input ${JSON.stringify(input.name)} takes ${input.shape[1]}`);
    }
    return columns;
  }

  private requestBlock(body: Record<string, unknown>): Block {
    if (Array.isArray(body.instances)) {
      const instances = body.instances as unknown[];
      if (instances.length === 0) return { names: [], rows: 0, values: [] };
      if (instances.every(Array.isArray)) {
        const width = (instances[0] as unknown[]).length;
        if (!instances.every((r) => (r as unknown[]).length === width)) malformed('v1 instances have rows of different lengths');
        const names = this.v1InputColumns(width);
        const values: unknown[] = [];
        for (const row of instances as unknown[][]) for (const v of row) values.push(Array.isArray(v) || isObject(v) ? malformed('a v1 instance value is not a scalar') : v);
        return { names, rows: instances.length, values };
      }
      if (instances.every(isObject)) {
        const names = this.features;
        const values: unknown[] = [];
        for (const row of instances as Record<string, unknown>[]) for (const n of names) values.push(Object.hasOwn(row, n) ? row[n] : null);
        return { names, rows: instances.length, values };
      }
      if (this.features.length === 1 && instances.every((v) => !Array.isArray(v) && !isObject(v))) return { names: this.features, rows: instances.length, values: instances };
      malformed('v1 instances must all be rows (lists) or all objects');
    }
    if (Array.isArray(body.inputs)) {
      const tensors = (body.inputs as unknown[]).map((t, i) => tensor(t, `inputs[${i}]`));
      return this.tensorBlock(tensors, (t) => this.inputTensorColumns(t, tensors.length));
    }
    malformed('the request body has neither v1 "instances" nor v2 "inputs"');
  }

  private inputTensorColumns(t: Tensor, count: number): readonly string[] {
    if (this.signature && !this.signature.inputs.some((i) => i.name === t.name)) {
      malformed(`input ${JSON.stringify(t.name)} is not an input of the model card's signature (${this.signature.inputs.map((i) => i.name).join(', ')})`);
    }
    const mapped = this.tensors.get(t.name);
    if (mapped) {
      if (t.width !== mapped.length) malformed(`input ${JSON.stringify(t.name)} has ${t.width} values per row, the profile maps ${mapped.length} features to it`);
      return mapped;
    }
    if (this.features.includes(t.name) && t.width === 1) return [t.name];
    if (!this.profile.inputs && count === 1 && t.width === this.features.length) return this.features;
    malformed(`input ${JSON.stringify(t.name)} (${t.width} values per row) is neither a feature nor a model input the profile knows`);
  }

  private tensorBlock(tensors: Tensor[], columnsOf: (t: Tensor) => readonly string[]): Block {
    if (tensors.length === 0) return { names: [], rows: 0, values: [] };
    const rows = tensors[0]!.rows;
    if (!tensors.every((t) => t.rows === rows)) malformed('the tensors have different numbers of rows');
    const parts = tensors.map((t) => ({ t, names: columnsOf(t) }));
    const names = parts.flatMap((p) => p.names);
    const values = new Array<unknown>(rows * names.length);
    let offset = 0;
    for (const { t, names: cols } of parts) {
      for (let i = 0; i < rows; i++) for (let k = 0; k < cols.length; k++) values[i * names.length + offset + k] = t.data[i * t.width + k];
      offset += cols.length;
    }
    return { names, rows, values };
  }

  private v1OutputColumns(width: number, scalar: boolean, sample: unknown): readonly string[] {
    for (const [name, cols] of this.outputs) {
      if (cols.length === width && (scalar ? cols.length === 1 && cols[0] === name : cols[0] !== name || width === 1)) return cols;
    }
    void sample;
    malformed(`a v1 prediction with ${scalar ? 'one value' : `${width} values`} matches no output of the profile (${[...this.outputs.keys()].join(', ') || 'none: write the profile with --model'})`);
  }

  private responseBlock(body: Record<string, unknown>): Block {
    if (Array.isArray(body.predictions)) {
      const predictions = body.predictions as unknown[];
      if (predictions.length === 0) return { names: [], rows: 0, values: [] };
      if (predictions.every((p) => !Array.isArray(p) && !isObject(p))) return { names: this.v1OutputColumns(1, true, predictions[0]), rows: predictions.length, values: predictions };
      if (predictions.every(Array.isArray)) {
        const width = (predictions[0] as unknown[]).length;
        if (!predictions.every((p) => (p as unknown[]).length === width)) malformed('v1 predictions have rows of different lengths');
        const values: unknown[] = [];
        for (const p of predictions as unknown[][]) values.push(...p);
        return { names: this.v1OutputColumns(width, false, predictions[0]), rows: predictions.length, values };
      }
      if (predictions.every(isObject)) {
        const names = [...this.outputs.values()].flat();
        const values: unknown[] = [];
        for (const p of predictions as Record<string, unknown>[]) {
          for (const [base, cols] of this.outputs) {
            const v = Object.hasOwn(p, base) ? p[base] : undefined;
            if (cols.length === 1 && cols[0] === base) values.push(v ?? null);
            else for (let k = 0; k < cols.length; k++) values.push(Array.isArray(v) ? v[k] : null);
          }
        }
        return { names, rows: predictions.length, values };
      }
      malformed('v1 predictions must all be scalars, all lists or all objects');
    }
    if (Array.isArray(body.outputs)) {
      const tensors = (body.outputs as unknown[]).map((t, i) => tensor(t, `outputs[${i}]`));
      const known = tensors.filter((t) => this.outputs.has(t.name));
      return this.tensorBlock(known, (t) => {
        const cols = this.outputs.get(t.name)!;
        if (t.width !== cols.length) malformed(`output ${JSON.stringify(t.name)} has ${t.width} values per row, the profile has ${cols.length}`);
        return cols;
      });
    }
    malformed('the response body has neither v1 "predictions" nor v2 "outputs"');
  }
}

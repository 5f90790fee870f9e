/**
 * A byte-level reader for the common payload record: a CloudEvent JSON line whose `data` is a KServe v1 body
 * of numbers (`{"instances": [[…], …]}` or `{"predictions": […]}`). It reads only the keys drift needs and
 * parses numbers straight from the bytes, about 4× faster than JSON.parse plus walking the objects.
 *
 * It is strict: anything it does not fully understand — an escape in a string it needs, a non-number in the
 * body, a v2 body, a duplicate key, any JSON syntax error — makes it return undefined, and the caller
 * decodes the line with JSON.parse instead. So it never accepts what JSON.parse would reject, and the
 * numbers are exactly those JSON.parse gives (Clinger's fast path, or Number() on the text otherwise).
 */

export interface FastRecord {
  id: string;
  type: string;
  /** The `time` attribute as written, if any. */
  time: string | undefined;
  /** `instances` (request) or `predictions` (response). */
  field: 'instances' | 'predictions';
  rows: number;
  /** Values per row; 0 when every prediction is a scalar. */
  width: number;
  /** True when the rows are scalars (`predictions: [0.1, 0.7]`). */
  scalar: boolean;
  /** rows × max(width, 1) values, row-major, in a buffer reused by the next record. */
  values: Float64Array;
}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const Q = 34; // "
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;

class Bail extends Error {}
const BAIL = new Bail();

export class FastV1Reader {
  private b: Uint8Array = new Uint8Array(0);
  private p = 0;
  private end = 0;
  private values = new Float64Array(4096);
  private count = 0;
  private readonly latin1 = new TextDecoder('latin1');

  /** Decodes bytes [start, end) of `buffer`, or returns undefined for the full JSON decoder to handle. */
  read(buffer: Uint8Array, start: number, end: number, response: boolean | undefined = undefined): FastRecord | undefined {
    this.b = buffer;
    this.p = start;
    this.end = end;
    this.count = 0;
    try {
      return this.record(response);
    } catch (error) {
      if (error instanceof Bail) return undefined;
      throw error;
    }
  }

  private ws(): void {
    const b = this.b;
    let p = this.p;
    while (p < this.end) {
      const c = b[p]!;
      if (c !== 32 && c !== 9 && c !== 13 && c !== 10) break;
      p++;
    }
    this.p = p;
  }

  private expect(c: number): void {
    this.ws();
    if (this.p >= this.end || this.b[this.p] !== c) throw BAIL;
    this.p++;
  }

  /** A string without escapes or bytes above 0x7f, as text. */
  private plainString(): string {
    this.ws();
    const b = this.b;
    if (b[this.p] !== Q) throw BAIL;
    const from = ++this.p;
    let p = from;
    while (p < this.end) {
      const c = b[p]!;
      if (c === Q) break;
      if (c === BACKSLASH || c >= 0x80 || c < 0x20) throw BAIL;
      p++;
    }
    if (p >= this.end) throw BAIL;
    this.p = p + 1;
    return this.latin1.decode(b.subarray(from, p));
  }

  /** A key: compared as bytes with the names we read; other keys are only skipped, so escapes there are fine. */
  private key(): number {
    this.ws();
    const b = this.b;
    if (b[this.p] !== Q) throw BAIL;
    const from = this.p + 1;
    this.skipString();
    const len = this.p - 1 - from;
    this.expect(COLON);
    return keyId(b, from, len);
  }

  private skipString(): void {
    const b = this.b;
    let p = this.p + 1;
    while (p < this.end) {
      const c = b[p]!;
      if (c === Q) {
        this.p = p + 1;
        return;
      }
      if (c === BACKSLASH) p += 2;
      else if (c < 0x20) throw BAIL;
      else p++;
    }
    throw BAIL;
  }

  /** Skips any JSON value; what it accepts here JSON.parse validates again only if we bail later. */
  private skipValue(depth = 0): void {
    if (depth > 64) throw BAIL;
    this.ws();
    const b = this.b;
    const c = b[this.p];
    if (c === Q) return this.skipString();
    if (c === LBRACE || c === LBRACKET) {
      const close = c === LBRACE ? RBRACE : RBRACKET;
      this.p++;
      this.ws();
      if (b[this.p] === close) {
        this.p++;
        return;
      }
      for (;;) {
        if (close === RBRACE) {
          this.ws();
          if (b[this.p] !== Q) throw BAIL;
          this.skipString();
          this.expect(COLON);
        }
        this.skipValue(depth + 1);
        this.ws();
        const n = b[this.p];
        this.p++;
        if (n === close) return;
        if (n !== COMMA) throw BAIL;
      }
    }
    if (c === 45 || (c !== undefined && c >= 48 && c <= 57)) {
      this.number();
      return;
    }
    for (const word of WORDS) {
      if (this.matches(word)) {
        this.p += word.length;
        return;
      }
    }
    throw BAIL;
  }

  private matches(word: Uint8Array): boolean {
    if (this.p + word.length > this.end) return false;
    for (let i = 0; i < word.length; i++) if (this.b[this.p + i] !== word[i]) return false;
    return true;
  }

  /** A JSON number (strict grammar), exactly as JSON.parse reads it. */
  private number(): number {
    const b = this.b;
    const from = this.p;
    let p = from;
    let neg = false;
    if (b[p] === 45) {
      neg = true;
      p++;
    }
    let c = b[p];
    if (c === undefined || c < 48 || c > 57) throw BAIL;
    let mantissa = 0;
    let digits = 0;
    let exp = 0;
    if (c === 48) {
      p++;
      c = b[p];
      if (c !== undefined && c >= 48 && c <= 57) throw BAIL; // leading zero
    } else {
      while (c !== undefined && c >= 48 && c <= 57) {
        mantissa = mantissa * 10 + (c - 48);
        digits++;
        c = b[++p];
      }
    }
    if (c === 46) {
      c = b[++p];
      if (c === undefined || c < 48 || c > 57) throw BAIL;
      while (c !== undefined && c >= 48 && c <= 57) {
        if (digits > 0 || c !== 48) {
          mantissa = mantissa * 10 + (c - 48);
          digits++;
        }
        exp--;
        c = b[++p];
      }
    }
    if (c === 101 || c === 69) {
      c = b[++p];
      let sign = 1;
      if (c === 45 || c === 43) {
        if (c === 45) sign = -1;
        c = b[++p];
      }
      if (c === undefined || c < 48 || c > 57) throw BAIL;
      let e = 0;
      while (c !== undefined && c >= 48 && c <= 57) {
        if (e < 100_000) e = e * 10 + (c - 48);
        c = b[++p];
      }
      exp += sign * e;
    }
    if (p > this.end) throw BAIL;
    this.p = p;
    let value: number;
    if (digits <= 15 && exp >= -22 && exp <= 22) value = exp < 0 ? mantissa / POW10[-exp]! : mantissa * POW10[exp]!;
    else value = Number(this.latin1.decode(b.subarray(neg ? from + 1 : from, p)));
    return neg ? -value : value;
  }

  private push(x: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = x;
  }

  /** `[n, n, …]`; returns its length. */
  private numberRow(): number {
    this.expect(LBRACKET);
    this.ws();
    const b = this.b;
    if (b[this.p] === RBRACKET) throw BAIL;
    let n = 0;
    for (;;) {
      this.ws();
      this.push(this.number());
      n++;
      this.ws();
      const c = b[this.p++];
      if (c === RBRACKET) return n;
      if (c !== COMMA) throw BAIL;
    }
  }

  /** `[[…], …]` or (predictions) `[n, …]`. */
  private rows(allowScalars: boolean): { rows: number; width: number; scalar: boolean } {
    this.expect(LBRACKET);
    this.ws();
    const b = this.b;
    if (b[this.p] === RBRACKET) throw BAIL;
    const scalar = b[this.p] !== LBRACKET;
    if (scalar && !allowScalars) throw BAIL;
    let rows = 0;
    let width = -1;
    for (;;) {
      this.ws();
      if (scalar) this.push(this.number());
      else {
        const w = this.numberRow();
        if (width >= 0 && w !== width) throw BAIL;
        width = w;
      }
      rows++;
      this.ws();
      const c = b[this.p++];
      if (c === RBRACKET) break;
      if (c !== COMMA) throw BAIL;
    }
    return { rows, width: scalar ? 0 : width, scalar };
  }

  private body(): { field: 'instances' | 'predictions'; rows: number; width: number; scalar: boolean } {
    this.expect(LBRACE);
    let found: { field: 'instances' | 'predictions'; rows: number; width: number; scalar: boolean } | undefined;
    this.ws();
    if (this.b[this.p] === RBRACE) throw BAIL;
    for (;;) {
      const k = this.key();
      if (k === K_INSTANCES || k === K_PREDICTIONS) {
        // Both, or one twice: JSON.parse keeps the last; leave such bodies to it.
        if (found) throw BAIL;
        found = { field: k === K_INSTANCES ? 'instances' : 'predictions', ...this.rows(k === K_PREDICTIONS) };
      } else if (k === K_INPUTS || k === K_OUTPUTS) throw BAIL;
      else this.skipValue();
      this.ws();
      const c = this.b[this.p++];
      if (c === RBRACE) break;
      if (c !== COMMA) throw BAIL;
    }
    if (!found) throw BAIL;
    return found;
  }

  private record(response: boolean | undefined): FastRecord {
    this.expect(LBRACE);
    let id: string | undefined;
    let type: string | undefined;
    let time: string | undefined;
    let body: ReturnType<FastV1Reader['body']> | undefined;
    let seen = 0;
    for (;;) {
      const k = this.key();
      const bit = k === K_ID ? 1 : k === K_TYPE ? 2 : k === K_TIME ? 4 : k === K_DATA ? 8 : k === K_DATA_BASE64 ? 16 : 0;
      if (bit & seen) throw BAIL;
      seen |= bit;
      if (k === K_ID) id = this.plainString();
      else if (k === K_TYPE) type = this.plainString();
      else if (k === K_TIME) time = this.plainString();
      else if (k === K_DATA) body = this.body();
      else if (k === K_DATA_BASE64) throw BAIL;
      else this.skipValue();
      this.ws();
      const c = this.b[this.p++];
      if (c === RBRACE) break;
      if (c !== COMMA) throw BAIL;
    }
    this.ws();
    if (this.p !== this.end) throw BAIL;
    if (id === undefined || type === undefined || !body) throw BAIL;
    const isResponse = type === RESPONSE;
    if (!isResponse && type !== REQUEST) throw BAIL;
    if (response !== undefined && response !== isResponse) throw BAIL;
    if ((body.field === 'instances') === isResponse) throw BAIL;
    return { id, type, time, field: body.field, rows: body.rows, width: body.width, scalar: body.scalar, values: this.values };
  }
}

export const REQUEST = 'org.kubeflow.serving.inference.request';
export const RESPONSE = 'org.kubeflow.serving.inference.response';

const WORDS = ['true', 'false', 'null'].map((w) => new TextEncoder().encode(w));
const KEYS = ['id', 'type', 'time', 'data', 'data_base64', 'instances', 'predictions', 'inputs', 'outputs'];
const [K_ID, K_TYPE, K_TIME, K_DATA, K_DATA_BASE64, K_INSTANCES, K_PREDICTIONS, K_INPUTS, K_OUTPUTS] = KEYS.map((_, i) => i + 1) as number[] as [
  number, number, number, number, number, number, number, number, number,
];
const KEY_BYTES = KEYS.map((k) => new TextEncoder().encode(k));

/** Which of the keys we read the bytes [from, from+len) spell (escaped keys never match: JSON.parse decides those). */
function keyId(b: Uint8Array, from: number, len: number): number {
  outer: for (let i = 0; i < KEY_BYTES.length; i++) {
    const k = KEY_BYTES[i]!;
    if (k.length !== len) continue;
    for (let j = 0; j < len; j++) if (b[from + j] !== k[j]) continue outer;
    return i + 1;
  }
  for (let j = 0; j < len; j++) if (b[from + j] === BACKSLASH) throw BAIL;
  return 0;
}

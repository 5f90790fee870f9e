/**
 * The bytes Python's `json.dumps(value, sort_keys=True)` writes (DVC hashes these for a directory):
 * `", "` and `": "` separators, keys sorted by code point, and every character outside 0x20–0x7E
 * escaped as lowercase `\uXXXX` (astral characters as a surrogate pair).
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return pythonString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot serialise ${value} as JSON`);
    return Number.isInteger(value) ? String(value) : pythonFloat(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value as object).sort(compareCodePoints);
    return `{${keys.map((k) => `${pythonString(k)}: ${pythonJsonDumps((value as Record<string, unknown>)[k])}`).join(', ')}}`;
  }
  throw new Error(`cannot serialise a ${typeof value} as JSON`);
}

function pythonFloat(value: number): string {
  // Python's repr of a float; enough for the values we write (DVC manifests hold only strings).
  const text = String(value);
  return text.includes('e') && !text.includes('.') ? text.replace('e', '.0e') : text;
}

const SIMPLE_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;

export function pythonString(text: string): string {
  if (PLAIN.test(text)) return `"${text}"`;
  // Replacing UTF-16 code units one by one gives surrogate pairs for astral characters, exactly as Python writes them.
  return `"${text.replace(NEEDS_ESCAPE, (ch) => SIMPLE_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/** Orders strings by Unicode code point, as Python's `sorted` does (JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/**
 * Maps a UTF-16 unit so that units compare in code-point order: surrogates (U+D800–DFFF, which start astral
 * characters) must sort after U+E000–FFFF. At the first differing unit this decides the code-point order.
 */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

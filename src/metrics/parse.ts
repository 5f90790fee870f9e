import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { UsageError } from '../errors.ts';
import { hasControlCharacters, logValue } from '../github/escape.ts';
import { describeYamlError } from './yaml-error.ts';

/** Flat metric name (`latency.p99_ms`) → finite number. */
export type Metrics = Readonly<Record<string, number>>;

const NON_FINITE_WORDS = /^[+-]?(nan|inf|infinity|\.nan|\.inf)$/i;
/** `"0.93"`, `"12 ms"`, `"2%"`: a number written as text. */
const NUMBER_LIKE = /^\s*[+-]?(\d[\d_,]*\.?\d*|\.\d+)(e[+-]?\d+)?\s*(%|[a-z]{1,3})?\s*$/i;

/**
 * Parses a metrics file (JSON or YAML; JSON is read as YAML 1.2, of which it is a subset) into flat metrics.
 * We walk the YAML syntax tree instead of calling JSON.parse so duplicate keys and `NaN` literals,
 * which JSON.parse silently accepts or cannot see, are reported with the file and the key.
 */
export function parseMetrics(text: string, file: string): Metrics {
  const doc = parseDocument(text, { uniqueKeys: false, schema: 'core' });
  const syntax = doc.errors[0];
  if (syntax) throw new UsageError(`${describeYamlError(syntax, text, file).replace('not valid YAML', 'not valid JSON or YAML')}; fix the file`);
  const root = doc.contents;
  if (!isMap(root)) {
    throw new UsageError(`${file}: a metrics file must be an object of metric names to numbers, like {"accuracy": 0.93}`);
  }
  const out: Record<string, number> = Object.create(null);
  walk(root, '', file, out);
  return out;
}

function walk(node: Node, prefix: string, file: string, out: Record<string, number>): void {
  if (!isMap(node)) throw new Error('unreachable: walk expects a map');
  const seen = new Set<string>();
  for (const pair of node.items) {
    if (!isPair(pair)) continue;
    const keyNode = pair.key;
    if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
      throw new UsageError(`${file}: under ${prefix ? `"${prefix.slice(0, -1)}"` : 'the top level'} a key is not a plain name; use string keys`);
    }
    const name = String(keyNode.value);
    const key = `${prefix}${name}`;
    if (name === '') throw new UsageError(`${file}: key "${key}" is empty; name every metric`);
    if (hasControlCharacters(name)) throw new UsageError(`${file}: key ${JSON.stringify(logValue(key))} has control characters; name metrics with printable characters`);
    if (name === '__proto__' || name === 'constructor' || name === 'prototype') {
      throw new UsageError(`${file}: key "${key}" is not allowed as a metric name; rename it`);
    }
    if (seen.has(name)) throw new UsageError(`${file}: key "${key}" appears twice; keep one value per metric`);
    seen.add(name);
    const value = pair.value;
    if (isAlias(value)) throw new UsageError(`${file}: key "${key}" is a YAML alias (*${value.source}); write the number itself`);
    if (isMap(value)) {
      walk(value, `${key}.`, file, out);
      continue;
    }
    if (isSeq(value)) throw new UsageError(`${file}: key "${key}" is a list; give one finite number per metric`);
    const raw = isScalar(value) ? value.value : null;
    const source = isScalar(value) && value.source !== undefined ? value.source : value ? String(value) : '';
    if (typeof raw !== 'number' || !Number.isFinite(raw)) {
      throw new UsageError(`${file}: key "${key}" ${describe(raw, source)}, not a finite number; ${hint(raw, source)}`);
    }
    if (Object.hasOwn(out, key)) {
      throw new UsageError(`${file}: key "${key}" is given twice (once nested, once with a dot); keep one`);
    }
    out[key] = raw;
  }
}

/**
 * The value, when showing it helps and cannot leak a secret: numbers, booleans, null, and text that reads as a
 * number or NaN. Any other text is not quoted (a metrics path pointed at a credentials file must not print it).
 */
function describe(raw: unknown, source: string): string {
  if (raw === null) return 'has value null';
  if (typeof raw === 'number' || typeof raw === 'boolean') return `has value ${String(raw)}`;
  if (typeof raw === 'string') return NON_FINITE_WORDS.test(raw.trim()) || NUMBER_LIKE.test(raw) ? `has value ${JSON.stringify(raw)}` : 'is text';
  return NON_FINITE_WORDS.test(source.trim()) ? `has value ${source.trim()}` : 'is not a number';
}

function hint(raw: unknown, source: string): string {
  const text = typeof raw === 'string' ? raw : source;
  if ((typeof raw === 'number' && !Number.isFinite(raw)) || NON_FINITE_WORDS.test(text.trim())) {
    return 'the metric is NaN or infinite: fix the computation (Python: json.dump(..., allow_nan=False) catches this early)';
  }
  if (typeof raw === 'boolean') return 'write 1 or 0 if it is a count, or drop it';
  if (raw === null) return 'write the number, or drop the key';
  return 'write the number without quotes or units';
}

import { isAlias, isCollection, isMap, isPair, isScalar, parseAllDocuments, type Document, type YAMLMap } from 'yaml';
import { UsageError } from '../errors.ts';

/** Aliases a manifest may expand to: generous for real files, far below what an alias bomb needs. */
export const MAX_ALIAS_COUNT = 100;
/** Nesting deeper than this is not a Kubernetes manifest; refuse it before walking it. */
export const MAX_DEPTH = 64;

export interface ParsedManifest {
  text: string;
  /** The file's line ending, kept for every line we add. */
  eol: '\n' | '\r\n';
  documents: Document.Parsed[];
  /** Each document as plain data, in order (null for an empty document). */
  values: unknown[];
}

/**
 * Parses every document of a manifest with the limits that stop hostile YAML:
 * duplicate keys, syntax errors, alias bombs and very deep nesting are refused with the file and position.
 */
export function parseManifest(text: string, file: string): ParsedManifest {
  // Duplicate keys are found by checkDepth's walk with one Set per map: the parser's own check compares each
  // key with every earlier one, which takes seconds for a ConfigMap of 40,000 keys.
  const documents = parseAllDocuments(text, {
    uniqueKeys: false,
    merge: true,
    prettyErrors: true,
    strict: true,
  });
  if (!Array.isArray(documents)) {
    throw new UsageError(`${file}: is not a YAML stream`);
  }
  const values: unknown[] = [];
  for (const document of documents) {
    const error = document.errors[0];
    if (error) {
      // The parser recurses per nesting level and reports running out of stack as a syntax error.
      if (error.message.includes('Maximum call stack')) {
        throw new UsageError(`${file}: nests deeper than ${MAX_DEPTH} levels, which no Kubernetes manifest needs: refusing to read it`);
      }
      const what = error.code === 'DUPLICATE_KEY' ? 'has a duplicate key' : 'is not valid YAML';
      throw new UsageError(`${file}: ${what} (${firstLine(error.message)}): fix the file, nothing was changed`);
    }
    checkDepth(document, file, text);
    try {
      values.push(document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
    } catch (error) {
      if (error instanceof ReferenceError) {
        throw new UsageError(`${file}: expands too many aliases (over ${MAX_ALIAS_COUNT}), which is how an alias bomb looks: refusing to read it`);
      }
      throw error;
    }
  }
  return { text, eol: text.includes('\r\n') ? '\r\n' : '\n', documents, values };
}

function checkDepth(document: Document.Parsed, file: string, text: string): void {
  const stack: [unknown, number][] = [[document.contents, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (depth > MAX_DEPTH) {
      throw new UsageError(`${file}: nests deeper than ${MAX_DEPTH} levels, which no Kubernetes manifest needs: refusing to read it`);
    }
    if (isCollection(node)) {
      if (isMap(node)) checkUniqueKeys(node, file, text);
      for (const item of node.items) stack.push([item, depth + 1]);
    } else if (isPair(node)) {
      stack.push([node.key, depth], [node.value, depth]);
    } else if (!isScalar(node) && !isAlias(node) && node !== null && node !== undefined) {
      throw new UsageError(`${file}: has a YAML node this tool does not understand`);
    }
  }
}

/** YAML's rule (scalar keys equal by value and type), in one pass; `<<` merge keys may repeat. */
function checkUniqueKeys(map: YAMLMap, file: string, text: string): void {
  const seen = new Set<string>();
  for (const pair of map.items) {
    const key = pair.key;
    if (!isScalar(key)) continue;
    if (typeof key.value === 'symbol') continue; // the merge key `<<`
    const id = `${typeof key.value}:${String(key.value)}`;
    if (seen.has(id)) {
      const line = key.range ? text.slice(0, key.range[0]).split('\n').length : undefined;
      throw new UsageError(`${file}${line ? `:${line}` : ''}: has a duplicate key (${JSON.stringify(String(key.value))} appears twice in one mapping): fix the file, nothing was changed`);
    }
    seen.add(id);
  }
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).trim();
}

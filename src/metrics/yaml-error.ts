import type { YAMLError } from 'yaml';

/**
 * One line for a YAML syntax error: `file:line:column: message`. The file's text is never quoted: a metrics
 * path may point at a credentials file by mistake (or by a hostile run.json), and CI logs are widely readable.
 * A duplicate key is named, since the key is the part of the file the user needs to find.
 */
export function describeYamlError(error: YAMLError, text: string, file: string): string {
  const position = error.linePos?.[0];
  const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const key = error.code === 'DUPLICATE_KEY' ? duplicateKey(text, error.pos[0]) : undefined;
  return `${file}${position ? `:${position.line}:${position.col}` : ''}: not valid YAML: ${message}${key === undefined ? '' : ` (key ${JSON.stringify(key)} appears twice)`}`;
}

/** The plain or quoted key that starts at `offset`, when it reads as one short name. */
function duplicateKey(text: string, offset: number): string | undefined {
  const rest = text.slice(offset, offset + 256);
  const quoted = /^(["'])((?:(?!\1)[^\n\\]|\\.)*)\1\s*:/.exec(rest);
  if (quoted) return quoted[2];
  const plain = /^([^\s:#,[\]{}][^\n:#]*?)\s*:(?:\s|$)/.exec(rest);
  return plain?.[1];
}

/** Where JSON.parse stopped, without the snippet of the text that Node puts in its message. */
export function describeJsonError(error: unknown, text: string): string {
  const at = /at position (\d+)/.exec(error instanceof Error ? error.message : '');
  if (!at) return 'not valid JSON';
  const before = text.slice(0, Number(at[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `not valid JSON at line ${line}, column ${column}`;
}

import type { YAMLError } from 'yaml';

/** One line for a YAML syntax error: `file:line: message near "text"`. */
export function describeYamlError(error: YAMLError, text: string, file: string): string {
  const line = error.linePos?.[0]?.line;
  const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const near = text.slice(error.pos[0], Math.min(error.pos[1], error.pos[0] + 40)).trim();
  const key = error.code === 'DUPLICATE_KEY' ? ` (key "${near}" appears twice)` : near ? ` near ${JSON.stringify(near)}` : '';
  return `${file}${line ? `:${line}` : ''}: not valid YAML: ${message}${key}`;
}

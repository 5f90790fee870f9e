import { parse } from 'yaml';
import { badInput } from '../errors.ts';

/** Characters that only mean something to a shell; unquoted, they are a mistake without `shell: true`. */
const SHELL_ONLY = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`']);

/**
 * Splits one line into words the way a POSIX shell would, without running one: whitespace separates
 * words; '…' is literal; "…" allows \" \\ \$ \` escapes; a backslash outside quotes escapes the next
 * character. Unquoted shell syntax (pipes, redirections, $VAR, `…`) is refused, pointing at `shell: true`.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw badInput('command', line, "has an unterminated ' quote");
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1] as string)) j++;
        word += line[j];
      }
      if (j >= line.length) throw badInput('command', line, 'has an unterminated " quote');
      inWord = true;
      i = j;
    } else if (c === '\\') {
      if (i + 1 < line.length) word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (SHELL_ONLY.has(c)) {
      throw badInput('command', line, `uses ${JSON.stringify(c)}, which only a shell understands: quote it, or set shell: true to run the line with bash`);
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * The argv to run: a YAML list (`[python, train.py]` or `- python` lines) is taken item by item;
 * otherwise the text is one command line split into words. With `shell`, the text runs as `bash -eo pipefail -c`.
 */
export function parseCommand(text: string, shell: boolean): string[] {
  const trimmed = text.trim();
  if (trimmed === '') throw badInput('command', text, 'is empty: give the training command, e.g. /usr/bin/python3 scripts/train.py');
  if (shell) return ['bash', '-eo', 'pipefail', '-c', trimmed];
  if (trimmed.startsWith('[') || trimmed.startsWith('- ') || trimmed === '-') {
    let value: unknown;
    try {
      value = parse(trimmed);
    } catch (error) {
      throw badInput('command', text, `is not a valid YAML list (${(error as Error).message.split('\n')[0]})`);
    }
    if (!Array.isArray(value) || value.length === 0 || value.some((v) => v === null || typeof v === 'object')) {
      throw badInput('command', text, 'must be a non-empty YAML list of plain words, e.g. [python3, train.py, --epochs, 3]');
    }
    return value.map(String);
  }
  const words = splitWords(trimmed.replace(/\\\r?\n/g, ' '));
  if (words.length === 0) throw badInput('command', text, 'has no words');
  return words;
}

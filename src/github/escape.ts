/**
 * The escaping rules for text that arrives with data (leg names, metric names, model names, model-card fields,
 * file paths from a repository) on its way to a log line, a workflow command or GitHub Markdown.
 * One module, so every writer applies the same rules:
 * - in a log line, data never carries a control character: a newline could start a line the runner obeys
 *   (`::add-mask::`, `::error::`), and terminal escapes could rewrite what a reader sees;
 * - in Markdown, data goes in a code span (or a fenced block longer than any fence inside it), where
 *   GitHub forms no `@` mention, no `#123` reference, no link and no HTML.
 * Pure (no @actions import), so the core, the CLI and the actions share it.
 */

/** C0 controls (newline, carriage return, escape…), DEL, C1 controls, and the Unicode line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function hasControlCharacters(text: string): boolean {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text);
}

/** One line for a log: every control character shown as `\n`, `\r`, `\t` or `\uXXXX`, so data cannot start a line. */
export function logValue(text: string): string {
  return text.replace(CONTROL, (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The backstop applied to every message an action logs: a line the runner would read as a workflow command
 * (`::name::…` after leading blanks, or the older `##[name]…` anywhere) is defused with a zero-width space
 * between its two marker characters. Our own code never issues commands through the logger.
 */
export function defuseWorkflowCommands(message: string): string {
  return message
    .split(/(\r\n|\r|\n)/)
    .map((line) => line.replace(/^(\s*):(?=:)/, '$1:\u200b').replaceAll('##[', '#\u200b#['))
    .join('');
}

/** Text safe as HTML text: no tag, no entity. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * An inline code span holding `text` exactly (control characters shown escaped): the fence is longer than
 * any run of backticks inside, and padded when the text starts or ends with one.
 */
export function code(text: string): string {
  const clean = logValue(text);
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  const pad = clean.startsWith('`') || clean.endsWith('`') || clean === '' ? ' ' : '';
  return `${fence}${pad}${clean}${pad}${fence}`;
}

/** A code span inside a GFM table cell: GFM splits cells on `|` even inside code spans. */
export function codeCell(text: string): string {
  return code(text).replace(/\|/g, '\\|');
}

/** A fenced code block whose fence is longer than any backtick run in `text`, so the text cannot close it. */
export function fencedBlock(text: string, info = ''): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  const body = text.replace(/\r?\n$/, '');
  return `${fence}${info}\n${body}\n${fence}`;
}

/** Inline HTML `<code>` for HTML tables (the job summary's addTable): escaped text, control characters shown. */
export function htmlCode(text: string): string {
  return `<code>${escapeHtml(logValue(text))}</code>`;
}

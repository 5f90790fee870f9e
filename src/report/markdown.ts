/** Small Markdown builders shared by the gate report, the job summary, sticky comments and PR bodies. */

/** Text safe inside a table cell: no pipes or line breaks, and no HTML (a leg name must never forge a marker). */
export function cell(text: string): string {
  return escapeHtml(text).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Inline code inside a table cell: GFM splits cells on `|` even inside code spans. */
export function codeCell(text: string): string {
  return code(text).replace(/\|/g, '\\|');
}

/** Inline code that survives backticks in the text. */
export function code(text: string): string {
  const clean = text.replace(/\r?\n/g, ' ');
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  const pad = clean.startsWith('`') || clean.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${clean}${pad}${fence}`;
}

export type Align = 'left' | 'right' | 'center';

export function table(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const rule = header.map((_, i) => ({ left: '---', right: '---:', center: ':---:' })[align[i] ?? 'left']);
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(rule), ...rows.map(line)].join('\n');
}

/** A link when the URL is http(s), plain text otherwise. */
export function link(text: string, url: string | undefined): string {
  if (!url || !/^https?:\/\//.test(url)) return escapeHtml(text);
  return `[${escapeHtml(text).replace(/[[\]]/g, '\\$&')}](${url.replace(/[()\s]/g, encodeURIComponent)})`;
}

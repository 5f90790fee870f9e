/** Small Markdown builders shared by the gate report, the job summary, sticky comments and PR bodies. */
import { code, codeCell, escapeHtml, fencedBlock, logValue } from '../github/escape.ts';

export { code, codeCell, escapeHtml, fencedBlock };

/**
 * Our own text (labels we write) inside a table cell: no pipes or line breaks, and no HTML (it must never
 * forge a marker). Text that came with data goes through codeCell instead, where no mention or link forms.
 */
export function cell(text: string): string {
  return escapeHtml(logValue(text.replace(/\r?\n/g, ' '))).replace(/\|/g, '\\|');
}

export type Align = 'left' | 'right' | 'center';

export function table(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const rule = header.map((_, i) => ({ left: '---', right: '---:', center: ':---:' })[align[i] ?? 'left']);
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(rule), ...rows.map(line)].join('\n');
}

/** A link when the URL is http(s), plain text otherwise. For URLs we build or were given as input, not data. */
export function link(text: string, url: string | undefined): string {
  if (!url || !/^https?:\/\//.test(url)) return escapeHtml(text);
  return `[${escapeHtml(text).replace(/[[\]]/g, '\\$&')}](${url.replace(/[()\s]/g, encodeURIComponent)})`;
}

import { formatNumber } from '../metrics/format.ts';

export interface BarChart {
  title: string;
  axis: string;
  categories: readonly string[];
  values: readonly number[];
  /** Drawn as a flat line across the bars, e.g. the baseline. */
  reference?: number;
}

/** A Mermaid `xychart-beta` bar chart in a fenced block; GitHub renders it with no image host. */
export function mermaidBarChart(chart: BarChart): string {
  const all = chart.reference === undefined ? [...chart.values] : [...chart.values, chart.reference];
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  // Start the axis near the data so small differences between legs stay visible.
  const pad = (hi - lo) * 0.25 || Math.abs(hi) * 0.05 || 1;
  const step = 10 ** Math.floor(Math.log10(pad));
  const min = lo >= 0 && lo - pad < 0 ? 0 : Math.floor((lo - pad) / step) * step;
  const max = Math.ceil((hi + pad) / step) * step;
  const lines = [
    '```mermaid',
    'xychart-beta',
    `  title ${quote(chart.title)}`,
    `  x-axis [${chart.categories.map(quote).join(', ')}]`,
    `  y-axis ${quote(chart.axis)} ${num(min)} --> ${num(max)}`,
    `  bar [${chart.values.map(num).join(', ')}]`,
  ];
  if (chart.reference !== undefined) lines.push(`  line [${chart.values.map(() => num(chart.reference!)).join(', ')}]`);
  lines.push('```');
  return lines.join('\n');
}

function num(n: number): string {
  return formatNumber(n).replace(/e\+?/, 'e');
}

/** Mermaid strings cannot hold a double quote or a line break. */
function quote(text: string): string {
  return `"${text.replace(/["\r\n`]/g, "'")}"`;
}

/** Short, stable rendering of a metric value: up to 4 significant digits after leading zeros, no float noise. */
export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e15)) return n.toExponential(3).replace(/\.?0+e/, 'e');
  const digits = abs >= 1 ? Math.max(4, Math.floor(Math.log10(abs)) + 1) : 4;
  return String(Number(n.toPrecision(Math.min(digits, 15))));
}

/** `+0.01`, `-2.5`, `0` */
export function formatSigned(n: number): string {
  const text = formatNumber(n);
  return n > 0 ? `+${text}` : text;
}

/** `+2.15%`, or `2.15%` with signed false */
export function formatPercent(n: number, { signed = true } = {}): string {
  const text = String(Number(n.toFixed(Math.abs(n) < 10 ? 2 : 1)));
  return `${signed && n > 0 ? '+' : ''}${text}%`;
}

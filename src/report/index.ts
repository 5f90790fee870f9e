export { renderGateReport, delta, VERDICT_ICON, type GateReportOptions } from './gate-report.ts';
export { metricsComparisonTable, provenanceList, renderModelSummary, type Provenance, type ModelSummary } from './model-summary.ts';
export { marker, startsWithMarker, withMarker } from './marker.ts';
export { mermaidBarChart, type BarChart } from './chart.ts';
export { cell, code, codeCell, escapeHtml, fencedBlock, link, table } from './markdown.ts';

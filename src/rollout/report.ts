import { cell, code, table } from '../report/markdown.ts';
import type { Check } from './check.ts';
import type { RolloutStatus } from './outcome.ts';
import type { TimelineEntry } from './timeline.ts';

const ICON: Record<RolloutStatus, string> = { serving: '✅', failed: '❌', timeout: '⏱️' };

export interface RolloutReport {
  status: RolloutStatus;
  reason: string;
  name: string;
  storageUri: string;
  version: string | undefined;
  revision: string | undefined;
  checks: Check[];
  timeline: TimelineEntry[];
  seconds: number;
  revert?: { url?: string | undefined; number?: number | undefined; branch: string; operation: string; restored?: string | undefined; reason?: string | undefined } | undefined;
}

export function checksTable(checks: readonly Check[]): string {
  return table(
    ['Check', '', 'Detail'],
    checks.map((c) => [cell(c.name), c.ok ? '✅' : '❌', cell(c.detail)]),
  );
}

/** Every entry, oldest first; seconds since the start. */
export function timelineTable(timeline: readonly TimelineEntry[]): string {
  return table(
    ['+s', 'Object', 'Change'],
    timeline.map((e) => [e.seconds.toFixed(1), cell(e.subject), cell(e.change)]),
    ['right'],
  );
}

/** The job summary: the verdict, the checks at the end, and the timeline of conditions (folded). */
export function rolloutSummary(r: RolloutReport): string {
  const parts = [
    `### ${ICON[r.status]} rollout ${cell(r.name)}: ${r.status}`,
    cell(r.reason),
    [
      `- **Expected:** ${code(r.storageUri)}${r.version ? ` (${code(r.version)})` : ''}`,
      `- **Serving revision:** ${r.revision ? code(r.revision) : 'none'}`,
      `- **Took:** ${r.seconds.toFixed(1)} s`,
      ...(r.revert ? [`- **Revert:** ${revertLine(r.revert)}`] : []),
    ].join('\n'),
    checksTable(r.checks),
    `<details><summary>Timeline (${r.timeline.length} change${r.timeline.length === 1 ? '' : 's'})</summary>\n\n${timelineTable(r.timeline)}\n\n</details>`,
  ];
  return `${parts.join('\n\n')}\n`;
}

function revertLine(revert: NonNullable<RolloutReport['revert']>): string {
  if (revert.operation === 'skipped' || revert.operation === 'error') return `${revert.operation}: ${cell(revert.reason ?? '')}`;
  const pr = revert.url ? `[#${revert.number}](${revert.url})` : `branch ${code(revert.branch)}`;
  return `${revert.operation} ${pr}${revert.restored ? `, restoring ${code(revert.restored)}` : ''}`;
}

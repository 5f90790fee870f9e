import type { Metrics } from '../metrics/parse.ts';
import { code, fencedBlock, renderModelSummary, withMarker, type Provenance } from '../report/index.ts';

export interface PullRequestContent {
  model: string;
  environment: string;
  version: string;
  storageUri?: string;
  metrics?: Metrics;
  /** Metrics of what the environment runs now, with a label such as `Production (sha256-…)`. */
  baseline?: { label: string; metrics: Metrics } | null;
  provenance?: Omit<Provenance, 'model' | 'version' | 'storageUri'>;
  /** Metric names to show (e.g. the gate's rules); all when empty. */
  showMetrics?: string[];
  changedFiles: string[];
  /** The manifest diff, shown folded. */
  diff?: string;
}

export function pullRequestTitle(c: Pick<PullRequestContent, 'model' | 'environment' | 'version'>): string {
  return `Deploy ${c.model} ${c.version} to ${c.environment}`;
}

/** The PR body: hidden marker first, then metrics against the baseline, provenance and the changed files. */
export function pullRequestBody(c: PullRequestContent): string {
  const pick = (m: Metrics): Metrics => (c.showMetrics?.length ? Object.fromEntries(Object.entries(m).filter(([k]) => c.showMetrics?.includes(k))) : m);
  const summary = renderModelSummary({
    title: pullRequestTitle(c),
    metrics: pick(c.metrics ?? {}),
    baseline: c.baseline ? pick(c.baseline.metrics) : null,
    ...(c.baseline ? { baselineLabel: c.baseline.label } : {}),
    model: c.model,
    version: c.version,
    ...(c.storageUri ? { storageUri: c.storageUri } : {}),
    ...c.provenance,
  });
  const parts = [summary.trimEnd()];
  if (c.changedFiles.length > 0) parts.push(`**Changed:** ${c.changedFiles.map(code).join(', ')}`);
  if (c.diff?.trim()) parts.push(`<details><summary>Manifest diff</summary>\n\n${fencedBlock(c.diff.trimEnd(), 'diff')}\n\n</details>`);
  parts.push(
    `<sub>Opened by mlops-actions on branch ${code(`mlops/${c.model}/${c.environment}`)}; each run replaces its commit. Commits pushed here by others make the next run stop unless it sets \`force: true\`.</sub>`,
  );
  return withMarker('pull-request', `${c.model}/${c.environment}`, `${parts.join('\n\n')}\n`);
}

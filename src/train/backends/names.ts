import { createHash, randomBytes } from 'node:crypto';

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  runId: 'mlops-actions.io/run-id',
  leg: 'mlops-actions.io/leg',
  model: 'mlops-actions.io/model',
} as const;

export const ANNOTATIONS = {
  leg: 'mlops-actions.io/leg',
  runUrl: 'mlops-actions.io/run-url',
  commit: 'mlops-actions.io/commit',
  repository: 'mlops-actions.io/repository',
} as const;

export const MANAGED_BY = 'mlops-actions';

/**
 * The run this leg belongs to: `<GITHUB_RUN_ID>-<GITHUB_RUN_ATTEMPT>` in Actions (a re-run of the workflow is a
 * new attempt, a retried step of the same attempt is not), the CLI's `--run-id`, else a fresh random id.
 */
export function runId(env: NodeJS.ProcessEnv, explicit?: string): string {
  if (explicit?.trim()) return explicit.trim();
  if (env.GITHUB_RUN_ID) return `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT || '1'}`;
  return `local-${randomBytes(4).toString('hex')}`;
}

/**
 * The Job's (or TrainJob's) name: `mlops-<model>-<leg>-<hash>`, an RFC 1035 label of at most 63 characters
 * (what both a Job's pod labels and a TrainJob's CEL rule need), the hash over repository, run id, model and leg.
 * It is derived, not generated, and the object carries no ownerReference: the same leg of the same run
 * attempt always comes back to the same name, and so finds its Job instead of starting a second one.
 */
export function remoteName(parts: { repository?: string; runId: string; model: string; leg: string }): string {
  const hash = createHash('sha256').update(JSON.stringify([parts.repository ?? '', parts.runId, parts.model, parts.leg])).digest('hex').slice(0, 10);
  const readable = slug(`${parts.model}-${parts.leg}`).slice(0, 63 - 'mlops-'.length - hash.length - 1).replace(/-+$/, '');
  return `mlops-${readable ? `${readable}-` : ''}${hash}`;
}

/** A label value (≤ 63, alphanumeric ends, `-_.` inside): cut with a hash when it does not fit. */
export function labelValue(text: string): string {
  const clean = text.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (clean.length <= 63 && clean === text) return clean;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  return `${clean.slice(0, 63 - hash.length - 1).replace(/[^A-Za-z0-9]+$/, '')}-${hash}`.replace(/^-/, '');
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

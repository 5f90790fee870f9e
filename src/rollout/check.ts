/** One verdict of the rollout: all of them must hold at the same moment for `serving`. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** What the cluster's objects say right now. */
export interface ClusterVerdict {
  checks: Check[];
  /** KServe, ArgoCD or a pod says the new model cannot come up: stop now, with these words. */
  failure?: string;
  /** ArgoCD's health is older than its last sync (the key is that sync's finishedAt): ask for a refresh. */
  refresh?: string;
  /** What serves the expected model: the Knative revision, or the Standard-mode ReplicaSet. */
  revision?: string;
  /** The endpoint the InferenceService advertises. */
  url?: string;
}

export function allOk(checks: readonly Check[]): boolean {
  return checks.length > 0 && checks.every((c) => c.ok);
}

/** The first failing check as one line (for reasons and timeouts). */
export function firstFailing(checks: readonly Check[]): string | undefined {
  const failing = checks.find((c) => !c.ok);
  return failing ? `${failing.name}: ${failing.detail}` : undefined;
}

export function short(sha: string | undefined): string {
  return sha ? (/^[0-9a-f]{40}$/.test(sha) ? sha.slice(0, 12) : sha) : 'none';
}

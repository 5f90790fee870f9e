import type { Application } from '../kube/argocd.ts';
import { short, type Check } from './check.ts';

export interface ApplicationExpectation {
  namespace: string;
  name: string;
  /** The merged GitOps commit (full SHA, or a prefix of at least 7 hex digits). */
  revision: string;
}

/** `a` is the revision `expected` names (equal, or `expected` is an abbreviation of it). */
export function sameRevision(actual: string | undefined, expected: string): boolean {
  if (!actual) return false;
  const a = actual.toLowerCase();
  const e = expected.toLowerCase();
  return a === e || (e.length >= 7 && /^[0-9a-f]+$/.test(e) && a.startsWith(e));
}

/**
 * ArgoCD's two checks, the way Kargo reads an Application (pkg/health/checker/builtin/argocd.go): synced at the
 * merged revision by a finished, successful operation; and health that is both Healthy and not older than that
 * operation (the health and operation reconcilers are separate, so right after a sync `health` may still be the
 * previous revision's). Stale health asks for a refresh (`refresh` is the operation's finishedAt).
 */
export function checkApplication(app: Application | undefined, expected: ApplicationExpectation): { checks: Check[]; refresh?: string } {
  const what = `Application ${expected.namespace}/${expected.name}`;
  if (!app) {
    const detail = `${what} does not exist`;
    return { checks: [{ name: 'argocd-sync', ok: false, detail }, { name: 'argocd-health', ok: false, detail }] };
  }
  const status = app.status ?? {};
  const operation = status.operationState;
  const revisions = [status.sync?.revision, ...(status.sync?.revisions ?? []), operation?.syncResult?.revision, ...(operation?.syncResult?.revisions ?? [])];
  const atRevision = revisions.some((r) => sameRevision(r, expected.revision));
  let sync: Check;
  if (status.sync?.status !== 'Synced') {
    sync = { name: 'argocd-sync', ok: false, detail: `sync status is ${status.sync?.status ?? 'not reported'} (at ${short(status.sync?.revision)}, want ${short(expected.revision)})` };
  } else if (!atRevision) {
    sync = { name: 'argocd-sync', ok: false, detail: `Synced at ${short(status.sync.revision)}, not yet at ${short(expected.revision)}` };
  } else if (!operation) {
    sync = { name: 'argocd-sync', ok: false, detail: 'Synced, but no sync operation is recorded yet' };
  } else if (operation.phase !== 'Succeeded' || !operation.finishedAt) {
    sync = { name: 'argocd-sync', ok: false, detail: `the sync operation is ${operation.phase ?? 'unknown'}${operation.message ? `: ${operation.message}` : ''}` };
  } else {
    sync = { name: 'argocd-sync', ok: true, detail: `Synced at ${short(expected.revision)}; the operation succeeded at ${operation.finishedAt}` };
  }

  const finished = operation?.finishedAt ? Date.parse(operation.finishedAt) : undefined;
  const reconciled = status.reconciledAt ? Date.parse(status.reconciledAt) : undefined;
  const health = status.health;
  let refresh: string | undefined;
  let healthCheck: Check;
  if (finished !== undefined && (reconciled === undefined || reconciled < finished)) {
    refresh = operation?.finishedAt;
    healthCheck = { name: 'argocd-health', ok: false, detail: `health (${health?.status ?? 'none'}) is stale: reconciled at ${status.reconciledAt ?? 'never'}, before the sync finished at ${operation?.finishedAt}` };
  } else if (health?.status !== 'Healthy') {
    healthCheck = { name: 'argocd-health', ok: false, detail: `health is ${health?.status ?? 'not reported'}${health?.message ? `: ${health.message}` : ''}` };
  } else {
    healthCheck = { name: 'argocd-health', ok: true, detail: `Healthy, reconciled at ${status.reconciledAt}` };
  }
  return { checks: [sync, healthCheck], ...(refresh ? { refresh } : {}) };
}

import { badInput } from '../errors.ts';
import type { Identity } from '../gitops/branch-push.ts';
import type { ClusterTuning } from './verify-cluster.ts';

export type ClusterMode = 'kubernetes' | 'none';
export type OnFailure = 'revert-pr' | 'fail';

export interface RolloutSettings {
  /** `none`: verify the endpoint alone (serving that is not on Kubernetes, the demo). */
  cluster: ClusterMode;
  namespace?: string | undefined;
  /** The InferenceService, and the model's name on its endpoint. */
  name: string;
  /** The storageUri that must be served; default: the one `manifest` deploys. */
  storageUri?: string | undefined;
  /** The InferenceService manifest (or overlay directory) in the workspace: the default storage-uri, and what a revert edits. */
  manifest?: string | undefined;
  application?: string | undefined;
  argocdNamespace: string;
  /** The merged GitOps commit. */
  revision?: string | undefined;
  endpoint?: string | undefined;
  timeoutMs: number;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  /** A sample request file (OIP v2 `inputs`, or v1 `instances`). */
  sample?: string | undefined;
  /** The version's model.json, when it cannot be read from the storage URI. */
  modelCard?: string | undefined;
  onFailure: OnFailure;
  /** Needed with on-failure: revert-pr. */
  revert?: RevertOptions | undefined;
  cwd: string;
  tuning?: ClusterTuning | undefined;
}

export interface RevertOptions {
  repository: string;
  serverUrl: string;
  token?: string | undefined;
  base?: string | undefined;
  model: string;
  environment: string;
  author: Identity;
  runUrl?: string | undefined;
  labels: string[];
  prFile?: string | undefined;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `10m`, `90s`, `1h30m`, `500ms`, or a number of seconds; from 1 s to 6 h. */
export function parseDuration(input: string, value: string): number {
  const text = value.trim();
  let ms = 0;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else {
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw badInput(input, value, 'is not a duration: use e.g. 10m, 90s, 1h30m or a number of seconds');
    for (const [, n, unit] of parts) ms += Number(n) * (UNITS[unit as string] as number);
  }
  if (ms < 1000 || ms > 6 * 3_600_000) throw badInput(input, value, 'must be from 1s to 6h');
  return Math.round(ms);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A namespace or InferenceService name (RFC 1123 label). */
export function checkName(input: string, value: string | undefined): string {
  if (!value) throw badInput(input, '', 'is required');
  if (value.length > 63 || !DNS_LABEL.test(value)) throw badInput(input, value, 'is not a Kubernetes name: lowercase letters, digits and "-", at most 63 characters');
  return value;
}

/** An http(s) URL without credentials (they would end up in logs). */
export function checkEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badInput('endpoint', value, 'is not a URL: give the server\'s base URL, e.g. http://127.0.0.1:8080');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badInput('endpoint', value, 'must be an http:// or https:// URL');
  if (url.username || url.password) throw badInput('endpoint', `${url.protocol}//***@${url.host}${url.pathname}`, 'must not carry credentials');
  return value.replace(/\/+$/, '');
}

/** Checks what does not need the cluster: names, the revision, the endpoint, the mode's requirements. */
export function checkSettings(settings: RolloutSettings): void {
  if (settings.cluster === 'none') {
    if (!settings.endpoint) throw badInput('endpoint', '', 'is required with cluster: none (the server to verify)');
    if (settings.application) throw badInput('application', settings.application, 'needs a cluster: drop it, or drop cluster: none');
  } else {
    checkName('namespace', settings.namespace);
    checkName('name', settings.name);
    if (settings.application) {
      checkName('argocd-namespace', settings.argocdNamespace);
      if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(settings.application) || settings.application.length > 253) {
        throw badInput('application', settings.application, 'is not an Application name: lowercase letters, digits, "-" and "."');
      }
      if (!settings.revision) throw badInput('revision', '', 'is required with application: the merged GitOps commit ArgoCD must sync');
    }
  }
  if (settings.cluster === 'none' && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(settings.name)) throw badInput('name', settings.name, 'is not a model name: letters, digits, ".", "_" and "-"');
  if (settings.revision !== undefined && !/^[0-9a-f]{7,40}$/.test(settings.revision)) throw badInput('revision', settings.revision, 'must be a commit SHA: 7 to 40 lowercase hex digits');
  if (settings.endpoint) checkEndpoint(settings.endpoint);
}

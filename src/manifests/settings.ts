import { badInput } from '../errors.ts';
import { parseImageUpdate, type BumpRequest } from './bump.ts';

/** The raw options shared by the action inputs and the CLI flags (same names). */
export interface BumpOptions {
  storageUri?: string;
  /** `name=reference` entries. */
  images?: string[];
  canaryTrafficPercent?: string;
  /** `key=value` entries. */
  annotations?: string[];
  modelVersion?: string;
  commit?: string;
  runUrl?: string;
  data?: string;
  select?: string;
  createMissing?: boolean;
}

export const PROVENANCE = {
  modelVersion: 'mlops-actions.io/model-version',
  commit: 'mlops-actions.io/commit',
  runUrl: 'mlops-actions.io/run-url',
  data: 'mlops-actions.io/data',
} as const;

/** `…/models/<name>/sha256-<16 hex>/`: the version publish wrote, which is also the model-version annotation. */
const VERSION_IN_URI = /\/(sha256-[0-9a-f]{16})\/?$/;

/** Turns the options into a request, refusing malformed ones with the input name, the value and the fix. */
export function bumpRequest(options: BumpOptions): BumpRequest {
  const request: BumpRequest = { createMissing: options.createMissing ?? false };
  if (options.storageUri !== undefined && options.storageUri !== '') request.storageUri = options.storageUri;
  request.images = (options.images ?? []).map((text) => parseImageUpdate(text));
  if (options.canaryTrafficPercent !== undefined && options.canaryTrafficPercent !== '') {
    const text = options.canaryTrafficPercent.trim();
    if (!/^\d{1,3}$/.test(text) || Number(text) > 100) {
      throw badInput('canary-traffic-percent', options.canaryTrafficPercent, 'is not a whole number from 0 to 100');
    }
    request.canaryTrafficPercent = Number(text);
  }
  const provenance = new Map<string, string>();
  const modelVersion = options.modelVersion || VERSION_IN_URI.exec(request.storageUri ?? '')?.[1];
  if (modelVersion) provenance.set(PROVENANCE.modelVersion, modelVersion);
  if (options.commit) provenance.set(PROVENANCE.commit, options.commit);
  if (options.runUrl) provenance.set(PROVENANCE.runUrl, options.runUrl);
  if (options.data) provenance.set(PROVENANCE.data, options.data);
  request.provenance = [...provenance];
  const annotations = new Map<string, string>();
  for (const entry of options.annotations ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw badInput('annotation', entry, 'is not key=value: give e.g. team=ml');
    annotations.set(entry.slice(0, eq).trim(), entry.slice(eq + 1).trim());
  }
  request.annotations = [...annotations];
  if (options.select !== undefined && options.select !== '') {
    if (!/^[A-Za-z][A-Za-z0-9]*\/[^/\s]*$/.test(options.select)) {
      throw badInput('select', options.select, 'is not Kind/name: give e.g. InferenceService/churn');
    }
    request.select = options.select;
  }
  const nothing = request.storageUri === undefined && request.images.length === 0 && request.canaryTrafficPercent === undefined && request.annotations.length === 0 && request.provenance.length === 0;
  if (nothing) throw badInput('storage-uri', '', 'is empty and nothing else was given: set storage-uri, image, canary-traffic-percent or an annotation');
  return request;
}

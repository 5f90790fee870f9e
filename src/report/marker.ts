import { badInput } from '../errors.ts';

const PART = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

/**
 * The hidden HTML comment that identifies a sticky comment or a PR body we own: `<!-- mlops-actions:<kind>:<key> -->`.
 * `kind` says what wrote it (gate, pull-request, drift); `key` tells several of one kind apart.
 */
export function marker(kind: string, key: string): string {
  if (!PART.test(kind) || kind.includes('--')) throw badInput('marker kind', kind, 'must be letters, digits, ".", "_", "/" or "-"');
  if (!PART.test(key) || key.includes('--')) throw badInput('comment-key', key, 'must be letters, digits, ".", "_", "/" or "-", like "default" or "churn/production"');
  return `<!-- mlops-actions:${kind}:${key} -->`;
}

/** True when `body` begins with the marker: a quote of our comment in someone else's reply does not match. */
export function startsWithMarker(body: string | null | undefined, kind: string, key: string): boolean {
  return (body ?? '').trimStart().startsWith(marker(kind, key));
}

/** The body with the marker as its first line. */
export function withMarker(kind: string, key: string, body: string): string {
  return `${marker(kind, key)}\n${body}`;
}

/**
 * The server's paths (DESIGN §4.7): OIP v2 REST (required_api.md) and KServe v1
 * (python/kserve/kserve/protocol/rest/v1_endpoints.py), plus `/metrics`. `template` is what metrics record.
 */
export type RouteKind =
  | 'v1-root'
  | 'server-metadata'
  | 'live'
  | 'ready'
  | 'model-metadata'
  | 'model-ready'
  | 'infer'
  | 'v1-models'
  | 'v1-model'
  | 'v1-predict'
  | 'metrics'
  | 'unknown';

export interface Route {
  kind: RouteKind;
  template: string;
  /** Methods the route answers (HEAD goes with GET). */
  methods: readonly string[];
  /** Model name and version from the path, percent-decoded. */
  name?: string;
  version?: string;
}

const GET = ['GET', 'HEAD'] as const;
const POST = ['POST'] as const;

const FIXED: Record<string, Route> = {
  '/': { kind: 'v1-root', template: '/', methods: GET },
  '/v2': { kind: 'server-metadata', template: '/v2', methods: GET },
  '/v2/': { kind: 'server-metadata', template: '/v2', methods: GET },
  '/v2/health/live': { kind: 'live', template: '/v2/health/live', methods: GET },
  '/v2/health/ready': { kind: 'ready', template: '/v2/health/ready', methods: GET },
  '/v1/models': { kind: 'v1-models', template: '/v1/models', methods: GET },
  '/metrics': { kind: 'metrics', template: '/metrics', methods: GET },
};

const UNKNOWN: Route = { kind: 'unknown', template: 'unknown', methods: [] };

/** Thrown for a path segment that is not valid percent-encoding: the server answers 400. */
export class BadPath extends Error {
  override name = 'BadPath';
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadPath(`path: ${JSON.stringify(segment.slice(0, 60))} is not valid percent-encoding`);
  }
}

/** Resolves the path part of a request URL (no query) to a route. */
export function matchRoute(path: string): Route {
  const fixed = FIXED[path];
  if (fixed) return fixed;
  const parts = path.split('/');
  // ['', 'v2', 'models', name, ...rest]
  if (parts[1] === 'v2' && parts[2] === 'models' && parts.length >= 4 && parts[3] !== '') {
    const name = decode(parts[3]!);
    let rest = parts.slice(4);
    let version: string | undefined;
    let template = '/v2/models/{name}';
    if (rest[0] === 'versions' && rest.length >= 2 && rest[1] !== '') {
      version = decode(rest[1]!);
      template += '/versions/{version}';
      rest = rest.slice(2);
    }
    const at = { name, ...(version !== undefined ? { version } : {}) };
    if (rest.length === 0) return { kind: 'model-metadata', template, methods: GET, ...at };
    if (rest.length === 1 && rest[0] === 'ready') return { kind: 'model-ready', template: `${template}/ready`, methods: GET, ...at };
    if (rest.length === 1 && rest[0] === 'infer') return { kind: 'infer', template: `${template}/infer`, methods: POST, ...at };
    return UNKNOWN;
  }
  if (parts[1] === 'v1' && parts[2] === 'models' && parts.length === 4 && parts[3] !== '') {
    const segment = parts[3]!;
    const colon = segment.lastIndexOf(':');
    if (colon > 0 && segment.slice(colon + 1) === 'predict') return { kind: 'v1-predict', template: '/v1/models/{name}:predict', methods: POST, name: decode(segment.slice(0, colon)) };
    if (colon >= 0) return UNKNOWN;
    return { kind: 'v1-model', template: '/v1/models/{name}', methods: GET, name: decode(segment) };
  }
  return UNKNOWN;
}

// Path → route for the OIP v2 and KServe v1 endpoints (src/serve/routes.ts): names and versions percent-decoded,
// metrics keyed by the route's template, everything else unknown.
import { describe, expect, it } from 'vitest';
import { BadPath, matchRoute } from '../../../src/serve/routes.ts';

describe('matchRoute', () => {
  it.each([
    ['/', 'v1-root', '/', undefined, undefined],
    ['/v2', 'server-metadata', '/v2', undefined, undefined],
    ['/v2/', 'server-metadata', '/v2', undefined, undefined],
    ['/v2/health/live', 'live', '/v2/health/live', undefined, undefined],
    ['/v2/health/ready', 'ready', '/v2/health/ready', undefined, undefined],
    ['/v2/models/churn', 'model-metadata', '/v2/models/{name}', 'churn', undefined],
    ['/v2/models/churn/ready', 'model-ready', '/v2/models/{name}/ready', 'churn', undefined],
    ['/v2/models/churn/infer', 'infer', '/v2/models/{name}/infer', 'churn', undefined],
    ['/v2/models/churn/versions/sha256-0123456789abcdef', 'model-metadata', '/v2/models/{name}/versions/{version}', 'churn', 'sha256-0123456789abcdef'],
    ['/v2/models/churn/versions/v1/ready', 'model-ready', '/v2/models/{name}/versions/{version}/ready', 'churn', 'v1'],
    ['/v2/models/churn/versions/v1/infer', 'infer', '/v2/models/{name}/versions/{version}/infer', 'churn', 'v1'],
    ['/v2/models/a%20b/infer', 'infer', '/v2/models/{name}/infer', 'a b', undefined],
    ['/v1/models', 'v1-models', '/v1/models', undefined, undefined],
    ['/v1/models/churn', 'v1-model', '/v1/models/{name}', 'churn', undefined],
    ['/v1/models/churn:predict', 'v1-predict', '/v1/models/{name}:predict', 'churn', undefined],
    ['/v1/models/my.model-2:predict', 'v1-predict', '/v1/models/{name}:predict', 'my.model-2', undefined],
    ['/metrics', 'metrics', '/metrics', undefined, undefined],
  ])('%s → %s', (path, kind, template, name, version) => {
    const route = matchRoute(path);
    expect(route.kind).toBe(kind);
    expect(route.template).toBe(template);
    expect(route.name).toBe(name);
    expect(route.version).toBe(version);
  });

  it.each(['/v3', '/v2/models', '/v2/models/', '/v2/models/churn/versions/', '/v2/models/churn/explain', '/v2/models/churn/infer/x', '/v1/models/churn:explain', '/v1/models/churn/x', '/v1/models/:predict', '/metrics/x', ''])(
    '%j is unknown',
    (path) => {
      expect(matchRoute(path)).toMatchObject({ kind: 'unknown', template: 'unknown' });
    },
  );

  it('refuses a segment that is not valid percent-encoding', () => {
    expect(() => matchRoute('/v2/models/%E0%A4%A/ready')).toThrow(BadPath);
  });
});

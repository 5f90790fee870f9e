import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeEndpoint } from '../../../src/rollout/endpoint.ts';
import { requestFromSignature } from '../../../src/rollout/sample.ts';
import { startOipServer, type OipServer } from '../../helpers/oip-server.ts';

/** One probe of a model server, in both protocols, and what it makes of answers a real server could send. */

let oip: OipServer;
beforeAll(async () => {
  oip = await startOipServer({ name: 'churn', inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3] }] });
});
afterAll(() => oip.close());

const request = requestFromSignature({ inputs: [{ name: 'input', dtype: 'float32', shape: [-1, 3] }], outputs: [{ name: 'label', dtype: 'int64', shape: [-1] }] }, 'the card');

describe('probeEndpoint', () => {
  it('KServe v1: ready, then one :predict with instances answered with as many predictions', async () => {
    oip.requests.length = 0;
    const probe = await probeEndpoint({ url: oip.url, model: 'churn', protocol: 'v1' }, { requireVersion: false, request });
    expect(probe).toMatchObject({ reached: true, checks: [{ name: 'endpoint', ok: true, detail: '/v1/models/churn is ready (v1)' }, { name: 'inference', ok: true }] });
    expect(oip.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/models/churn', 'POST /v1/models/churn:predict']);
    expect(oip.requests[1]?.body).toEqual({ instances: [[0, 0, 0]] });
    const without = await probeEndpoint({ url: oip.url, model: 'churn', protocol: 'v1' }, { requireVersion: false });
    expect(without.reached && without.checks[1]?.detail).toBe('no sample: the v1 protocol has no metadata to build one from; give the model card or a sample');
  });

  it('v2: a model the server does not know is a 404 in its words; a runtime\'s own version is accepted unless it is another sha256- version', async () => {
    const missing = await probeEndpoint({ url: oip.url, model: 'fraud', protocol: 'v2' }, { requireVersion: false });
    expect(missing.reached && missing.checks[0]?.detail).toBe('GET /v2/models/fraud/ready answered 404: {"error":"Model with name fraud does not exist."}');
    oip.version = '1';
    try {
      const runtime = await probeEndpoint({ url: oip.url, model: 'churn', protocol: 'v2' }, { version: 'sha256-1111111111111111', requireVersion: false, request });
      expect(runtime.reached && runtime.checks.map((c) => c.ok)).toEqual([true, true]);
      expect(runtime.reached && runtime.checks[0]?.detail).toBe("ready (the runtime reports version 1; the pods' source URI identifies the model)");
      oip.version = 'sha256-0000000000000000';
      const other = await probeEndpoint({ url: oip.url, model: 'churn', protocol: 'v2' }, { version: 'sha256-1111111111111111', requireVersion: false, request });
      expect(other.reached && other.checks[0]).toEqual({ name: 'endpoint', ok: false, detail: 'ready, but serves version sha256-0000000000000000, not sha256-1111111111111111' });
    } finally {
      oip.version = undefined;
    }
  });

  it('reads at most 1 MiB of a body, follows no redirect, and calls a refused connection unreached', async () => {
    const hostile = createServer((req, res) => {
      if (req.url?.endsWith('/ready')) return res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('x'.repeat(5 << 20));
    });
    await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
    try {
      const redirected = await probeEndpoint({ url, model: 'churn', protocol: 'v2' }, { requireVersion: false });
      expect(redirected.reached).toBe(false);
      const big = await probeEndpoint({ url, model: 'churn', protocol: 'v1' }, { requireVersion: false });
      expect(big.reached && big.checks[0]?.detail).toMatch(/^GET \/v1\/models\/churn answered 500: x{197}\.\.\.$/);
    } finally {
      hostile.closeAllConnections();
      await new Promise((r) => hostile.close(r));
    }
    // A port nothing listens on (taken, then freed).
    const port = await new Promise<number>((resolve) => {
      const s = createNetServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const refused = await probeEndpoint({ url: `http://127.0.0.1:${port}`, model: 'churn', protocol: 'v2' }, { requireVersion: false });
    expect(refused).toMatchObject({ reached: false, error: expect.stringMatching(/^GET http:\/\/127\.0\.0\.1:\d+\/v2\/models\/churn\/ready: .*ECONNREFUSED/) });
  });
});

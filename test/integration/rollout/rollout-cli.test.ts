import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import type { Logger } from '../../../src/log.ts';
import { startKubeApi, type KubeApi } from '../../helpers/kube-api.ts';
import { startOipServer, type OipServer } from '../../helpers/oip-server.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** `mlops rollout` end to end: exit codes, the --json document, --cluster none against a model server. */

const V1 = 'sha256-1111111111111111';
const V0 = 'sha256-0000000000000000';

let oip: OipServer;
let api: KubeApi;

beforeAll(async () => {
  oip = await startOipServer({ name: 'churn', version: V1, inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }] });
  api = await startKubeApi();
});
afterAll(async () => {
  await oip.close();
  await api.close();
});

async function mlops(args: string[], env: NodeJS.ProcessEnv = {}, cwd = tempDir('rollout-cli')) {
  const out: string[] = [];
  const err: string[] = [];
  const logger: Logger = { debug() {}, info: (m) => err.push(m), notice: (m) => err.push(`notice: ${m}`), warning: (m) => err.push(`warning: ${m}`), error: (m) => err.push(`error: ${m}`) };
  const code = await main(['rollout', ...args], { out: (t) => out.push(t), logger, cwd, env: { PATH: process.env.PATH, HOME: tempDir('rollout-home'), ...env } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** A published version folder: model.json with a signature, as publish writes it. */
function versionDir(version: string, inputName = 'features'): string {
  const dir = join(tempDir('rollout-store'), 'models', 'churn', version);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'model.json'),
    JSON.stringify({
      schema: 'mlops-actions/model/v1',
      name: 'churn',
      version,
      format: 'onnx',
      files: [{ path: 'model.onnx', sha256: 'b'.repeat(64), size: 10 }],
      metrics: { accuracy: 0.9 },
      params: {},
      data: [],
      source: {},
      signature: { inputs: [{ name: inputName, dtype: 'float32', shape: [-1, 4] }], outputs: [{ name: 'label', dtype: 'int64', shape: [-1] }, { name: 'probabilities', dtype: 'float32', shape: [-1, 2] }] },
      created: '2026-11-22T10:00:00Z',
    }),
  );
  return dir;
}

describe('mlops rollout --cluster none', () => {
  it('exit 0 with the --json document when the endpoint serves the version and answers a smoke inference built from the model card', async () => {
    oip.requests.length = 0;
    const dir = versionDir(V1);
    const r = await mlops(['--cluster', 'none', '--endpoint', `${oip.url}/`, '--name', 'churn', '--storage-uri', dir, '--timeout', '10s', '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(Object.keys(json)).toEqual(['status', 'reason', 'version', 'checks', 'revision', 'timeline']);
    expect(json).toMatchObject({ status: 'serving', version: V1, revision: V1 });
    expect(json.reason).toMatch(new RegExp(`^${oip.url.replace(/[.]/g, '\\.')} serves churn ${V1}: one 1-row inference \\(the signature in churn ${V1}'s model card\\) answered label, probabilities in [0-9.]+ ms$`));
    expect(json.checks).toEqual([
      { name: 'endpoint', ok: true, detail: `ready, serving version ${V1}` },
      { name: 'inference', ok: true, detail: expect.stringMatching(/^one 1-row inference .* answered label, probabilities/) },
    ]);
    expect(oip.requests.map((q) => `${q.method} ${q.path} ${q.status}`)).toEqual(['GET /v2/models/churn/ready 200', 'GET /v2/models/churn 200', 'POST /v2/models/churn/infer 200']);
    expect(oip.requests[2]?.body).toEqual({ id: 'mlops-rollout-smoke', inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] }] });
  });

  it('exit 1 (timeout) when the endpoint serves another version, with the reason', async () => {
    const r = await mlops(['--cluster', 'none', '--endpoint', oip.url, '--name', 'churn', '--storage-uri', `s3://models/models/churn/${V0}/`, '--timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.out.split('\n')[0]).toBe(`timeout: not serving after 1 s: endpoint: ready, but serves version ${V1}, not ${V0}`);
  });

  it('waits for a server that is not ready yet, and uses the sample file as given', async () => {
    oip.ready = false;
    oip.requests.length = 0;
    setTimeout(() => (oip.ready = true), 600);
    const cwd = tempDir('rollout-sample');
    writeFileSync(join(cwd, 'sample.json'), JSON.stringify({ inputs: [{ name: 'features', shape: [2, 4], datatype: 'FP32', data: [[1, 2, 3, 4], [-1, -2, -3, -4]] }] }));
    const r = await mlops(['--cluster', 'none', '--endpoint', oip.url, '--name', 'churn', '--storage-uri', `s3://models/models/churn/${V1}/`, '--sample', 'sample.json', '--timeout', '20s', '--json'], {}, cwd);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.timeline.map((e: { subject: string; change: string }) => `${e.subject}: ${e.change}`)).toContain('check endpoint: does not hold: GET /v2/models/churn/ready answered 503: {"error":"Model with name churn is not ready."}');
    expect(json.checks[1].detail).toMatch(/^one 2-row inference \(sample\.json\) answered label, probabilities/);
    expect(oip.requests.at(-1)?.body).toMatchObject({ inputs: [{ name: 'features', shape: [2, 4], data: [1, 2, 3, 4, -1, -2, -3, -4] }] });
  });

  it('exit 1 when the smoke inference is refused, with the server\'s words', async () => {
    oip.inferError = { status: 400, error: 'Input features: expected FP32 values, got NaN' };
    try {
      const r = await mlops(['--cluster', 'none', '--endpoint', oip.url, '--name', 'churn', '--storage-uri', versionDir(V1), '--timeout', '1s']);
      expect(r.code).toBe(1);
      expect(r.out.split('\n')[0]).toBe('timeout: not serving after 1 s: inference: POST /v2/models/churn/infer answered 400: {"error":"Input features: expected FP32 values, got NaN"}');
    } finally {
      oip.inferError = undefined;
    }
  });

  it('exit 3 when nothing answers at the endpoint by the deadline', async () => {
    const port = await freePort();
    const r = await mlops(['--cluster', 'none', '--endpoint', `http://127.0.0.1:${port}`, '--name', 'churn', '--storage-uri', `s3://m/models/churn/${V1}/`, '--timeout', '1s']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(new RegExp(`^error: mlops rollout: cannot reach http://127.0.0.1:${port} within 1 s: GET http://127.0.0.1:${port}/v2/models/churn/ready: .*ECONNREFUSED`, 'm'));
    expect(r.out).toBe('');
  });

  it('exit 2, before any request, on bad input', async () => {
    oip.requests.length = 0;
    const cases: [string[], string][] = [
      [['--cluster', 'none', '--name', 'churn', '--storage-uri', `s3://m/models/churn/${V1}/`], 'endpoint: "" is required with cluster: none'],
      [['--cluster', 'none', '--endpoint', oip.url, '--name', 'churn', '--storage-uri', 's3://m/models/churn/latest/'], 'storage-uri: "s3://m/models/churn/latest/" names no published version'],
      [['--cluster', 'none', '--endpoint', 'ftp://x', '--name', 'churn', '--storage-uri', `s3://m/models/churn/${V1}/`], 'endpoint: "ftp://x" must be an http:// or https:// URL'],
      [['--cluster', 'none', '--endpoint', oip.url, '--name', 'churn', '--storage-uri', `s3://m/models/churn/${V1}/`, '--timeout', 'soon'], 'timeout: "soon" is not a duration'],
      [['--cluster', 'nowhere', '--name', 'churn'], 'cluster: "nowhere" must be one of kubernetes, none'],
      [['--namespace', 'ML', '--name', 'churn', '--storage-uri', `s3://m/models/churn/${V1}/`], 'namespace: "ML" is not a Kubernetes name'],
      [['--namespace', 'ml', '--name', 'churn', '--storage-uri', `s3://m/models/churn/${V1}/`, '--application', 'churn-production'], 'revision: "" is required with application'],
      [['--namespace', 'ml', '--name', 'churn', '--storage-uri', `s3://m/models/churn/${V1}/`, '--on-failure', 'revert-pr'], 'repository: "" is required with --on-failure revert-pr'],
    ];
    for (const [args, message] of cases) {
      const r = await mlops(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toContain(`error: mlops rollout: ${message}`);
    }
    expect(oip.requests).toEqual([]);
  });
});

describe('mlops rollout on a cluster', () => {
  it('no kubeconfig anywhere is exit 2, and nothing is asked of localhost:8080', async () => {
    // Anything that connects to localhost:8080 is seen here (if the port is free to take on this machine).
    const seen: string[] = [];
    const listener: Server | undefined = await new Promise((resolve) => {
      const server = createHttpServer((req, res) => {
        seen.push(`${req.method} ${req.url}`);
        res.end();
      });
      server.on('connection', () => seen.push('connection'));
      server.once('error', () => resolve(undefined));
      server.listen(8080, '127.0.0.1', () => resolve(server));
    });
    try {
      const r = await mlops(['--namespace', 'ml', '--name', 'churn', '--storage-uri', `s3://m/models/churn/${V1}/`, '--timeout', '5s']);
      expect(r.code).toBe(2);
      expect(r.err).toContain("error: mlops rollout: kubeconfig: \"\" is not set and no cluster configuration was found (KUBECONFIG, ~/.kube/config, in-cluster service account): give a kubeconfig file; the client's fallback to http://localhost:8080 is refused");
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toEqual([]);
    } finally {
      await new Promise((r) => (listener ? listener.close(r) : r(undefined)));
    }
  });

  it('an unreachable API is exit 3 naming the server', async () => {
    const port = await freePort();
    const kubeconfig = api.writeKubeconfig(join(tempDir('rollout-kc'), 'config'), { server: `https://127.0.0.1:${port}` });
    const started = Date.now();
    const r = await mlops(['--namespace', 'ml', '--name', 'churn', '--storage-uri', `s3://m/models/churn/${V1}/`, '--kubeconfig', kubeconfig, '--timeout', '2m']);
    expect(r.code).toBe(3);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.err).toMatch(new RegExp(`error: mlops rollout: GET /apis?/.*: cannot reach the Kubernetes API at https://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });

  it('KUBECONFIG is used; a timeout is exit 1 with the --json document saying why', async () => {
    const r = await mlops(['--namespace', 'ml', '--name', 'churn', '--storage-uri', `s3://m/models/churn/${V1}/`, '--timeout', '1s', '--json'], { KUBECONFIG: api.kubeconfigPath });
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out);
    expect(json).toMatchObject({ status: 'timeout', reason: 'not serving after 1 s: spec: InferenceService ml/churn does not exist', version: V1, revision: null });
    expect(json.checks.map((c: { name: string }) => c.name)).toEqual(['spec', 'endpoint', 'inference']);
    expect(api.requests.some((q) => q.path === '/apis/serving.kserve.io/v1beta1/namespaces/ml/inferenceservices' && q.query.get('fieldSelector') === 'metadata.name=churn')).toBe(true);
    expect(api.violations).toEqual([]);
  });
});

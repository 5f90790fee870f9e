/**
 * An in-process stand-in for GitHub's artifact service (the v4 protocol @actions/artifact 2+ speaks):
 * Twirp JSON calls `CreateArtifact` / `FinalizeArtifact` on ACTIONS_RESULTS_URL, and the Azure Blob
 * block upload (`comp=block`, then `comp=blocklist`) to the signed URL CreateArtifact hands out.
 * Requests are checked for the fields the real service requires, so a protocol slip fails the test.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredArtifact {
  id: number;
  name: string;
  /** The uploaded zip. */
  content: Buffer;
  finalized: boolean;
  size?: number;
  hash?: string;
}

export interface ArtifactService {
  url: string;
  /** Environment for a process using @actions/artifact against this service. */
  env: Record<string, string>;
  artifacts: Map<string, StoredArtifact>;
  /** Every request as `METHOD path`, for assertions. */
  requests: string[];
  close(): Promise<void>;
}

const TWIRP = '/twirp/github.actions.results.api.v1.ArtifactService/';
const RUN_ID = '6e5c0a2b-0000-4000-8000-000000000001';
const JOB_ID = '6e5c0a2b-0000-4000-8000-000000000002';

function base64url(value: object | string): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** A JWT shaped like the runner's: @actions/artifact reads the run and job ids from its `scp` claim. */
export function runtimeToken(): string {
  return [base64url({ alg: 'none', typ: 'JWT' }), base64url({ scp: `Actions.GenericRead:x Actions.Results:${RUN_ID}:${JOB_ID}` }), base64url('sig')].join('.');
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startArtifactService(): Promise<ArtifactService> {
  const artifacts = new Map<string, StoredArtifact>();
  const blocks = new Map<string, Map<string, Buffer>>();
  const requests: string[] = [];
  let nextId = 1000;
  let base = '';

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    requests.push(`${req.method} ${url.pathname}`);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    try {
      const data = await body(req);
      if (req.method === 'POST' && url.pathname.startsWith(TWIRP)) {
        if (req.headers.authorization !== `Bearer ${runtimeToken()}`) return send(401, { code: 'unauthenticated', msg: 'bad token' });
        const call = url.pathname.slice(TWIRP.length);
        const json = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
        const runId = json.workflowRunBackendId ?? json.workflow_run_backend_id;
        const jobId = json.workflowJobRunBackendId ?? json.workflow_job_run_backend_id;
        const name = json.name;
        if (runId !== RUN_ID || jobId !== JOB_ID || typeof name !== 'string' || name === '') {
          return send(400, { code: 'invalid_argument', msg: `bad ids or name in ${call}` });
        }
        if (call === 'CreateArtifact') {
          if (json.version !== 7 && json.version !== 4) return send(400, { code: 'invalid_argument', msg: 'unsupported version' });
          if (artifacts.has(name)) return send(409, { code: 'already_exists', msg: `an artifact named ${name} already exists` });
          artifacts.set(name, { id: nextId++, name, content: Buffer.alloc(0), finalized: false });
          return send(200, { ok: true, signed_upload_url: `${base}/devstoreaccount1/artifacts/${encodeURIComponent(name)}.zip?sig=test-signature&se=2099-01-01` });
        }
        if (call === 'FinalizeArtifact') {
          const artifact = artifacts.get(name);
          if (!artifact) return send(404, { code: 'not_found', msg: 'no such artifact' });
          artifact.finalized = true;
          artifact.size = Number(json.size);
          const hash = json.hash as string | { value?: string } | undefined;
          artifact.hash = typeof hash === 'string' ? hash : hash?.value;
          return send(200, { ok: true, artifact_id: String(artifact.id) });
        }
        return send(404, { code: 'bad_route', msg: call });
      }
      if (req.method === 'PUT' && url.pathname.startsWith('/devstoreaccount1/artifacts/')) {
        if (url.searchParams.get('sig') !== 'test-signature') return send(403, undefined);
        const name = decodeURIComponent(url.pathname.slice('/devstoreaccount1/artifacts/'.length).replace(/\.zip$/, ''));
        const artifact = artifacts.get(name);
        if (!artifact) return send(404, undefined);
        const headers = { etag: '"0x1"', 'last-modified': new Date().toUTCString(), 'x-ms-request-id': String(requests.length), 'x-ms-version': '2024-11-04' };
        const comp = url.searchParams.get('comp');
        if (comp === 'block') {
          const id = url.searchParams.get('blockid') ?? '';
          if (!blocks.has(name)) blocks.set(name, new Map());
          blocks.get(name)!.set(id, data);
          return send(201, undefined, headers);
        }
        if (comp === 'blocklist') {
          const ids = [...data.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\/(?:Latest|Uncommitted|Committed)>/g)].map((m) => m[1] as string);
          const staged = blocks.get(name) ?? new Map<string, Buffer>();
          const missing = ids.find((id) => !staged.has(id));
          if (missing !== undefined) return send(400, undefined);
          artifact.content = Buffer.concat(ids.map((id) => staged.get(id)!));
          return send(201, undefined, headers);
        }
        // A single-shot upload (Put Blob).
        artifact.content = data;
        return send(201, undefined, headers);
      }
      send(404, { code: 'bad_route', msg: `${req.method} ${url.pathname}` });
    } catch (error) {
      send(500, { code: 'internal', msg: (error as Error).message });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    env: { ACTIONS_RUNTIME_TOKEN: runtimeToken(), ACTIONS_RESULTS_URL: `${base}/`, GITHUB_SERVER_URL: 'https://github.com' },
    artifacts,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** sha256 of the stored zip, as FinalizeArtifact's `hash` reports it. */
export function zipDigest(artifact: StoredArtifact): string {
  return `sha256:${createHash('sha256').update(artifact.content).digest('hex')}`;
}

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An in-process GitHub REST stand-in for pull requests, on loopback so the real Octokit (with its retry and
 * throttling plugins) talks to it over HTTP. Every request is checked against @octokit/openapi: an unknown
 * path, method, query parameter or body field, or a missing required field, is answered 400 and recorded in
 * `violations`, so a wrong call fails the test.
 */

interface Operation {
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
interface Schema {
  type?: string;
  properties?: Record<string, unknown>;
  required?: string[];
  oneOf?: Schema[];
  anyOf?: Schema[];
}

const require = createRequire(import.meta.url);
let spec: { paths: Record<string, Record<string, Operation>> } | undefined;
function openapi() {
  spec ??= JSON.parse(readFileSync(require.resolve('@octokit/openapi/generated/api.github.com.deref.json'), 'utf8'));
  return spec as { paths: Record<string, Record<string, Operation>> };
}

function findOperation(method: string, path: string): { template: string; operation: Operation; params: Record<string, string> } | undefined {
  for (const [template, methods] of Object.entries(openapi().paths)) {
    const names: string[] = [];
    const pattern = new RegExp(`^${template.replace(/\{([^}]+)\}/g, (_, n: string) => (names.push(n), '([^/]+)'))}$`);
    const match = pattern.exec(path);
    const operation = methods[method.toLowerCase()];
    if (match && operation) return { template, operation, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(match[i + 1] ?? '')])) };
  }
  return undefined;
}

function checkBody(schema: Schema | undefined, body: unknown): string | undefined {
  if (!schema) return undefined;
  const options = schema.oneOf ?? schema.anyOf;
  if (options) {
    const problems = options.map((s) => checkBody(s, body));
    return problems.some((p) => p === undefined) ? undefined : problems[0];
  }
  if (schema.type === 'object' && schema.properties) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body is not an object';
    for (const key of Object.keys(body)) if (!(key in schema.properties)) return `unknown body field ${key}`;
    for (const key of schema.required ?? []) if (!(key in body)) return `missing required body field ${key}`;
  }
  if (schema.type === 'array' && !Array.isArray(body)) return 'body is not an array';
  return undefined;
}

export interface StoredPull {
  number: number;
  node_id: string;
  title: string;
  body: string | null;
  head: { ref: string; label: string };
  base: { ref: string };
  state: 'open' | 'closed';
  labels: { name: string }[];
  draft: boolean;
  auto_merge: null | { merge_method: string };
  html_url: string;
}

export interface Fault {
  method: string;
  /** Path template from the OpenAPI description, e.g. `/repos/{owner}/{repo}/pulls`. */
  template: string;
  status: number;
  headers?: Record<string, string>;
  body: unknown;
  /** Runs before answering (e.g. simulate a concurrent run creating the PR). */
  before?: () => void;
}

export interface GitHubPullsStandIn {
  url: string;
  owner: string;
  repo: string;
  pulls: StoredPull[];
  requests: { method: string; path: string; template: string; status: number; authorization?: string }[];
  violations: string[];
  graphql: { query: string; variables: Record<string, unknown> }[];
  /** Answers the next matching request with this fault instead. */
  failNext(fault: Fault): void;
  /** Creates a PR directly (as if another run or a person opened it). */
  seedPull(head: string, base: string, title: string, body: string): StoredPull;
  close(): Promise<void>;
}

export async function startGitHubPulls(options: { owner?: string; repo?: string; autoMergeAllowed?: boolean } = {}): Promise<GitHubPullsStandIn> {
  const owner = options.owner ?? 'acme';
  const repo = options.repo ?? 'gitops';
  const pulls: StoredPull[] = [];
  const faults: Fault[] = [];
  const state: GitHubPullsStandIn = {
    url: '',
    owner,
    repo,
    pulls,
    requests: [],
    violations: [],
    graphql: [],
    failNext: (fault) => faults.push(fault),
    seedPull: (head, base, title, body) => addPull(head, base, title, body, false),
    close: async () => {},
  };

  function addPull(head: string, base: string, title: string, body: string | null, draft: boolean): StoredPull {
    const number = pulls.length + 1;
    const pull: StoredPull = {
      number,
      node_id: `PR_node${number}`,
      title,
      body,
      head: { ref: head, label: `${owner}:${head}` },
      base: { ref: base },
      state: 'open',
      labels: [],
      draft,
      auto_merge: null,
      html_url: `https://github.com/${owner}/${repo}/pull/${number}`,
    };
    pulls.push(pull);
    return pull;
  }

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const body: unknown = raw ? JSON.parse(raw) : undefined;
    const record = { method, path: url.pathname, template: '', status: 0, authorization: req.headers.authorization };
    state.requests.push(record);
    const reply = (status: number, data: unknown, headers?: Record<string, string>) => {
      record.status = status;
      send(res, status, data, headers);
    };

    if (url.pathname === '/graphql' && method === 'POST') {
      record.template = '/graphql';
      const { query, variables } = body as { query: string; variables: Record<string, unknown> };
      state.graphql.push({ query, variables });
      const pull = pulls.find((p) => p.node_id === variables.pullRequestId);
      if (!options.autoMergeAllowed || !pull) {
        return reply(200, { data: null, errors: [{ type: 'UNPROCESSABLE', message: 'Pull request Auto merge is not allowed for this repository' }] });
      }
      pull.auto_merge = { merge_method: String(variables.mergeMethod).toLowerCase() };
      return reply(200, { data: { enablePullRequestAutoMerge: { pullRequest: { number: pull.number } } } });
    }

    const found = findOperation(method, url.pathname);
    if (!found) {
      state.violations.push(`${method} ${url.pathname} is not in the GitHub REST description`);
      return reply(404, { message: 'Not Found' });
    }
    record.template = found.template;
    const declared = new Set((found.operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
    for (const key of url.searchParams.keys()) {
      if (!declared.has(key)) state.violations.push(`${method} ${found.template}: unknown query parameter ${key}`);
    }
    if (body !== undefined) {
      const problem = checkBody(found.operation.requestBody?.content?.['application/json']?.schema, body);
      if (problem) {
        state.violations.push(`${method} ${found.template}: ${problem}`);
        return reply(400, { message: problem });
      }
    }
    if (found.params.owner !== owner || found.params.repo !== repo) return reply(404, { message: 'Not Found' });

    const faultIndex = faults.findIndex((f) => f.method === method && f.template === found.template);
    if (faultIndex >= 0) {
      const [fault] = faults.splice(faultIndex, 1);
      if (fault) {
        fault.before?.();
        return reply(fault.status, fault.body, fault.headers);
      }
    }

    const b = (body ?? {}) as Record<string, unknown>;
    switch (`${method} ${found.template}`) {
      case 'GET /repos/{owner}/{repo}/pulls': {
        const head = url.searchParams.get('head');
        const st = url.searchParams.get('state') ?? 'open';
        return reply(200, pulls.filter((p) => (!head || p.head.label === head) && (st === 'all' || p.state === st)));
      }
      case 'POST /repos/{owner}/{repo}/pulls': {
        const head = String(b.head);
        if (pulls.some((p) => p.state === 'open' && p.head.ref === head)) {
          return reply(422, {
            message: 'Validation Failed',
            errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${head}.` }],
            documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
          });
        }
        return reply(201, addPull(head, String(b.base), String(b.title), (b.body as string | undefined) ?? null, Boolean(b.draft)));
      }
      case 'PATCH /repos/{owner}/{repo}/pulls/{pull_number}': {
        const pull = pulls.find((p) => p.number === Number(found.params.pull_number));
        if (!pull) return reply(404, { message: 'Not Found' });
        if (typeof b.title === 'string') pull.title = b.title;
        if (typeof b.body === 'string') pull.body = b.body;
        if (typeof b.base === 'string') pull.base.ref = b.base;
        if (b.state === 'closed' || b.state === 'open') pull.state = b.state;
        return reply(200, pull);
      }
      case 'POST /repos/{owner}/{repo}/issues/{issue_number}/labels': {
        const pull = pulls.find((p) => p.number === Number(found.params.issue_number));
        if (!pull) return reply(404, { message: 'Not Found' });
        for (const name of b.labels as string[]) if (!pull.labels.some((l) => l.name === name)) pull.labels.push({ name });
        return reply(200, pull.labels);
      }
      default:
        state.violations.push(`${method} ${found.template} is valid but this stand-in does not implement it`);
        return reply(501, { message: 'not implemented in the stand-in' });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

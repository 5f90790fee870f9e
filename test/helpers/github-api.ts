/**
 * An in-process stand-in for the GitHub REST API, checked against GitHub's own OpenAPI description.
 *
 *   const api = await startGitHubApi();            // node:http on 127.0.0.1, random port
 *   const octokit = createOctokit({ token: 't', baseUrl: api.url, ... });
 *   api.state.addPullRequest('org', 'repo', { number: 7, headSha: 'abc…' });
 *   … run the code under test …
 *   expect(api.violations).toEqual([]);             // every request matched an operation and its schemas
 *   await api.close();
 *
 * Every request is matched to an operation of `@octokit/openapi` (method + path template). A request that
 * matches none gets 404 and is recorded in `violations`; path and query parameters and the JSON body are
 * validated against the operation's schemas (required fields, types, enums, no unknown top-level body
 * fields), and every problem is recorded in `violations` too (the request is still answered, so the test
 * sees the product's behaviour and then fails on the violation).
 *
 * Extending it (e.g. from test/helpers/github-pulls.ts, without editing this file):
 *
 *   api.route('POST /repos/{owner}/{repo}/pulls', (req, api) => {
 *     const repo = api.state.repo(req.params.owner!, req.params.repo!);
 *     …
 *     return { status: 201, body: pull };
 *   });
 *
 * Routes are written `METHOD <path template exactly as in the OpenAPI description>`; `route()` throws if the
 * operation does not exist, so a typo cannot go unnoticed. `api.handler(route)` returns the current handler
 * so one can wrap it. State lives in `api.state` (repos with issues, pull requests, comments, labels,
 * commit → pull request links); `api.state.nextId()` gives unique ids. Built-in routes: issue comments
 * (list, get, create, update, delete), pulls (get, list with state/head/base, create — 422 "A pull request
 * already exists" for a second open PR of one head and base — and update), commits/{sha}/pulls, issue labels
 * (add, list), issues (list with state/labels/sort, create, update: drift's sticky issue), Actions workflow
 * dispatches (404 for an unknown workflow, 422 for more than 25 or undeclared inputs, runs named by the
 * workflow's `run-name`; see `state.addWorkflow`), workflow runs (list), repository_dispatch. Routes that
 * write answer 403 when `state.permissions` lacks `issues:write`, `actions:write` or `contents:write`.
 * Override any of them with `api.route()`.
 *
 * Faults: `api.fault('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { status: 403, headers:
 * { 'retry-after': '1' }, body: { message: 'You have exceeded a secondary rate limit.' } }, 1)` answers the
 * next matching request(s) with that response instead of the handler. Helpers: `secondaryRateLimit()`,
 * `validationFailed()`.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';

export interface ApiRequest {
  method: string;
  /** The URL path as sent, e.g. `/repos/org/repo/issues/7/comments`. */
  path: string;
  /** `METHOD template`, e.g. `GET /repos/{owner}/{repo}/issues/{issue_number}/comments`. */
  route: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  headers: IncomingMessage['headers'];
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type RouteHandler = (req: ApiRequest, api: GitHubApi) => ApiResponse | Promise<ApiResponse>;

export interface User {
  login: string;
  id: number;
  type: 'Bot' | 'User';
}

export interface Comment {
  id: number;
  issue_number: number;
  body: string;
  user: User;
  created_at: string;
  updated_at: string;
}

export interface PullRequest {
  number: number;
  state: 'open' | 'closed';
  title: string;
  body: string | null;
  head: { ref: string; sha: string };
  base: { ref: string; sha: string };
  labels: string[];
  merged: boolean;
  draft: boolean;
}

export interface Issue {
  number: number;
  title: string;
  state: 'open' | 'closed';
  labels: string[];
  pull_request: boolean;
  body?: string | null;
  state_reason?: string | null;
  updated_at?: string;
}

/** A workflow file the Actions routes know: its workflow_dispatch inputs and its `run-name` template. */
export interface Workflow {
  id: number;
  /** The file name, e.g. retrain.yml (what `workflow_id` may be). */
  file: string;
  /** Declared workflow_dispatch inputs; `required` ones must be sent. */
  inputs: Record<string, { required?: boolean }>;
  /** `run-name`, with `${{ inputs.<name> }}` replaced by the dispatch's inputs. */
  runName?: string;
}

export interface WorkflowRun {
  id: number;
  workflow_id: number;
  event: string;
  display_title: string;
  head_branch: string;
  inputs: Record<string, unknown>;
  created_at: string;
}

export interface RepoState {
  owner: string;
  name: string;
  issues: Map<number, Issue>;
  pulls: Map<number, PullRequest>;
  comments: Map<number, Comment>;
  /** commit sha → pull request numbers whose history holds it (what GET commits/{sha}/pulls answers). */
  commitPulls: Map<string, number[]>;
  workflows: Map<string, Workflow>;
  runs: WorkflowRun[];
  /** repository_dispatch events received. */
  dispatches: { event_type: string; client_payload: Record<string, unknown> }[];
}

export class GitHubState {
  private id = 1000;
  private readonly repos = new Map<string, RepoState>();
  /** Who the token authenticates as; comments are created as this user. */
  actor: User = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' };
  /**
   * What the token may do, as GitHub App / GITHUB_TOKEN permissions (`actions:write`, `contents:write`,
   * `issues:write`); undefined grants everything. A route that needs a missing one answers 403.
   */
  permissions: Set<string> | undefined = undefined;
  /** A clock the tests may move, so timestamps are deterministic. */
  now = () => new Date('2026-11-22T10:00:00Z');

  nextId(): number {
    return ++this.id;
  }

  repo(owner: string, name: string): RepoState {
    const key = `${owner}/${name}`.toLowerCase();
    let repo = this.repos.get(key);
    if (!repo) {
      repo = { owner, name, issues: new Map(), pulls: new Map(), comments: new Map(), commitPulls: new Map(), workflows: new Map(), runs: [], dispatches: [] };
      this.repos.set(key, repo);
    }
    return repo;
  }

  /** Issue and pull request numbers share one sequence per repository, as on GitHub. */
  nextNumber(repo: RepoState): number {
    return Math.max(0, ...repo.issues.keys()) + 1;
  }

  addPullRequest(
    owner: string,
    name: string,
    pr: Partial<Omit<PullRequest, 'head' | 'base'>> & { headSha?: string; headRef?: string; baseRef?: string },
  ): PullRequest {
    const repo = this.repo(owner, name);
    const number = pr.number ?? this.nextNumber(repo);
    const pull: PullRequest = {
      number,
      state: pr.state ?? 'open',
      title: pr.title ?? `Pull request ${number}`,
      body: pr.body ?? null,
      head: { ref: pr.headRef ?? `feature-${number}`, sha: pr.headSha ?? fakeSha(number) },
      base: { ref: pr.baseRef ?? 'main', sha: fakeSha(number + 1_000_000) },
      labels: pr.labels ?? [],
      merged: pr.merged ?? false,
      draft: pr.draft ?? false,
    };
    repo.pulls.set(number, pull);
    repo.issues.set(number, { number, title: pull.title, state: pull.state, labels: pull.labels, pull_request: true });
    const linked = repo.commitPulls.get(pull.head.sha) ?? [];
    repo.commitPulls.set(pull.head.sha, [...linked, number]);
    return pull;
  }

  addIssue(owner: string, name: string, title = 'An issue'): Issue {
    const repo = this.repo(owner, name);
    const issue: Issue = { number: this.nextNumber(repo), title, state: 'open', labels: [], pull_request: false };
    repo.issues.set(issue.number, issue);
    return issue;
  }

  addWorkflow(owner: string, name: string, workflow: Omit<Workflow, 'id'>): Workflow {
    const w: Workflow = { id: this.nextId(), ...workflow };
    this.repo(owner, name).workflows.set(w.file, w);
    return w;
  }

  /** The token lacks `permission`: the 403 GitHub sends for a GITHUB_TOKEN without it. */
  denies(permission: string): boolean {
    return this.permissions !== undefined && !this.permissions.has(permission);
  }

  addComment(owner: string, name: string, issueNumber: number, body: string, user: User = this.actor): Comment {
    const repo = this.repo(owner, name);
    const at = this.now().toISOString();
    const comment: Comment = { id: this.nextId(), issue_number: issueNumber, body, user, created_at: at, updated_at: at };
    repo.comments.set(comment.id, comment);
    return comment;
  }

  /** The comments of one issue or pull request, oldest first. */
  commentsOn(owner: string, name: string, issueNumber: number): Comment[] {
    return [...this.repo(owner, name).comments.values()].filter((c) => c.issue_number === issueNumber).sort((a, b) => a.id - b.id);
  }
}

export interface GitHubApi {
  url: string;
  state: GitHubState;
  /** Every request received, in order. */
  requests: ApiRequest[];
  /** Requests that do not fit GitHub's OpenAPI description; a test should end with this empty. */
  violations: string[];
  route(route: string, handler: RouteHandler): void;
  handler(route: string): RouteHandler | undefined;
  fault(route: string, response: ApiResponse, times?: number): void;
  /** The requests to one route. */
  calls(route: string): ApiRequest[];
  close(): Promise<void>;
}

// ---------------------------------------------------------------- OpenAPI description and validation

type Schema = Record<string, unknown>;

interface Operation {
  method: string;
  template: string;
  regex: RegExp;
  names: string[];
  parameters: Schema[];
  body?: { required: boolean; schema?: Schema };
  /** Status codes the description declares. */
  statuses: string[];
}

let operationsCache: Operation[] | undefined;
let specCache: Schema | undefined;

function spec(): Schema {
  if (!specCache) {
    const require = createRequire(import.meta.url);
    const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
    specCache = JSON.parse(readFileSync(file, 'utf8')) as Schema;
  }
  return specCache;
}

function operations(): Operation[] {
  if (operationsCache) return operationsCache;
  const ops: Operation[] = [];
  const paths = spec().paths as Record<string, Record<string, Schema>>;
  for (const [template, item] of Object.entries(paths)) {
    const shared = ((item.parameters as unknown as Schema[] | undefined) ?? []).map(deref);
    const names = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    const regex = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '([^/]+)')}$`);
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete', 'head'].includes(method)) continue;
      const own = ((op.parameters as Schema[] | undefined) ?? []).map(deref);
      const byKey = new Map<string, Schema>();
      for (const p of [...shared, ...own]) byKey.set(`${p.in}:${p.name}`, p);
      const requestBody = op.requestBody ? deref(op.requestBody as Schema) : undefined;
      const content = requestBody?.content as Record<string, { schema?: Schema }> | undefined;
      const json = content?.['application/json'] ?? (content ? Object.values(content)[0] : undefined);
      ops.push({
        method: method.toUpperCase(),
        template,
        regex,
        names,
        parameters: [...byKey.values()],
        statuses: Object.keys((op.responses as Record<string, unknown> | undefined) ?? {}),
        ...(requestBody && { body: { required: requestBody.required === true, ...(json?.schema && { schema: json.schema }) } }),
      });
    }
  }
  // Literal segments win over parameters: /issues/comments before /issues/{issue_number}.
  ops.sort((a, b) => a.names.length - b.names.length);
  operationsCache = ops;
  return ops;
}

function deref(node: Schema): Schema {
  let current = node;
  for (let i = 0; i < 20 && typeof current.$ref === 'string'; i++) {
    const ref = current.$ref as string;
    let target: unknown = spec();
    for (const part of ref.replace(/^#\//, '').split('/')) target = (target as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (!target) throw new Error(`unresolvable $ref ${ref}`);
    current = target as Schema;
  }
  return current;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/**
 * A JSON Schema validator for the subset GitHub's description uses in request bodies and parameters:
 * type (one or several), nullable, enum, required, properties, additionalProperties: false, items,
 * oneOf/anyOf (at least one branch), allOf, minimum/maximum, minItems, maxLength.
 */
export function validateSchema(schemaIn: Schema, value: unknown, at: string, errors: string[]): void {
  const schema = deref(schemaIn);
  if (value === null && (schema.nullable === true || (Array.isArray(schema.type) && schema.type.includes('null')))) return;
  for (const key of ['oneOf', 'anyOf'] as const) {
    const branches = schema[key] as Schema[] | undefined;
    if (branches) {
      const ok = branches.some((b) => {
        const e: string[] = [];
        validateSchema(b, value, at, e);
        return e.length === 0;
      });
      if (!ok) errors.push(`${at}: ${JSON.stringify(value)?.slice(0, 80)} matches none of the ${key} alternatives`);
    }
  }
  for (const part of (schema.allOf as Schema[] | undefined) ?? []) validateSchema(part, value, at, errors);
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
  if (types.length > 0) {
    const actual = typeOf(value);
    const fits = types.some((t) => t === actual || (t === 'number' && actual === 'integer'));
    if (!fits) {
      errors.push(`${at}: expected ${types.join(' or ')}, got ${actual} ${JSON.stringify(value)?.slice(0, 80)}`);
      return;
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${at}: ${value} is below the minimum ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(`${at}: ${value} is above the maximum ${schema.maximum}`);
  }
  if (typeof value === 'string' && typeof schema.maxLength === 'number' && value.length > schema.maxLength) errors.push(`${at}: longer than ${schema.maxLength}`);
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) errors.push(`${at}: fewer than ${schema.minItems} items`);
    if (schema.items) value.forEach((item, i) => validateSchema(schema.items as Schema, item, `${at}[${i}]`, errors));
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const name of (schema.required as string[] | undefined) ?? []) {
      if (!(name in object)) errors.push(`${at}: missing required field "${name}"`);
    }
    for (const [name, v] of Object.entries(object)) {
      if (properties[name]) validateSchema(properties[name], v, `${at}.${name}`, errors);
      else if (schema.additionalProperties === false) errors.push(`${at}: unknown field "${name}"`);
    }
  }
}

/** Validates a request against its operation; returns the problems. */
function validateRequest(op: Operation, req: ApiRequest): string[] {
  const errors: string[] = [];
  const label = req.route;
  for (const p of op.parameters) {
    const name = p.name as string;
    const schema = (p.schema as Schema | undefined) ?? {};
    if (p.in === 'path') {
      validateSchema(schema, coerce(schema, req.params[name] ?? ''), `${label} path parameter ${name}`, errors);
    } else if (p.in === 'query') {
      const values = req.query.getAll(name);
      if (values.length === 0 && p.required === true) errors.push(`${label}: missing required query parameter ${name}`);
      for (const v of values) validateSchema(schema, coerce(schema, v), `${label} query parameter ${name}`, errors);
    }
  }
  const knownQuery = new Set(op.parameters.filter((p) => p.in === 'query').map((p) => p.name as string));
  for (const name of new Set(req.query.keys())) {
    if (!knownQuery.has(name)) errors.push(`${label}: unknown query parameter ${name}`);
  }
  if (req.body !== undefined && !op.body) errors.push(`${label}: takes no request body, got ${JSON.stringify(req.body).slice(0, 80)}`);
  if (req.body === undefined && op.body?.required) errors.push(`${label}: request body is required`);
  if (req.body !== undefined && op.body?.schema) {
    const schema = deref(op.body.schema);
    validateSchema(schema, req.body, `${label} body`, errors);
    const properties = schema.properties as Record<string, unknown> | undefined;
    if (properties && typeOf(req.body) === 'object' && schema.additionalProperties !== false) {
      for (const name of Object.keys(req.body as object)) {
        if (!(name in properties)) errors.push(`${label} body: unknown field "${name}"`);
      }
    }
  }
  return errors;
}

function coerce(schemaIn: Schema, raw: string): unknown {
  const schema = deref(schemaIn);
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string | undefined];
  if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (types.includes('boolean') && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

// ---------------------------------------------------------------- built-in routes

const ISSUE_COMMENTS = '/repos/{owner}/{repo}/issues/{issue_number}/comments';
const COMMENT = '/repos/{owner}/{repo}/issues/comments/{comment_id}';

function fakeSha(n: number): string {
  return n.toString(16).padStart(40, '0');
}

function notFound(): ApiResponse {
  return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' } };
}

/** 403 as GitHub sends it when a secondary rate limit is hit. */
export function secondaryRateLimit(retryAfterSeconds = 1): ApiResponse {
  return {
    status: 403,
    headers: { 'retry-after': String(retryAfterSeconds) },
    body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits', status: '403' },
  };
}

/** 422 with GitHub's error shape, e.g. validationFailed('A pull request already exists for org:branch.'). */
export function validationFailed(message: string): ApiResponse {
  return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message }], documentation_url: 'https://docs.github.com/rest', status: '422' } };
}

export function commentJson(api: GitHubApi, repo: RepoState, c: Comment): Record<string, unknown> {
  const base = `${api.url}/repos/${repo.owner}/${repo.name}`;
  return {
    id: c.id,
    node_id: `IC_${c.id}`,
    url: `${base}/issues/comments/${c.id}`,
    html_url: `https://github.com/${repo.owner}/${repo.name}/pull/${c.issue_number}#issuecomment-${c.id}`,
    issue_url: `${base}/issues/${c.issue_number}`,
    body: c.body,
    user: { login: c.user.login, id: c.user.id, type: c.user.type },
    created_at: c.created_at,
    updated_at: c.updated_at,
    author_association: 'NONE',
  };
}

export function pullJson(api: GitHubApi, repo: RepoState, p: PullRequest): Record<string, unknown> {
  return {
    id: 5_000_000 + p.number,
    number: p.number,
    node_id: `PR_${p.number}`,
    url: `${api.url}/repos/${repo.owner}/${repo.name}/pulls/${p.number}`,
    html_url: `https://github.com/${repo.owner}/${repo.name}/pull/${p.number}`,
    state: p.state,
    title: p.title,
    body: p.body,
    draft: p.draft,
    merged: p.merged,
    labels: p.labels.map((name, i) => ({ id: i + 1, name })),
    head: { ref: p.head.ref, sha: p.head.sha, label: `${repo.owner}:${p.head.ref}` },
    base: { ref: p.base.ref, sha: p.base.sha, label: `${repo.owner}:${p.base.ref}` },
  };
}

/** Slices `items` by `page`/`per_page` and sets a Link header like GitHub's. */
export function paginate(api: GitHubApi, req: ApiRequest, items: unknown[]): ApiResponse {
  const perPage = Math.min(100, Number(req.query.get('per_page') ?? 30));
  const page = Math.max(1, Number(req.query.get('page') ?? 1));
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const headers: Record<string, string> = {};
  const at = (n: number) => {
    const q = new URLSearchParams(req.query);
    q.set('page', String(n));
    q.set('per_page', String(perPage));
    return `<${api.url}${req.path}?${q}>`;
  };
  const links: string[] = [];
  if (page < last) links.push(`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`);
  if (page > 1) links.push(`${at(1)}; rel="first"`, `${at(page - 1)}; rel="prev"`);
  if (links.length > 0) headers.link = links.join(', ');
  return { status: 200, body: items.slice((page - 1) * perPage, page * perPage), headers };
}

function builtInRoutes(): Record<string, RouteHandler> {
  return {
    [`GET ${ISSUE_COMMENTS}`]: (req, api) => {
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      const number = Number(req.params.issue_number);
      if (!repo.issues.has(number)) return notFound();
      return paginate(api, req, api.state.commentsOn(repo.owner, repo.name, number).map((c) => commentJson(api, repo, c)));
    },
    [`POST ${ISSUE_COMMENTS}`]: (req, api) => {
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      const number = Number(req.params.issue_number);
      if (!repo.issues.has(number)) return notFound();
      const c = api.state.addComment(repo.owner, repo.name, number, String((req.body as { body: string }).body));
      return { status: 201, body: commentJson(api, repo, c), headers: { location: `${api.url}/repos/${repo.owner}/${repo.name}/issues/comments/${c.id}` } };
    },
    [`GET ${COMMENT}`]: (req, api) => {
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      const c = repo.comments.get(Number(req.params.comment_id));
      return c ? { status: 200, body: commentJson(api, repo, c) } : notFound();
    },
    [`PATCH ${COMMENT}`]: (req, api) => {
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      const c = repo.comments.get(Number(req.params.comment_id));
      if (!c) return notFound();
      c.body = String((req.body as { body: string }).body);
      c.updated_at = api.state.now().toISOString();
      return { status: 200, body: commentJson(api, repo, c) };
    },
    [`DELETE ${COMMENT}`]: (req, api) => {
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      return repo.comments.delete(Number(req.params.comment_id)) ? { status: 204 } : notFound();
    },
    'GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls': (req, api) => {
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      const numbers = repo.commitPulls.get(req.params.commit_sha!) ?? [];
      return paginate(api, req, numbers.map((n) => pullJson(api, repo, repo.pulls.get(n)!)));
    },
    'GET /repos/{owner}/{repo}/pulls/{pull_number}': (req, api) => {
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      const p = repo.pulls.get(Number(req.params.pull_number));
      return p ? { status: 200, body: pullJson(api, repo, p) } : notFound();
    },
    'GET /repos/{owner}/{repo}/pulls': (req, api) => {
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      const state = req.query.get('state') ?? 'open';
      const head = req.query.get('head');
      const base = req.query.get('base');
      const pulls = [...repo.pulls.values()]
        .filter((p) => state === 'all' || p.state === state)
        .filter((p) => !head || `${repo.owner}:${p.head.ref}` === head)
        .filter((p) => !base || p.base.ref === base)
        .sort((a, b) => b.number - a.number);
      return paginate(api, req, pulls.map((p) => pullJson(api, repo, p)));
    },
    'POST /repos/{owner}/{repo}/pulls': (req, api) => {
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      const body = req.body as { title?: string; head: string; base: string; body?: string; draft?: boolean };
      const headRef = body.head.includes(':') ? body.head.slice(body.head.indexOf(':') + 1) : body.head;
      const open = [...repo.pulls.values()].find((p) => p.state === 'open' && p.head.ref === headRef && p.base.ref === body.base);
      if (open) return validationFailed(`A pull request already exists for ${repo.owner}:${headRef}.`);
      const pull = api.state.addPullRequest(repo.owner, repo.name, {
        title: body.title ?? headRef,
        body: body.body ?? null,
        draft: body.draft ?? false,
        headRef,
        baseRef: body.base,
        headSha: fakeSha(api.state.nextId()),
      });
      return { status: 201, body: pullJson(api, repo, pull) };
    },
    'PATCH /repos/{owner}/{repo}/pulls/{pull_number}': (req, api) => {
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      const pull = repo.pulls.get(Number(req.params.pull_number));
      if (!pull) return notFound();
      const body = req.body as { title?: string; body?: string; state?: 'open' | 'closed'; base?: string };
      if (body.title !== undefined) pull.title = body.title;
      if (body.body !== undefined) pull.body = body.body;
      if (body.state !== undefined) pull.state = body.state;
      if (body.base !== undefined) pull.base.ref = body.base;
      const issue = repo.issues.get(pull.number)!;
      issue.title = pull.title;
      issue.state = pull.state;
      return { status: 200, body: pullJson(api, repo, pull) };
    },
    'GET /repos/{owner}/{repo}/issues/{issue_number}/labels': (req, api) => {
      const issue = api.state.repo(req.params.owner!, req.params.repo!).issues.get(Number(req.params.issue_number));
      return issue ? paginate(api, req, issue.labels.map((name, i) => ({ id: i + 1, name }))) : notFound();
    },
    'POST /repos/{owner}/{repo}/issues/{issue_number}/labels': (req, api) => {
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      const issue = repo.issues.get(Number(req.params.issue_number));
      if (!issue) return notFound();
      const body = req.body as { labels?: (string | { name: string })[] } | string[];
      const given = (Array.isArray(body) ? body : (body.labels ?? [])).map((l) => (typeof l === 'string' ? l : l.name));
      for (const name of given) if (!issue.labels.includes(name)) issue.labels.push(name);
      const pull = repo.pulls.get(issue.number);
      if (pull) pull.labels = issue.labels;
      return { status: 200, body: issue.labels.map((name, i) => ({ id: i + 1, name })) };
    },
  };
}

// ---------------------------------------------------------------- issues and Actions (drift's sticky issue, retrain dispatch)

function forbidden(permission: string): ApiResponse {
  // What GitHub answers when GITHUB_TOKEN lacks a permission; the missing one is not named, our client must.
  void permission;
  return { status: 403, body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest', status: '403' } };
}

export function issueJson(api: GitHubApi, repo: RepoState, i: Issue): Record<string, unknown> {
  const base = `${api.url}/repos/${repo.owner}/${repo.name}`;
  return {
    id: 7_000_000 + i.number,
    node_id: `I_${i.number}`,
    number: i.number,
    url: `${base}/issues/${i.number}`,
    html_url: `https://github.com/${repo.owner}/${repo.name}/issues/${i.number}`,
    title: i.title,
    body: i.body ?? null,
    state: i.state,
    state_reason: i.state_reason ?? null,
    labels: i.labels.map((name, k) => ({ id: k + 1, name })),
    user: { login: api.state.actor.login, id: api.state.actor.id, type: api.state.actor.type },
    updated_at: i.updated_at ?? api.state.now().toISOString(),
    ...(i.pull_request && { pull_request: { url: `${base}/pulls/${i.number}` } }),
  };
}

function findWorkflow(repo: RepoState, id: string): Workflow | undefined {
  return repo.workflows.get(id) ?? [...repo.workflows.values()].find((w) => String(w.id) === id);
}

function runJson(api: GitHubApi, repo: RepoState, r: WorkflowRun): Record<string, unknown> {
  return {
    id: r.id,
    name: r.display_title,
    display_title: r.display_title,
    workflow_id: r.workflow_id,
    event: r.event,
    status: 'queued',
    head_branch: r.head_branch,
    html_url: `https://github.com/${repo.owner}/${repo.name}/actions/runs/${r.id}`,
    url: `${api.url}/repos/${repo.owner}/${repo.name}/actions/runs/${r.id}`,
    created_at: r.created_at,
  };
}

function actionsRoutes(): Record<string, RouteHandler> {
  return {
    'GET /repos/{owner}/{repo}/issues': (req, api) => {
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      const state = req.query.get('state') ?? 'open';
      const labels = (req.query.get('labels') ?? '').split(',').filter(Boolean);
      const direction = req.query.get('direction') ?? 'desc';
      const byUpdated = req.query.get('sort') === 'updated';
      const list = [...repo.issues.values()]
        .filter((i) => state === 'all' || i.state === state)
        .filter((i) => labels.every((l) => i.labels.includes(l)))
        .sort((a, b) => {
          const key = byUpdated ? (a.updated_at ?? '').localeCompare(b.updated_at ?? '') || a.number - b.number : a.number - b.number;
          return direction === 'asc' ? key : -key;
        });
      return paginate(api, req, list.map((i) => issueJson(api, repo, i)));
    },
    'POST /repos/{owner}/{repo}/issues': (req, api) => {
      if (api.state.denies('issues:write')) return forbidden('issues:write');
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      const body = req.body as { title: string; body?: string; labels?: (string | { name: string })[] };
      const issue = api.state.addIssue(repo.owner, repo.name, body.title);
      issue.body = body.body ?? null;
      // GitHub drops the labels of a new issue when the token has no push access; the stand-in keeps them.
      issue.labels = (body.labels ?? []).map((l) => (typeof l === 'string' ? l : l.name));
      issue.updated_at = api.state.now().toISOString();
      return { status: 201, body: issueJson(api, repo, issue) };
    },
    'PATCH /repos/{owner}/{repo}/issues/{issue_number}': (req, api) => {
      if (api.state.denies('issues:write')) return forbidden('issues:write');
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      const issue = repo.issues.get(Number(req.params.issue_number));
      if (!issue) return notFound();
      const body = req.body as { title?: string; body?: string; state?: 'open' | 'closed'; state_reason?: string };
      if (body.title !== undefined) issue.title = body.title;
      if (body.body !== undefined) issue.body = body.body;
      if (body.state !== undefined) {
        issue.state = body.state;
        issue.state_reason = body.state === 'closed' ? (body.state_reason ?? 'completed') : 'reopened';
      }
      issue.updated_at = api.state.now().toISOString();
      return { status: 200, body: issueJson(api, repo, issue) };
    },
    'POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches': (req, api) => {
      if (api.state.denies('actions:write')) return forbidden('actions:write');
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      const workflow = findWorkflow(repo, req.params.workflow_id!);
      if (!workflow) return notFound();
      const body = req.body as { ref: string; inputs?: Record<string, unknown>; return_run_details?: boolean };
      const inputs = body.inputs ?? {};
      const names = Object.keys(inputs);
      if (names.length > 25) return { status: 422, body: { message: 'you may only define up to 25 `inputs` for a `workflow_dispatch` event', documentation_url: 'https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event', status: '422' } };
      const unexpected = names.filter((n) => !(n in workflow.inputs));
      if (unexpected.length > 0) return { status: 422, body: { message: `Unexpected inputs provided: ${JSON.stringify(unexpected)}`, documentation_url: 'https://docs.github.com/rest', status: '422' } };
      const missing = Object.entries(workflow.inputs).filter(([n, d]) => d.required && !(n in inputs)).map(([n]) => n);
      if (missing.length > 0) return { status: 422, body: { message: `Required input '${missing[0]}' not provided`, documentation_url: 'https://docs.github.com/rest', status: '422' } };
      const title = (workflow.runName ?? workflow.file).replace(/\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}/g, (_, n: string) => String(inputs[n] ?? ''));
      const run: WorkflowRun = { id: api.state.nextId(), workflow_id: workflow.id, event: 'workflow_dispatch', display_title: title, head_branch: body.ref.replace(/^refs\/heads\//, ''), inputs, created_at: api.state.now().toISOString() };
      repo.runs.push(run);
      if (!body.return_run_details) return { status: 204 };
      const json = runJson(api, repo, run);
      return { status: 200, body: { workflow_run_id: run.id, run_url: json.url, html_url: json.html_url } };
    },
    'GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs': (req, api) => {
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      const workflow = findWorkflow(repo, req.params.workflow_id!);
      if (!workflow) return notFound();
      const event = req.query.get('event');
      const runs = repo.runs.filter((r) => r.workflow_id === workflow.id && (!event || r.event === event)).reverse();
      const page = paginate(api, req, runs.map((r) => runJson(api, repo, r)));
      return { ...page, body: { total_count: runs.length, workflow_runs: page.body } };
    },
    'POST /repos/{owner}/{repo}/dispatches': (req, api) => {
      if (api.state.denies('contents:write')) return forbidden('contents:write');
      const repo = api.state.repo(req.params.owner!, req.params.repo!);
      const body = req.body as { event_type: string; client_payload?: Record<string, unknown> };
      if (Object.keys(body.client_payload ?? {}).length > 10) return validationFailed('client_payload: no more than 10 top-level properties are allowed');
      repo.dispatches.push({ event_type: body.event_type, client_payload: body.client_payload ?? {} });
      return { status: 204 };
    },
  };
}

// ---------------------------------------------------------------- server

export async function startGitHubApi(): Promise<GitHubApi> {
  const ops = operations();
  const handlers = new Map<string, RouteHandler>([...Object.entries(builtInRoutes()), ...Object.entries(actionsRoutes())]);
  const faults: { route: string; response: ApiResponse; left: number }[] = [];
  const requireOperation = (route: string) => {
    const [method, template] = route.split(' ');
    if (!ops.some((o) => o.method === method && o.template === template)) {
      throw new Error(`github-api: ${route} is not an operation in GitHub's OpenAPI description`);
    }
  };

  const api: GitHubApi = {
    url: '',
    state: new GitHubState(),
    requests: [],
    violations: [],
    route(route, handler) {
      requireOperation(route);
      handlers.set(route, handler);
    },
    handler: (route) => handlers.get(route),
    fault(route, response, times = 1) {
      requireOperation(route);
      faults.push({ route, response, left: times });
    },
    calls: (route) => api.requests.filter((r) => r.route === route),
    close: () => new Promise((done) => server.close(() => done())),
  };

  const server = createServer((incoming, res) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (c: Buffer) => chunks.push(c));
    incoming.on('end', () => {
      handle(incoming, Buffer.concat(chunks).toString('utf8'))
        .then((response) => send(res, response))
        .catch((error: unknown) => {
          api.violations.push(`github-api stand-in crashed: ${(error as Error).stack ?? String(error)}`);
          send(res, { status: 500, body: { message: String(error) } });
        });
    });
  });

  async function handle(incoming: IncomingMessage, text: string): Promise<ApiResponse> {
    const url = new URL(incoming.url ?? '/', 'http://127.0.0.1');
    const method = (incoming.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/+$/, '') || '/';
    let body: unknown;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        api.violations.push(`${method} ${path}: body is not JSON: ${text.slice(0, 80)}`);
        return { status: 400, body: { message: 'Problems parsing JSON' } };
      }
    }
    let op: Operation | undefined;
    let match: RegExpExecArray | null = null;
    for (const candidate of ops) {
      if (candidate.method !== method) continue;
      match = candidate.regex.exec(path);
      if (match) {
        op = candidate;
        break;
      }
    }
    if (!op || !match) {
      api.violations.push(`${method} ${path}: no such operation in GitHub's REST API`);
      return notFound();
    }
    const params: Record<string, string> = {};
    op.names.forEach((name, i) => (params[name] = decodeURIComponent(match![i + 1]!)));
    const req: ApiRequest = { method, path, route: `${method} ${op.template}`, params, query: url.searchParams, body, headers: incoming.headers };
    api.requests.push(req);
    api.violations.push(...validateRequest(op, req));
    if (!String(incoming.headers.authorization ?? '').match(/^(token|bearer) \S+/i)) {
      api.violations.push(`${req.route}: sent without an Authorization header`);
    }
    const fault = faults.find((f) => f.route === req.route && f.left > 0);
    if (fault) {
      fault.left--;
      return fault.response;
    }
    const handler = handlers.get(req.route);
    if (!handler) {
      api.violations.push(`${req.route}: valid, but the stand-in has no handler; add one with api.route()`);
      return { status: 501, body: { message: `no handler for ${req.route}` } };
    }
    const response = await handler(req, api);
    // A success GitHub never sends (200 where it answers 201) is a bug in a handler; errors such as a 404 on
    // DELETE are real behaviour even where the description leaves them out.
    if (response.status < 300 && !op.statuses.includes(String(response.status))) {
      api.violations.push(`${req.route}: the handler answered ${response.status}, GitHub answers ${op.statuses.join('/')}`);
    }
    return response;
  }

  function send(res: ServerResponse, response: ApiResponse) {
    const headers: Record<string, string> = { 'x-github-api-version-selected': '2022-11-28', ...response.headers };
    if (response.body === undefined) {
      res.writeHead(response.status, headers).end();
      return;
    }
    res.writeHead(response.status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(response.body));
  }

  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return api;
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.ts';
import { createGitHubClient } from '../../../src/github/octokit.ts';
import { startGitHubApi, type GitHubApi } from '../../helpers/github-api.ts';

let api: GitHubApi;
beforeEach(async () => {
  api = await startGitHubApi();
});
afterEach(async () => {
  await api.close();
});

const client = () => createGitHubClient({ token: 'ghs_test', logger: silentLogger, baseUrl: api.url });

describe('the GitHub stand-in', () => {
  it('records requests that do not fit the OpenAPI description', async () => {
    api.state.addPullRequest('acme', 'churn', { number: 7 });
    const headers = { authorization: 'token x', 'content-type': 'application/json' };
    const wrongPath = await fetch(`${api.url}/repos/acme/churn/issue/7/comments`, { headers });
    expect(wrongPath.status).toBe(404);
    await fetch(`${api.url}/repos/acme/churn/issues/7/comments`, { method: 'POST', headers, body: JSON.stringify({ bodyy: 'typo' }) });
    await fetch(`${api.url}/repos/acme/churn/issues/seven/comments?per_pag=5`, { headers });
    expect(api.violations.join('\n')).toMatch(/GET \/repos\/acme\/churn\/issue\/7\/comments: no such operation/);
    expect(api.violations.join('\n')).toMatch(/missing required field "body"/);
    expect(api.violations.join('\n')).toMatch(/unknown field "bodyy"/);
    expect(api.violations.join('\n')).toMatch(/path parameter issue_number: expected integer/);
    expect(api.violations.join('\n')).toMatch(/unknown query parameter per_pag/);
    expect(() => api.route('GET /repos/{owner}/{repo}/nonsense', () => ({ status: 200 }))).toThrow(/not an operation/);
  });
});

describe('the GitHub stand-in pull requests', () => {
  it('creates, lists, updates pull requests and refuses a duplicate with 422', async () => {
    const gh = client();
    const created = await gh.request('POST /repos/{owner}/{repo}/pulls', { owner: 'acme', repo: 'gitops', title: 'Bump churn', head: 'mlops/churn/production', base: 'main', body: 'x' });
    expect(created.status).toBe(201);
    const number = (created.data as { number: number }).number;
    await expect(gh.request('POST /repos/{owner}/{repo}/pulls', { owner: 'acme', repo: 'gitops', title: 'again', head: 'acme:mlops/churn/production', base: 'main' })).rejects.toMatchObject({
      status: 422,
      response: { data: { errors: [{ message: 'A pull request already exists for acme:mlops/churn/production.' }] } },
    });
    const listed = (await gh.paginate('GET /repos/{owner}/{repo}/pulls', { owner: 'acme', repo: 'gitops', head: 'acme:mlops/churn/production', state: 'open' })) as { number: number }[];
    expect(listed.map((p) => p.number)).toEqual([number]);
    await gh.request('PATCH /repos/{owner}/{repo}/pulls/{pull_number}', { owner: 'acme', repo: 'gitops', pull_number: number, body: 'updated' });
    expect(api.state.repo('acme', 'gitops').pulls.get(number)!.body).toBe('updated');
    expect(api.violations).toEqual([]);
  });
});

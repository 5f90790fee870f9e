import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.ts';
import { checkRelativePath } from '../../../src/gitops/edits.ts';
import { checkRemoteUrl } from '../../../src/gitops/branch-push.ts';
import { pullRequestBody, pullRequestTitle } from '../../../src/gitops/pr-body.ts';
import { resolveRepository } from '../../../src/gitops/pull-request.ts';
import { parseRepository } from '../../../src/github/pull-requests.ts';

describe('repository input', () => {
  it('turns owner/name into a clone URL on the server and API coordinates', () => {
    expect(resolveRepository('acme/gitops', 'https://github.com')).toEqual({ url: 'https://github.com/acme/gitops.git', github: { owner: 'acme', repo: 'gitops' } });
    expect(resolveRepository('https://ghe.example.com/acme/gitops.git', 'https://ghe.example.com/')).toEqual({ url: 'https://ghe.example.com/acme/gitops.git', github: { owner: 'acme', repo: 'gitops' } });
    expect(resolveRepository('file:///srv/gitops.git', 'https://github.com')).toEqual({ url: 'file:///srv/gitops.git' });
    expect(resolveRepository('https://gitlab.example.com/acme/gitops.git', 'https://github.com')).toEqual({ url: 'https://gitlab.example.com/acme/gitops.git' });
    expect(() => resolveRepository('acme', 'https://github.com')).toThrow(/^repository: "acme" is neither owner\/name nor/);
    expect(parseRepository('acme/../x')).toBeUndefined();
  });

  it('refuses credentials in the URL without echoing them', () => {
    expect(() => checkRemoteUrl('https://x-access-token:ghs_secret@github.com/acme/gitops.git')).toThrow(UsageError);
    try {
      checkRemoteUrl('https://x-access-token:ghs_secret@github.com/acme/gitops.git');
    } catch (error) {
      expect((error as Error).message).not.toContain('ghs_secret');
      expect((error as Error).message).toContain('pass the token in the token input');
    }
    expect(() => checkRemoteUrl('ssh://git@github.com/acme/gitops.git')).toThrow(/must be an https:\/\/, http:\/\/ or file:\/\/ URL/);
  });
});

describe('paths from inputs', () => {
  it('stay inside the repository', () => {
    expect(checkRelativePath('manifest', 'manifests/overlays/staging/inference-patch.yaml')).toBe('manifests/overlays/staging/inference-patch.yaml');
    expect(checkRelativePath('manifest', './a/../b.yaml')).toBe('b.yaml');
    for (const bad of ['../x.yaml', '/etc/passwd', 'a/../../x', '.git/config', '.', '']) {
      expect(() => checkRelativePath('manifest', bad), bad).toThrow(UsageError);
    }
  });
});

describe('pull request body', () => {
  const content = {
    model: 'churn',
    environment: 'staging',
    version: 'sha256-0123456789abcdef',
    storageUri: 's3://b/models/churn/sha256-0123456789abcdef/',
    metrics: { accuracy: 0.93, f1: 0.9, 'latency.p99_ms': 2 },
    baseline: { label: 'Staging (sha256-aaaaaaaaaaaaaaaa)', metrics: { accuracy: 0.9, f1: 0.91 } },
    provenance: { data: [{ path: 'data', md5: '5ea40360f5b4ec688df672a4db9c17d1.dir' }], repository: 'acme/ml', commit: 'c0ffee0000000000000000000000000000000000', serverUrl: 'https://github.com', runUrl: 'https://github.com/acme/ml/actions/runs/9' },
    changedFiles: ['manifests/overlays/staging/inference-patch.yaml'],
    diff: '--- a/x\n+++ b/x\n-old\n+new\n',
  };

  it('starts with the hidden marker and shows metrics against the baseline, version, data, commit and run', () => {
    const body = pullRequestBody(content);
    expect(body.split('\n')[0]).toBe('<!-- mlops-actions:pull-request:churn/staging -->');
    expect(body).toContain(`### ${pullRequestTitle(content)}`);
    expect(body).toContain('| Metric | Staging (sha256-aaaaaaaaaaaaaaaa) | This model | Δ |');
    expect(body).toMatch(/\| `accuracy` \| 0\.9 \| 0\.93 \| ↑/);
    expect(body).toContain('`s3://b/models/churn/sha256-0123456789abcdef/`');
    expect(body).toContain('`5ea40360f5b4ec688df672a4db9c17d1.dir`');
    expect(body).toContain('[c0ffee000000](https://github.com/acme/ml/commit/c0ffee0000000000000000000000000000000000)');
    expect(body).toContain('https://github.com/acme/ml/actions/runs/9');
    expect(body).toContain('```diff\n--- a/x\n+++ b/x\n-old\n+new\n```');
  });

  it('shows only the named metrics when asked', () => {
    const body = pullRequestBody({ ...content, showMetrics: ['accuracy'] });
    expect(body).toContain('`accuracy`');
    expect(body).not.toContain('`f1`');
    expect(body).not.toContain('latency');
  });
});

import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { git, seedBareRepo } from '../integration/gitops/repos.ts';
import { tempDir } from '../helpers/tmp.ts';
import { mlops, treeDigest } from './mlops-cli.ts';

/**
 * Issue 10 item 5: no symlink is followed in the GitOps clone (pull-request, bump) or in the gate's leg folders.
 * Each attack plants a link in a real git repository (or workspace) pointing at a file outside it.
 */

const URI = 's3://models/models/churn/sha256-2222222222222222/';
const ISVC = 'apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: churn\nspec:\n  predictor:\n    model:\n      storageUri: s3://models/models/churn/sha256-1111111111111111/\n';

/** A file outside every repository, as on a runner: its bytes must never be committed nor rewritten. */
function outside() {
  const dir = tempDir('sec-link-outside');
  writeFileSync(join(dir, 'inference.yaml'), `# the runner's own file\n${ISVC}`);
  writeFileSync(join(dir, 'credentials'), '[default]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n');
  return dir;
}

/** The GitOps repository's main branch after someone committed `plant` (a link in place of a file or folder). */
function gitopsWith(plant: (work: string) => void): string {
  const root = tempDir('sec-link-gitops');
  const bare = seedBareRepo(root);
  const work = join(root, 'planter');
  git(root, ['clone', '--quiet', `file://${bare}`, work]);
  plant(work);
  git(work, ['add', '--all']);
  git(work, ['commit', '--quiet', '-m', 'plant a link']);
  git(work, ['push', '--quiet', 'origin', 'main']);
  return bare;
}

const branches = (bare: string) => git(bare, ['for-each-ref', '--format=%(refname)', 'refs/heads']).trim().split('\n');

async function pullRequest(bare: string, ...extra: string[]) {
  const cwd = tempDir('sec-link-cwd');
  return mlops(['pull-request', '--repository', pathToFileURL(bare).href, '--model', 'churn', '--environment', 'production', '--pr-file', 'pr.md', ...extra], cwd, { PATH: process.env.PATH });
}

describe('pull-request refuses symlinks in the GitOps clone', () => {
  it('a manifest that is a symlink to a file outside the clone: exit 2, nothing committed or pushed', async () => {
    const away = outside();
    const before = treeDigest(away);
    const bare = gitopsWith((work) => {
      rmSync(join(work, 'overlays/production/inference.yaml'));
      symlinkSync(join(away, 'inference.yaml'), join(work, 'overlays/production/inference.yaml'));
    });
    const r = await pullRequest(bare, '--manifest', 'overlays/production/inference.yaml', '--storage-uri', URI);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/manifest: "overlays\/production\/inference\.yaml" passes through the symbolic link "overlays\/production\/inference\.yaml", which is not followed/);
    expect(branches(bare)).toEqual(['refs/heads/main']);
    expect(treeDigest(away)).toBe(before);
  });

  it('a symlinked folder on the way to the manifest: exit 2, the file outside is not rewritten', async () => {
    const away = outside();
    const before = treeDigest(away);
    const bare = gitopsWith((work) => {
      rmSync(join(work, 'overlays/production'), { recursive: true });
      symlinkSync(away, join(work, 'overlays/production'));
    });
    const r = await pullRequest(bare, '--manifest', 'overlays/production/inference.yaml', '--storage-uri', URI);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('passes through the symbolic link "overlays/production"');
    expect(treeDigest(away)).toBe(before);
    expect(readFileSync(join(away, 'inference.yaml'), 'utf8')).not.toContain(URI);
    expect(branches(bare)).toEqual(['refs/heads/main']);
  });

  it('--checkout: changed files are not written through a symlinked folder of the base', async () => {
    const away = outside();
    const before = treeDigest(away);
    const bare = gitopsWith((work) => {
      rmSync(join(work, 'overlays/staging'), { recursive: true });
      symlinkSync(away, join(work, 'overlays/staging'));
    });
    // The checkout the bump step edited is a clean clone from before the link, with a real overlays/staging.
    const checkout = tempDir('sec-link-checkout');
    git(checkout, ['init', '--quiet']);
    mkdirSync(join(checkout, 'overlays/staging'), { recursive: true });
    writeFileSync(join(checkout, 'overlays/staging/inference.yaml'), ISVC.replace(/sha256-1{16}/, 'sha256-2222222222222222'));
    const r = await pullRequest(bare, '--checkout', checkout, '--paths', 'overlays/staging/inference.yaml', '--model-version', 'sha256-2222222222222222');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('passes through the symbolic link "overlays/staging"');
    expect(treeDigest(away)).toBe(before);
    expect(branches(bare)).toEqual(['refs/heads/main']);
  });
});

describe('bump and the gate do not follow symlinks either', () => {
  it('bump refuses a manifest that links outside the workspace, and a symlinked folder', async () => {
    const away = outside();
    const before = treeDigest(away);
    const ws = tempDir('sec-link-ws');
    symlinkSync(join(away, 'inference.yaml'), join(ws, 'inference.yaml'));
    symlinkSync(away, join(ws, 'overlay'));
    for (const file of ['inference.yaml', 'overlay/inference.yaml']) {
      const r = await mlops(['bump', file, '--storage-uri', URI], ws);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/passes through the symbolic link/);
    }
    expect(treeDigest(away)).toBe(before);
  });

  it('the gate refuses a leg whose metrics file or folder is a symlink, and never prints the linked file', async () => {
    const away = outside();
    const ws = tempDir('sec-link-legs');
    mkdirSync(join(ws, 'legs/good'), { recursive: true });
    writeFileSync(join(ws, 'legs/good/metrics.json'), '{"accuracy": 0.9}\n');
    mkdirSync(join(ws, 'legs/evil'));
    symlinkSync(join(away, 'credentials'), join(ws, 'legs/evil/metrics.json'));
    const file = await mlops(['gate', '--metrics', 'legs', '--rules', 'metrics: {accuracy: {min: 0.5}}'], ws);
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/metrics: ".*legs\/evil\/metrics\.json" is a symbolic link, which the gate does not follow/);
    expect(`${file.stdout}${file.stderr}`).not.toContain('wJalr');

    rmSync(join(ws, 'legs/evil'), { recursive: true });
    mkdirSync(join(away, 'leg'));
    writeFileSync(join(away, 'leg/metrics.json'), '{"accuracy": 0.99}\n');
    symlinkSync(join(away, 'leg'), join(ws, 'legs/evil'));
    const folder = await mlops(['gate', '--metrics', 'legs', '--rules', 'metrics: {accuracy: {min: 0.5}}'], ws);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain('legs/evil" is a symbolic link');

    writeFileSync(join(ws, 'legs/good/run.json'), JSON.stringify({ leg: 'good', metrics: 'elsewhere.json' }));
    rmSync(join(ws, 'legs/good/metrics.json'));
    symlinkSync(join(away, 'credentials'), join(ws, 'legs/good/elsewhere.json'));
    const named = await mlops(['gate', '--metrics', 'legs/good', '--rules', 'metrics: {accuracy: {min: 0.5}}'], ws);
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('passes through the symbolic link');
    expect(named.stderr).not.toContain('wJalr');
  });
});

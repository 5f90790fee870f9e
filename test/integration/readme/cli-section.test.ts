// The README's command-line walkthrough runs as written: the block is taken from README.md itself (so the two
// cannot drift apart) and run by bash, line after line, in an empty folder with the installed package's `mlops`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tempDir } from '../../helpers/tmp.ts';
import { installCli, packCli, ROOT, type InstalledCli, type Run } from '../cli-package/installed-cli.ts';

const MARKER = '<!-- test/integration/readme/cli-section.test.ts runs the next block';

/** The fenced sh block that follows the marker comment in README.md. */
function readmeBlock(readme: string): string {
  const at = readme.indexOf(MARKER);
  if (at < 0) throw new Error(`README.md has no "${MARKER}" comment before the CLI walkthrough`);
  const match = /^```sh\n([\s\S]*?)^```$/m.exec(readme.slice(at));
  if (!match?.[1]) throw new Error('README.md: no ```sh block after the CLI walkthrough marker');
  return match[1];
}

const block = readmeBlock(readFileSync(join(ROOT, 'README.md'), 'utf8'));
let cli: InstalledCli;
let work: string;
let result: Run;

beforeAll(async () => {
  cli = await installCli((await packCli(tempDir('readme-pack'))).tarball);
  work = tempDir('readme-cli');
  // -e: a failing line stops the walkthrough; -u and pipefail as a careful shell would.
  result = await cli.exec('bash', ['-euo', 'pipefail', '-c', block], work);
}, 300_000);

describe('README: the mlops command line, in an empty folder', () => {
  it('walks the loop in order: data, data add, data push, train, evaluate to its own file, gate, publish --run-json, bump', () => {
    const steps = [/mlops example data\b/, /mlops data add\b/, /mlops data push --remote \S+/, /mlops train\b.* -- /, /mlops evaluate\b.*--out (?!metrics\.json)\S+/, /mlops publish\b.*--run-json \S+/, /mlops bump\b/];
    const lines = block.split('\n');
    const at = steps.map((step) => lines.findIndex((line) => step.test(line)));
    expect(at.every((i) => i >= 0), `README block lacks a step: ${steps.filter((_, i) => at[i] === -1).join(', ')}`).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
  });

  it('runs every line as written (exit 0), with no warning about the model card', () => {
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stderr).not.toMatch(/warning|error/i);
  });

  it('leaves what each step promises: versioned data on the remote, a run record, an evaluation next to the training metrics', () => {
    const project = join(work, 'churn');
    const dvc = parse(readFileSync(join(project, 'data.dvc'), 'utf8')) as { outs: { md5: string; path: string }[] };
    expect(dvc.outs[0]?.path).toBe('data');
    expect(existsSync(join(work, 'store', 'dvc', 'files', 'md5', dvc.outs[0]!.md5.slice(0, 2), dvc.outs[0]!.md5.slice(2)))).toBe(true);
    // The trainer's self-reported metrics are untouched by evaluate, which wrote its own file.
    expect(Object.keys(JSON.parse(readFileSync(join(project, 'metrics.json'), 'utf8'))).sort()).toEqual(['accuracy', 'f1', 'log_loss', 'roc_auc']);
    expect(JSON.parse(readFileSync(join(project, 'evaluation.json'), 'utf8'))).toHaveProperty('latency.p99_ms');
    const run = JSON.parse(readFileSync(join(project, 'run.json'), 'utf8'));
    expect(run).toMatchObject({ model: 'churn', command: ['mlops', 'example', 'train'], data: [{ path: 'data', md5: dvc.outs[0]!.md5 }] });
  });

  it('publishes a version whose card carries the evaluation, params, data and source, and bumps the manifest to it', () => {
    const [version, ...others] = readdirSync(join(work, 'store', 'models', 'churn'));
    expect(others).toEqual([]);
    expect(version).toMatch(/^sha256-[0-9a-f]{16}$/);
    const card = JSON.parse(readFileSync(join(work, 'store', 'models', 'churn', version!, 'model.json'), 'utf8'));
    const evaluation = JSON.parse(readFileSync(join(work, 'churn', 'evaluation.json'), 'utf8'));
    expect(card.metrics.roc_auc).toBe(evaluation.roc_auc);
    expect(card).toMatchObject({ params: { train: { C: 1, trainer: 'typescript-newton' } }, data: [{ path: 'data' }], source: { leg: 'default' } });
    const manifest = parse(readFileSync(join(work, 'churn', 'inference.yaml'), 'utf8'));
    expect(manifest.spec.predictor.model.storageUri).toBe(`s3://your-ml-bucket/models/churn/${version}/`);
    expect(manifest.metadata.annotations['mlops-actions.io/model-version']).toBe(version);
  });
});

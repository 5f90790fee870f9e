// `npm install -g mlops-actions` on a machine without this repository: the packed tarball holds what a user
// needs and nothing else, installs with onnxruntime-node as its one dependency, and `mlops` works from it.
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../../package.json' with { type: 'json' };
import { EXTERNAL } from '../../../scripts/build.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { installCli, packCli, ROOT, type InstalledCli, type PackedCli } from './installed-cli.ts';

let packed: PackedCli;
let cli: InstalledCli;

beforeAll(async () => {
  packed = await packCli(tempDir('cli-pack'));
  cli = await installCli(packed.tarball);
}, 300_000);

describe('the npm package mlops-actions', () => {
  it('is publishable: not private, the mlops bin, and the bundled libraries are not runtime dependencies', () => {
    expect(pkg).not.toHaveProperty('private');
    expect(pkg.bin).toEqual({ mlops: 'bin/mlops.js' });
    // Everything else is inlined into dist/cli/ (scripts/build-cli.ts): installing it again would only cost time.
    expect(Object.keys(pkg.dependencies).sort(), 'a library the CLI bundles belongs in devDependencies').toEqual([...EXTERNAL].sort());
  });

  it('packs under 5 MB with the CLI bundle, the demo\'s manifests and Python trainer, and no sources, tests or fixtures', () => {
    expect(packed.size).toBeLessThan(5_000_000);
    expect(packed.files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/mlops.js', 'dist/cli/main.js', 'manifests/overlays/production/inference-patch.yaml', 'scripts/train.py']));
    const unexpected = packed.files.filter((f) => !/^(package\.json|README\.md|bin\/mlops\.js|dist\/cli\/[\w-]+\.js|manifests\/.+\.(ya?ml|md)|scripts\/train\.py)$/.test(f));
    expect(unexpected).toEqual([]);
    expect(packed.files.filter((f) => f.endsWith('.ts'))).toEqual([]);
  });

  it('runs mlops --help and --version from the installed bin', async () => {
    const work = tempDir('cli-help');
    const help = await cli.mlops(['--help'], work);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: mlops <command> \[options\]/);
    for (const command of ['gate', 'data', 'train', 'evaluate', 'publish', 'bump', 'pull-request', 'demo', 'example']) expect(help.stdout).toContain(`  ${command} `);
    const version = await cli.mlops(['--version'], work);
    expect(version.stdout.trim()).toBe(`mlops-actions ${pkg.version}`);
    // The installed package runs the bundle: it has no TypeScript sources to fall back on.
    expect(existsSync(join(cli.packageDir, 'src'))).toBe(false);
  });

  it('runs mlops gate on the examples: exit 0 when they pass, 1 when a rule fails, 2 on bad input', async () => {
    const work = tempDir('cli-gate');
    cpSync(join(ROOT, 'examples'), join(work, 'examples'), { recursive: true });
    const passed = await cli.mlops(['gate', '--metrics', 'examples/legs', '--rules', 'examples/gates.yml', '--baseline', 'examples/baseline.json'], work);
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stdout).toContain('Gate passed — best leg `python-3.12`');
    const failed = await cli.mlops(['gate', '--metrics', 'examples/legs', '--rules', 'metrics: {accuracy: {min: 0.99}}', '--json'], work);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ passed: false });
    const bad = await cli.mlops(['gate', '--metrics', 'nope'], work);
    expect(bad.code).toBe(2);
  });

  it('runs mlops evaluate with onnxruntime-node loaded from the package\'s installed dependency', async () => {
    const work = tempDir('cli-evaluate');
    expect((await cli.mlops(['example', 'data', '--rows', '400'], work)).code).toBe(0);
    const trained = await cli.mlops(['example', 'train'], work);
    expect(trained.code, trained.stderr).toBe(0);
    const evaluated = await cli.mlops(['evaluate', '--model', 'model/model.onnx', '--data', 'data/holdout.csv', '--out', 'evaluation.json'], work, { MLOPS_VERBOSE: '1' });
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const from = /onnxruntime-node from (\S+)/.exec(evaluated.stderr)?.[1];
    expect(from, evaluated.stderr).toBeDefined();
    expect(from?.startsWith(join(cli.packageDir, 'node_modules', 'onnxruntime-node') + '/') || from?.startsWith(join(cli.prefix, 'lib', 'node_modules', 'onnxruntime-node') + '/'), from).toBe(true);
    const metrics = JSON.parse(readFileSync(join(work, 'evaluation.json'), 'utf8')) as Record<string, number>;
    expect(metrics.roc_auc).toBeGreaterThan(0.8);
    // The trainer's own holdout numbers agree with onnxruntime's scoring of its exported graph.
    expect(metrics.accuracy).toBeCloseTo(JSON.parse(readFileSync(join(work, 'metrics.json'), 'utf8')).accuracy, 6);
  });

  it('runs mlops demo from the package (its manifests, the example trainer through the installed bin)', async () => {
    const work = tempDir('cli-demo');
    const demo = await cli.mlops(['demo', '--workdir', 'demo', '--json'], work);
    expect(demo.code, demo.stderr).toBe(0);
    const result = JSON.parse(demo.stdout) as { legs: { name: string }[]; published: { version: string }; pullRequest: { operation: string } };
    expect(result.legs[0]?.name).toMatch(/^node-\d+$/);
    expect(result.published.version).toMatch(/^sha256-[0-9a-f]{16}$/);
    expect(result.pullRequest.operation).toBe('created');
  });
});

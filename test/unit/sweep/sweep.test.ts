// The sweep core: grid order and size, seeded random search (PCG32 checked against its reference output,
// reproducible in-process, in a child process and on another Node major), the 256-leg limit, leg names.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { silentLogger } from '../../../src/log.ts';
import { expandSpace, parseSpace, Pcg32, fnv1a64, type SweepLeg } from '../../../src/sweep/index.ts';
import { artifactName } from '../../../src/train/record.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { usageMessage } from '../../helpers/usage-error.ts';

const ROOT = join(import.meta.dirname, '../../..');
const expand = (yaml: string) => expandSpace(parseSpace(yaml, 'sweep.yml'));

const RANDOM_SPACE = `
seed: 7
count: 5
random:
  lr: { log-uniform: [1.0e-4, 1.0e-1] }
  dropout: { uniform: [-0.5, 0.5] }
  layers: { choice: [2, 3, 4] }
`;

async function cli(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { cwd, out: (t) => out.push(t), logger: { ...silentLogger, error: (m) => err.push(m) } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('PCG32', () => {
  it("matches pcg-c-basic's reference output for pcg32_srandom_r(42, 54)", () => {
    const rng = new Pcg32(42n, 54n);
    expect(Array.from({ length: 6 }, () => rng.nextUint32())).toEqual([0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e]);
  });

  it('FNV-1a 64 matches its published test vectors', () => {
    expect(fnv1a64('')).toBe(0xcbf29ce484222325n);
    expect(fnv1a64('a')).toBe(0xaf63dc4c8601ec8cn);
    expect(fnv1a64('foobar')).toBe(0x85944171f73967e8n);
  });

  it('draws unbiased bounded integers and doubles in [0, 1)', () => {
    const rng = new Pcg32(1n, 2n);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[rng.nextBelow(3)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400); // > 5 sigma away otherwise
    let sum = 0;
    for (let i = 0; i < 10_000; i++) {
      const u = rng.nextDouble();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
    }
    expect(Math.abs(sum / 10_000 - 0.5)).toBeLessThan(0.015);
  });
});

describe('grid', () => {
  it('is the Cartesian product in the order written, the last key varying fastest', () => {
    const { legs } = expand('grid:\n  optimizer: [adam, sgd]\n  train:\n    C: [0.1, 1, 10]\n    epochs: 5\n');
    expect(legs).toHaveLength(6);
    expect(legs.map((l) => l.params)).toEqual([
      { optimizer: 'adam', train: { C: 0.1, epochs: 5 } },
      { optimizer: 'adam', train: { C: 1, epochs: 5 } },
      { optimizer: 'adam', train: { C: 10, epochs: 5 } },
      { optimizer: 'sgd', train: { C: 0.1, epochs: 5 } },
      { optimizer: 'sgd', train: { C: 1, epochs: 5 } },
      { optimizer: 'sgd', train: { C: 10, epochs: 5 } },
    ]);
    // Names carry only what differs between legs (epochs is fixed).
    expect(legs.map((l) => l.leg)).toEqual([
      'optimizer-adam_train.C-0.1',
      'optimizer-adam_train.C-1',
      'optimizer-adam_train.C-10',
      'optimizer-sgd_train.C-0.1',
      'optimizer-sgd_train.C-1',
      'optimizer-sgd_train.C-10',
    ]);
  });

  it('refuses more than 256 legs with exit 2, before expanding anything', async () => {
    const dir = tempDir('sweep-limit');
    writeFileSync(join(dir, 'space.yml'), 'grid:\n  a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]\n  b: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]\n');
    const result = await cli(['sweep', '--space', 'space.yml', '--json'], dir);
    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err).toContain('expands to 272 legs (17 × 16)');
    expect(result.err).toContain('at most 256');
    // 16 × 16 is allowed: the limit is exactly GitHub's.
    writeFileSync(join(dir, 'space.yml'), `grid:\n  a: [${Array.from({ length: 16 }, (_, i) => i).join(', ')}]\n  b: [${Array.from({ length: 16 }, (_, i) => i).join(', ')}]\n`);
    const ok = await cli(['sweep', '--space', 'space.yml', '--json'], dir);
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.out) as { include: unknown[] }).include).toHaveLength(256);
    // Random legs count too: 2 grid points × count 129.
    expect(usageMessage(() => expand('seed: 1\ncount: 129\ngrid: { a: [1, 2] }\nrandom: { b: { uniform: [0, 1] } }'))).toContain('expands to 258 legs (2 grid point(s) × count 129)');
    expect(usageMessage(() => expand('grid:\n' + Array.from({ length: 40 }, (_, i) => `  p${i}: [1, 2]`).join('\n')))).toMatch(/expands to 1099511627776 legs/);
  });
});

describe('random search', () => {
  // Pinned output for seed 7: the same on every run, machine and Node version (CI runs Node 22 and 24).
  const GOLDEN: SweepLeg[] = [
    { leg: 'lr-0.0006518_dropout-m0.2652_layers-2', params: { lr: 0.000651797, dropout: -0.265249, layers: 2 } },
    { leg: 'lr-0.06362_dropout-m0.3905_layers-3', params: { lr: 0.0636208, dropout: -0.390499, layers: 3 } },
    { leg: 'lr-0.009085_dropout-0.179_layers-3', params: { lr: 0.00908512, dropout: 0.179026, layers: 3 } },
    { leg: 'lr-0.0001837_dropout-0.3003_layers-3', params: { lr: 0.000183708, dropout: 0.300265, layers: 3 } },
    { leg: 'lr-0.07195_dropout-0.2428_layers-3', params: { lr: 0.0719485, dropout: 0.242823, layers: 3 } },
  ];

  it('is reproducible from the seed and pinned to a golden vector', () => {
    const first = expand(RANDOM_SPACE);
    expect(expand(RANDOM_SPACE)).toEqual(first);
    expect(first.legs).toEqual(GOLDEN);
    for (const { params } of first.legs) {
      const p = params as { lr: number; dropout: number; layers: number };
      expect(p.lr).toBeGreaterThanOrEqual(1e-4);
      expect(p.lr).toBeLessThanOrEqual(0.1);
      expect(p.dropout).toBeGreaterThanOrEqual(-0.5);
      expect(p.dropout).toBeLessThanOrEqual(0.5);
      expect([2, 3, 4]).toContain(p.layers);
      expect(Number(p.lr.toPrecision(6))).toBe(p.lr);
    }
    expect(expand(RANDOM_SPACE.replace('seed: 7', 'seed: 8')).legs).not.toEqual(first.legs);
  });

  it('gives the same matrix in a separate process and on every other Node found here', async () => {
    const dir = tempDir('sweep-node');
    writeFileSync(join(dir, 'sweep.yml'), RANDOM_SPACE);
    const inProcess = JSON.stringify({ include: expand(RANDOM_SPACE).legs });
    const child = execFileSync(process.execPath, [join(ROOT, 'bin/mlops.js'), 'sweep', '--space', 'sweep.yml', '--json'], { cwd: dir, encoding: 'utf8' });
    expect(child.trim()).toBe(inProcess);
    // The core bundled to plain JavaScript runs on Node majors without type stripping (Debian's Node 20).
    const bundle = join(dir, 'sweep.cjs');
    await build({
      stdin: { contents: `import { expandSpace, parseSpace } from './src/sweep/index.ts';\nimport { readFileSync } from 'node:fs';\nprocess.stdout.write(JSON.stringify({ include: expandSpace(parseSpace(readFileSync(process.argv[2], 'utf8'), 'x')).legs }));`, resolveDir: ROOT, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node18',
      outfile: bundle,
      logLevel: 'silent',
    });
    const nodes = [process.execPath, '/usr/bin/node', '/usr/local/bin/node'].filter((n, i, all) => existsSync(n) && all.indexOf(n) === i);
    for (const node of nodes) {
      const run = spawnSync(node, [bundle, join(dir, 'sweep.yml')], { encoding: 'utf8' });
      const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
      expect(run.status, `${node} ${version}: ${run.stderr}`).toBe(0);
      expect(run.stdout, `${node} ${version}`).toBe(inProcess);
    }
  });

  it('gives each parameter its own stream: adding or reordering parameters and raising count keep the values', () => {
    const base = expand(RANDOM_SPACE).legs.map((l) => l.params);
    const reordered = expand('seed: 7\ncount: 8\nrandom:\n  momentum: { uniform: [0, 1] }\n  layers: { choice: [2, 3, 4] }\n  dropout: { uniform: [-0.5, 0.5] }\n  lr: { log-uniform: [1.0e-4, 1.0e-1] }\n').legs.map((l) => l.params);
    for (let i = 0; i < base.length; i++) {
      const { momentum, ...rest } = reordered[i] as Record<string, unknown>;
      expect(typeof momentum).toBe('number');
      expect(rest).toEqual(base[i]);
    }
  });

  it('samples log-uniform evenly in log space and crosses every grid point with its own draws', () => {
    const { legs } = expand('seed: 3\ncount: 128\ngrid: { opt: [a, b] }\nrandom: { lr: { log-uniform: [1.0e-6, 1] } }');
    expect(legs).toHaveLength(256);
    expect(legs.slice(0, 128).every((l) => l.params.opt === 'a')).toBe(true);
    const logs = legs.map((l) => Math.log10(l.params.lr as number));
    const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
    expect(Math.abs(mean - -3)).toBeLessThan(0.5); // uniform on [-6, 0]: sd of the mean ≈ 0.11
    expect(new Set(legs.map((l) => l.params.lr)).size).toBe(256);
  });

  it('drops repeated points of a choice-only space', () => {
    const sweep = expand('seed: 1\ncount: 20\nrandom: { opt: { choice: [adam, sgd] }, bs: { choice: [32, 64] } }');
    expect(sweep.legs.length).toBe(4);
    expect(sweep.duplicates).toBe(16);
    expect(new Set(sweep.legs.map((l) => l.leg)).size).toBe(4);
  });

  it('needs a seed and a count, and the CLI can override both', async () => {
    expect(usageMessage(() => expand('count: 3\nrandom: { a: { uniform: [0, 1] } }'))).toMatch(/^seed: is not set/);
    expect(usageMessage(() => expand('seed: 3\nrandom: { a: { uniform: [0, 1] } }'))).toMatch(/^count: is not set/);
    const dir = tempDir('sweep-override');
    writeFileSync(join(dir, 'sweep.yml'), RANDOM_SPACE);
    const overridden = await cli(['sweep', '--space', 'sweep.yml', '--seed', '8', '--count', '2', '--json'], dir);
    expect(overridden.code).toBe(0);
    expect(JSON.parse(overridden.out)).toEqual({ include: expand(RANDOM_SPACE.replace('seed: 7', 'seed: 8').replace('count: 5', 'count: 2')).legs });
    const bad = await cli(['sweep', '--space', 'sweep.yml', '--count', '300'], dir);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('count: "300"');
  });
});

describe('leg names', () => {
  const VALID = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
  // GitHub refuses these in artifact names: " : < > | * ? \r \n \ /
  const FORBIDDEN = /[":<>|*?\r\n\\/]/;

  it('are unique, stable, valid artifact names that the train action keeps unchanged', () => {
    const spaces = [
      RANDOM_SPACE,
      'grid:\n  "weird key": ["a/b", "c:d", "<x>", "x|y", "a b", "ünï", "--", ""]\n  shift: [-0.5, 1.0e-7, 1.0e21, 3]\n',
      'grid:\n  flag: [true, false]\n  name: ["' + 'x'.repeat(150) + '", "' + 'x'.repeat(149) + 'y"]\n',
      'seed: 9\ncount: 6\nrandom: { a: { uniform: [0, 1.0e-12] } }',
    ];
    for (const space of spaces) {
      const { legs } = expand(space.replace('"weird key"', 'weird_key'));
      const names = legs.map((l) => l.leg);
      expect(new Set(names).size, names.join('\n')).toBe(names.length);
      for (const name of names) {
        expect(name, name).toMatch(VALID);
        expect(name).not.toMatch(FORBIDDEN);
        expect(name).not.toContain('--');
        expect(name.length).toBeLessThanOrEqual(96);
        expect(artifactName('churn', name)).toBe(`mlops-churn-${name}`);
      }
      expect(expand(space.replace('"weird key"', 'weird_key')).legs.map((l) => l.leg)).toEqual(names);
    }
  });

  it('show values readably and fall back to a params hash when two would collide', () => {
    const { legs } = expand('grid:\n  shift: [-0.5, 1.0e-7, 0.123456, 100000]\n');
    expect(legs.map((l) => l.leg)).toEqual(['shift-m0.5', 'shift-1e-7', 'shift-0.1235', 'shift-100000']);
    const collide = expand('grid:\n  x: [0.12345, 0.12346]\n').legs.map((l) => l.leg);
    expect(collide[0]).toMatch(/^x-0\.1235-[0-9a-f]{8}$/);
    expect(collide[1]).toMatch(/^x-0\.1235-[0-9a-f]{8}$/);
    expect(collide[0]).not.toBe(collide[1]);
    expect(expand('grid: { only: 1 }').legs).toEqual([{ leg: 'only-1', params: { only: 1 } }]);
  });
});

describe('search space errors', () => {
  it.each([
    ['grid: { a: [] }', 'key "grid.a" is an empty list'],
    ['grid: { a: [1, 1] }', 'key "grid.a" lists 1 twice'],
    ['grid: { a: { uniform: [0, 1] } }', 'belongs under random:'],
    ['random: { a: [1, 2] }', 'key "random.a" is a list: write { choice: [...] }'],
    ['seed: 1\ncount: 2\nrandom: { a: { uniform: [1, 0] } }', 'has low 1 not below high 0'],
    ['seed: 1\ncount: 2\nrandom: { a: { log-uniform: [0, 1] } }', 'must be above 0'],
    ['seed: 1\ncount: 2\nrandom: { a: { uniform: [0, 1], choice: [1] } }', 'exactly one of'],
    ['grid: { a: [1] }\nrandom: { a: { uniform: [0, 1] } }', 'key "a" is given under both'],
    ['grid: { a: 1, b: { c: [1, 2] } }\nrandom: { a: { c: { uniform: [0, 1] } } }', 'key "a" is both a value and the group'],
    ['grid: { a: [null] }', 'key "grid.a[0]" has value null'],
    ['grid: { a.b: [1] }', 'not a valid parameter name'],
    ['grids: { a: [1] }', 'key "grids" is not a known key'],
    ['seed: -1\ngrid: { a: [1] }', 'key "seed" has value -1'],
    ['grid: { a: [1] }\ngrid: { b: [2] }', 'not valid YAML'],
    ['{}', 'has neither grid: nor random:'],
  ])('%s → %s', (yaml, message) => {
    expect(usageMessage(() => expand(yaml))).toContain(message);
  });

  it('names a missing file', async () => {
    const result = await cli(['sweep', '--space', 'nope.yml'], tempDir('sweep-missing'));
    expect(result.code).toBe(2);
    expect(result.err).toContain('space: "nope.yml" does not exist');
  });
});

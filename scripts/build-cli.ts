// Bundles the `mlops` CLI into dist/cli/ for the npm package (`npm pack` and `npm publish` run it as prepack).
//
// Node strips TypeScript types only outside node_modules, so an installed package cannot run src/*.ts:
// bin/mlops.js runs src/cli/main.ts in a checkout and dist/cli/main.js once installed (src/ is not published).
// One ESM bundle with code splitting: every subcommand stays a lazy chunk, so `mlops gate` loads neither
// the AWS SDK nor the Kubernetes client. Every dependency is inlined except onnxruntime-node, whose native
// binding is loaded from the installed package (the package's one runtime dependency).
import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { EXTERNAL, root } from './build.ts';

export const CLI_OUT = join(root, 'dist', 'cli');

export const cliOptions: BuildOptions = {
  entryPoints: { main: join(root, 'src', 'cli', 'main.ts') },
  outdir: CLI_OUT,
  // Flat: chunks sit next to main.js, two levels under the package root like src/<domain>/<file>.ts, so
  // paths computed from import.meta.url (the package's manifests/ and scripts/) hold in both layouts.
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  external: EXTERNAL,
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  // CommonJS dependencies call require() for Node built-ins; an ESM chunk has no require of its own.
  banner: {
    js: "import{createRequire as __mlopsCreateRequire}from'node:module';const require=__mlopsCreateRequire(import.meta.url);",
  },
};

export async function buildCli(): Promise<Metafile> {
  rmSync(CLI_OUT, { recursive: true, force: true });
  const result = await build(cliOptions);
  if (!result.metafile) throw new Error('esbuild returned no metafile');
  return result.metafile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const metafile = await buildCli();
  const outputs = Object.entries(metafile.outputs);
  const total = outputs.reduce((sum, [, o]) => sum + o.bytes, 0);
  process.stderr.write(`built ${relative(root, CLI_OUT)}/: ${outputs.length} files, ${(total / 1e6).toFixed(2)} MB\n`);
}

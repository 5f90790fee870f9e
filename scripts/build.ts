// Bundles every actions/<name>/main.ts into actions/<name>/dist/index.js.
// `node scripts/build.ts --check` builds in memory and fails if a committed bundle differs.
import { readdirSync, existsSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Native or lazily installed packages that must not be inlined (see actions/evaluate/README.md). */
export const EXTERNAL = ['onnxruntime-node'];

export function actionNames(): string[] {
  return readdirSync(join(root, 'actions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, 'actions', d.name, 'main.ts')))
    .map((d) => d.name)
    .sort();
}

function options(name: string): BuildOptions {
  return {
    entryPoints: [join(root, 'actions', name, 'main.ts')],
    outfile: join(root, 'actions', name, 'dist', 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: EXTERNAL,
    minifySyntax: true,
    minifyWhitespace: true,
    legalComments: 'none',
    logLevel: 'warning',
    // CommonJS dependencies call require() for Node built-ins; an ESM bundle has no require of its own.
    banner: {
      js: "import{createRequire as __mlopsCreateRequire}from'node:module';const require=__mlopsCreateRequire(import.meta.url);",
    },
  };
}

/** Returns the names whose committed bundle differs from a fresh build. */
export async function buildAll({ check = false } = {}): Promise<string[]> {
  const stale: string[] = [];
  await Promise.all(
    actionNames().map(async (name) => {
      const result = await build({ ...options(name), write: false });
      const file = result.outputFiles?.[0];
      if (!file) throw new Error(`esbuild produced no output for actions/${name}`);
      const current = existsSync(file.path) ? readFileSync(file.path) : undefined;
      if (current && Buffer.compare(current, file.contents) === 0) return;
      if (check) {
        stale.push(relative(root, file.path));
      } else {
        mkdirSync(dirname(file.path), { recursive: true });
        writeFileSync(file.path, file.contents);
      }
    }),
  );
  return stale.sort();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check');
  const stale = await buildAll({ check });
  if (check && stale.length > 0) {
    process.stderr.write(`Bundles differ from a fresh build: ${stale.join(', ')}\nRun \`npm run build\` and commit the result.\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`${check ? 'checked' : 'built'} ${actionNames().length} action bundle(s)\n`);
  }
}

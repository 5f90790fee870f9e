// Runs every bench/*.bench.ts, or those named on the command line (`npm run bench -- data`), one after another.
// Each benchmark prints its own table of figures and ratios against peers measured in the same run.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireQuietMachine } from './lib/quiet.ts';

const here = dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort();
const wanted = process.argv.slice(2).map((n) => n.replace(/\.bench\.ts$/, ''));
const unknown = wanted.filter((n) => !all.includes(`${n}.bench.ts`));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${all.map((f) => basename(f, '.bench.ts')).join(', ')}\n`);
  process.exit(2);
}
const chosen = wanted.length > 0 ? wanted.map((n) => `${n}.bench.ts`) : all;
await requireQuietMachine();
let failed = 0;
for (const file of chosen) {
  process.stdout.write(`\n=== ${file} ===\n`);
  const result = spawnSync(process.execPath, [join(here, file)], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    process.stderr.write(`${file} failed (exit ${result.status ?? result.signal})\n`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;

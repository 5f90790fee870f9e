#!/usr/bin/env node
// In a checkout the CLI is TypeScript run by Node's type stripping (no build step). Node strips types only
// outside node_modules, so the npm package runs the bundle that `npm pack` builds (scripts/build-cli.ts).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`mlops needs Node.js 22.18 or newer (this is ${process.version}): install a current Node.js and run it again\n`);
  process.exit(2);
}
const source = new URL('../src/cli/main.ts', import.meta.url);
const { main } = await import(existsSync(fileURLToPath(source)) ? source.href : '../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));

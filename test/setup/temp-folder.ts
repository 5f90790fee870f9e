// vitest globalSetup: the suite gets its own temporary folder, and fails if it leaves anything there.
//
// TMPDIR is set before the workers start, so the tests, and every program they run (git, npm, Python,
// s3rver, onnxruntime), make their temporary files in one folder of the system's temporary folder.
// After the run that folder must be empty: each leftover is named (then removed, so /tmp is as it was).
// Entries that appeared directly in the system temporary folder during the run are named too; on a shared
// machine other processes make those, so they fail the run only in CI (CI=true, a machine of its own).
//
// onnxruntime-node (1.30) writes telemetry files (.ses, mat-debug-<pid>.log) into TMPDIR for every process
// that creates a session, unless ORT_DISABLE_TELEMETRY=1 (or CI/GITHUB_ACTIONS) is set: the suite sets it.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Caches tools keep in TMPDIR, not leftovers of a test: Node's compile cache (npm and tsc enable it). */
const CACHES = new Set(['node-compile-cache']);

export default function setup(): () => void {
  const system = tmpdir();
  const before = new Set(readdirSync(system));
  const root = mkdtempSync(join(system, 'mlops-test-run-'));
  process.env.TMPDIR = root;
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  return () => {
    process.env.TMPDIR = system;
    const left = readdirSync(root)
      .filter((name) => !CACHES.has(name))
      .sort();
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    const appeared = readdirSync(system).filter((name) => !before.has(name) && name !== root.slice(system.length + 1)).sort();
    const problems: string[] = [];
    if (left.length > 0) problems.push(`the tests left ${left.length} entr${left.length === 1 ? 'y' : 'ies'} in their temporary folder: ${left.join(', ')}`);
    if (appeared.length > 0) {
      const names = appeared.length > 10 ? `${appeared.slice(0, 10).join(', ')} and ${appeared.length - 10} more` : appeared.join(', ');
      const line = `${appeared.length} entr${appeared.length === 1 ? 'y' : 'ies'} appeared in ${system} during the run: ${names}`;
      if (process.env.CI === 'true') problems.push(`${line} (something ignores TMPDIR)`);
      else process.stderr.write(`note: ${line} (other processes on this machine may have made them)\n`);
    }
    if (problems.length > 0) {
      throw new Error(`${problems.join('; ')}. Make temporary folders with tempDir() from test/helpers/tmp.ts, and stop servers and child processes in afterAll.`);
    }
  };
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Temporary folders for tests. Each one is removed after its test file has run
 * (test/setup/cleanup.ts registers the hook for every file), so a suite run leaves the
 * system temporary folder as it found it.
 */
const created = new Set<string>();

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `mlops-${prefix}-`));
  created.add(dir);
  return dir;
}

/** Removes every folder tempDir made so far (called after each test file). */
export function removeTempDirs(): void {
  for (const dir of created) {
    // Tests make read-only folders (caches, read-only workspaces): force and retry through them.
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    created.delete(dir);
  }
}

import { defineConfig } from 'vitest/config';

// Every run also writes a JSON report that .ci/run sums into its closing "N passed, N failed" line.
const report = process.env.MLOPS_TEST_REPORT ?? 'vitest';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/temp-folder.ts'],
    setupFiles: ['test/setup/cleanup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', 'json'],
    outputFile: { json: `.test-results/${report}.json` },
  },
});

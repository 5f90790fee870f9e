// Sums vitest JSON reports into the one line the landing check reads: "N passed, N failed".
import { readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  let report: { numPassedTests?: number; numFailedTests?: number; numTotalTests?: number; success?: boolean };
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    process.stderr.write(`test report ${file} is missing or unreadable: counting the run as failed\n`);
    failed += 1;
    continue;
  }
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  // A suite that failed to load has no failed test but is still a failure.
  if (report.success === false && (report.numFailedTests ?? 0) === 0) failed += 1;
}
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed > 0 ? 1 : 0;

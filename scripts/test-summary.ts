/**
 * Prints the closing line CI reads, `N passed, N failed`, from vitest's JSON report (the
 * default reporter's own summary is not in that form).
 *
 *   node scripts/test-summary.ts test-results/vitest.json
 */
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results/vitest.json';
const report = JSON.parse(readFileSync(file, 'utf8')) as {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
};
const skipped = report.numPendingTests + report.numTodoTests;
console.log(
  `${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`,
);
process.exitCode = report.numFailedTests > 0 ? 1 : 0;

// Writes test/weights.json from a vitest JSON report: each test file that took at least 2 s, with its
// seconds, so the slow-first sequencer (test/support/slow-first-sequencer.ts) can start the longest files
// first on a clean clone, where vitest has no timing cache of its own.
//   npx vitest run --reporter=json --outputFile.json=test-results.json && npx tsx scripts/test-weights.ts test-results.json
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

interface Report {
  testResults: Array<{ name: string; startTime: number; endTime: number }>;
}

const reportPath = process.argv[2] ?? 'test-results.json';
const report = JSON.parse(readFileSync(reportPath, 'utf8')) as Report;
const weights: Record<string, number> = {};
for (const file of [...report.testResults].sort((a, b) => b.endTime - b.startTime - (a.endTime - a.startTime))) {
  const seconds = (file.endTime - file.startTime) / 1000;
  if (seconds < 2) continue;
  weights[relative(process.cwd(), file.name)] = Math.round(seconds * 10) / 10;
}
writeFileSync('test/weights.json', `${JSON.stringify(weights, null, 2)}\n`);
console.log(`test/weights.json: ${Object.keys(weights).length} files`);

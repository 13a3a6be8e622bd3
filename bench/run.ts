// Bench entry (`npm run bench [-- <suite>...] [--quick]`): runs the named suites, or every registered suite when none is given.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { writeReport } from './report/render-report.ts';
import type { Suite } from './suite.ts';

/** Registered suites, loaded lazily so one suite's imports cannot break another. */
const SUITES: Record<string, () => Promise<Suite>> = {
  throughput: () => import('./throughput.ts'),
  checkpoint: () => import('./checkpoint.ts'),
  backpressure: () => import('./backpressure.ts'),
  handover: () => import('./handover.ts'),
  'handover-start': () => import('./handover-start.ts'),
  restore: () => import('./restore.ts'),
  micro: () => import('./micro.ts'),
  startup: () => import('./startup.ts'),
  testing: () => import('./testing.ts'),
  connectors: () => import('./connectors.ts'),
};

const USAGE = `usage: npm run bench -- [suite...] [--quick]
suites: ${Object.keys(SUITES).join(', ')} (default: all)
  --quick   smaller record counts and fewer iterations`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const names = positionals.length > 0 ? positionals : Object.keys(SUITES);
  const unknown = names.filter((name) => !Object.hasOwn(SUITES, name));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  for (const name of names) {
    console.log(`\n=== bench: ${name}${values.quick ? ' (quick)' : ''} ===`);
    const suite = await SUITES[name]();
    await suite.run({ quick: values.quick });
  }
  const report = writeReport(new URL('./results/', import.meta.url));
  console.log(`\nreport: ${fileURLToPath(report)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

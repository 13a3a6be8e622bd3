// `baton demo`: runs the example click-stream job end to end and explains what happened.
import type { Command } from 'commander';
import { runJob } from '../../handover/run-job.ts';
import { formatCount, formatOperatorsTable } from '../format.ts';

const DEMO_JOB = new URL('../../../examples/clickstream.ts', import.meta.url);

export function registerDemoCommand(program: Command, out: (line: string) => void): void {
  program
    .command('demo')
    .description('run the example click-stream job on worker threads and print what it did')
    .option('--clicks <n>', 'number of clicks to generate', '200000')
    .action(async (flags: { clicks: string }) => {
      const clicks = Number(flags.clicks);
      out(`baton demo: ${formatCount(clicks)} clicks -> per-user one-minute windows + page-view milestones, parallelism 2`);
      out('');
      const job = await runJob(DEMO_JOB, { parallelism: 2, jobId: 'clickstream-demo', params: { clicks } });
      const t0 = Date.now();
      job.on('status', (e) => out(`  +${String(e.at - t0).padStart(5)} ms  ${e.status}`));
      const result = await job.done;
      out('');
      out(formatOperatorsTable(result.operators));
      const minutes = result.collected.minutes as Array<{ user: string; minute: string; count: number }>;
      const milestones = result.collected.milestones as Array<{ page: string; views: number }>;
      const busiest = [...minutes].sort((a, b) => b.count - a.count || a.user.localeCompare(b.user)).slice(0, 3);
      out('');
      out(`${formatCount(minutes.length)} windows fired; busiest user-minutes:`);
      for (const w of busiest) out(`  ${w.user} at ${w.minute} UTC: ${w.count} clicks`);
      out(`${milestones.length} page-view milestones, e.g. ${milestones.slice(0, 3).map((m) => `${m.page} reached ${formatCount(m.views)}`).join(', ')}`);
      const windowed = minutes.reduce((a, w) => a + w.count, 0);
      out(`every click counted once: ${formatCount(windowed)} of ${formatCount(clicks)} in windows`);
      out(`job ${result.status} in ${result.durationMs} ms; worker threads left: ${job.liveWorkerThreads()}`);
    });
}

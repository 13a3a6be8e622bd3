// `baton demo`: runs the example click-stream job end to end and explains what happened.
import type { Command } from 'commander';
import { runJob } from '../../handover/index.ts';
import { formatCount, formatOperatorsTable } from '../format.ts';
import { parsePositiveInt } from '../parse-params.ts';
import { runHandoverDemo } from './demo-handover.ts';
import { runShadowDemo } from './demo-shadow.ts';
import { exampleJob } from '../examples.ts';

const DEMO_JOB = exampleJob('clickstream');

export function registerDemoCommand(program: Command, out: (line: string) => void): void {
  const demo = program.command('demo').description('runnable demos: the handover (default), the handover on Redis Streams and PostgreSQL, a click-stream job');
  demo
    .command('handover', { isDefault: true })
    .description('A runs; B loads reference data, preloads state, follows A and takes over when it is ready (when-ready)')
    .option('--ref-mb <n>', 'size of the generated reference data (MiB)', parsePositiveInt('--ref-mb'), 256)
    .option('--orders <n>', 'orders in the input', parsePositiveInt('--orders'), 60_000)
    .option('--rate <n>', 'orders per second', parsePositiveInt('--rate'), 8_000)
    .option('--ahead <n>', 'a fixed target this many checkpoints ahead of A instead of when-ready', parsePositiveInt('--ahead'))
    .option('--svg <file>', 'where to write the timeline picture', 'handover-timeline.svg')
    .action(async (flags: { refMb: number; orders: number; rate: number; ahead?: number; svg: string }) => {
      await runHandoverDemo({ ...flags, progressBar: process.stdout.isTTY === true }, out);
    });
  demo
    .command('rollback')
    .description('like the handover demo, but B is stopped before its first checkpoint: A stands by after its stop checkpoint, then resumes by itself')
    .option('--ref-mb <n>', 'size of the generated reference data (MiB)', parsePositiveInt('--ref-mb'), 64)
    .option('--orders <n>', 'orders in the input', parsePositiveInt('--orders'), 40_000)
    .option('--rate <n>', 'orders per second', parsePositiveInt('--rate'), 4_000)
    .option('--svg <file>', 'where to write the timeline picture', 'rollback-timeline.svg')
    .action(async (flags: { refMb: number; orders: number; rate: number; svg: string }) => {
      await runHandoverDemo({ ...flags, rollback: true, progressBar: process.stdout.isTTY === true }, out);
    });
  demo
    .command('shadow')
    .description('B runs beside A on the same live input (SHADOW, its own output aside), a guard compares it with A, and the output switches at a cut: every order committed once')
    .option('--ref-mb <n>', 'size of the generated reference data (MiB)', parsePositiveInt('--ref-mb'), 64)
    .option('--orders <n>', 'orders in the live stream', parsePositiveInt('--orders'), 80_000)
    .option('--rate <n>', 'orders per second', parsePositiveInt('--rate'), 4_000)
    .option('--shadow-ms <n>', 'how long B runs in SHADOW before it asks for promotion', parsePositiveInt('--shadow-ms'), 3_000)
    .option('--svg <file>', 'where to write the timeline picture', 'shadow-timeline.svg')
    .action(async (flags: { refMb: number; orders: number; rate: number; shadowMs: number; svg: string }) => {
      await runShadowDemo(flags, out);
    });
  demo
    .command('redis-postgres')
    .description('the handover demo on real servers: clicks in Redis Streams, counted per user into PostgreSQL exactly once (two-phase commit); A runs, B takes over when it is ready (needs redis-server)')
    .option('--rate <n>', 'clicks per second appended to the streams', parsePositiveInt('--rate'), 2_000)
    .option('--streams <n>', 'stream shards clicks:{0}…', parsePositiveInt('--streams'), 2)
    .option('--users <n>', 'distinct users', parsePositiveInt('--users'), 100)
    .option('--after <n>', 'clicks appended after B took over', parsePositiveInt('--after'), 2_000)
    .action(async (flags: { rate: number; streams: number; users: number; after: number }) => {
      // Loaded here: every other command starts without the Redis and PostgreSQL clients.
      const { runRedisPostgresDemo } = await import('./demo-redis-postgres.ts');
      await runRedisPostgresDemo(flags, out);
    });
  demo
    .command('clickstream')
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

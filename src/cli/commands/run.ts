// `baton run <job>`: runs a job module, printing status changes, progress and the final counters.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { runJob } from '../../handover/index.ts';
import { attachJobLogger, attachJobMetrics, createLifecycleLogger, type MetricsServer, startMetricsServer } from '../../metrics/index.ts';
import type { RunJobOptions } from '../../runtime/index.ts';
import type { JobParam } from '../../runtime/types.ts';
import { formatCount, formatCounters, formatOperatorsTable } from '../format.ts';
import { CliUsageError, parseParam, parsePositiveInt } from '../parse-params.ts';

function parseStateBackend(raw: string): 'lmdb' | 'heap' {
  if (raw !== 'lmdb' && raw !== 'heap') throw new CliUsageError(`--state-backend must be lmdb or heap, got '${raw}'`);
  return raw;
}

function parsePort(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new CliUsageError(`--metrics-port must be an integer from 0 to 65535, got '${raw}'`);
  return value;
}

interface RunFlags {
  jobId?: string;
  parallelism?: number;
  maxParallelism?: number;
  param: Record<string, JobParam>;
  progressMs: number;
  batchSize?: number;
  channelCredits?: number;
  checkpointStorage?: string;
  restoreFrom?: string;
  stopAfterCheckpoint?: number;
  stateBackend?: 'lmdb' | 'heap';
  allowNonRestoredState?: boolean;
  handoverTarget?: number;
  /** `--handover` alone: true (when-ready); `--handover <n>`: the fixed target. */
  handover?: true | string;
  handoverLeaseMs?: number;
  handoverTimeout?: number;
  handoverOnTimeout?: 'fail' | 'start-from-latest';
  handoverPoll?: number;
  handoverMode?: 'checkpoint' | 'shadow';
  shadowPromoteAfter?: number | 'manual';
  shadowSampleEvery?: number;
  resultJson?: string;
  metricsPort?: number;
  metricsHost: string;
  logJson?: boolean;
}

/** `--handover` (when-ready), `--handover <n>` or `--handover-target <n>` (a fixed target), and their tuning flags. */
function handoverOption(flags: RunFlags): RunJobOptions['handover'] {
  if (flags.handover === undefined && flags.handoverTarget === undefined) return undefined;
  if (typeof flags.handover === 'string' && flags.handoverTarget !== undefined) throw new CliUsageError('give the target once: --handover <n> or --handover-target <n>');
  const target = typeof flags.handover === 'string' ? parsePositiveInt('--handover')(flags.handover) : (flags.handoverTarget ?? 'when-ready');
  const shadow = flags.handoverMode === 'shadow' ? { mode: 'shadow' as const, shadow: { promoteAfterMs: flags.shadowPromoteAfter, sampleEveryMs: flags.shadowSampleEvery } } : {};
  if (flags.handoverMode !== 'shadow' && (flags.shadowPromoteAfter !== undefined || flags.shadowSampleEvery !== undefined)) throw new CliUsageError('--shadow-* flags need --handover-mode shadow');
  return { targetCheckpoint: target, leaseMs: flags.handoverLeaseMs, timeoutMs: flags.handoverTimeout, onTimeout: flags.handoverOnTimeout, pollMs: flags.handoverPoll, ...shadow };
}

function parseHandoverMode(raw: string): 'checkpoint' | 'shadow' {
  if (raw !== 'checkpoint' && raw !== 'shadow') throw new CliUsageError(`--handover-mode must be checkpoint or shadow, got '${raw}'`);
  return raw;
}

function parsePromoteAfter(raw: string): number | 'manual' {
  return raw === 'manual' ? 'manual' : parsePositiveInt('--shadow-promote-after')(raw);
}

function parseOnTimeout(raw: string): 'fail' | 'start-from-latest' {
  if (raw !== 'fail' && raw !== 'start-from-latest') throw new CliUsageError(`--handover-on-timeout must be fail or start-from-latest, got '${raw}'`);
  return raw;
}

export function registerRunCommand(program: Command, out: (line: string) => void, err: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): void {
  program
    .command('run')
    .description('run a job module (export default defineJob(...)) and print its counters')
    .argument('<job>', 'path or file URL of the job module')
    .option('--job-id <id>', 'job id (default: the module file name)')
    .option('-p, --parallelism <n>', 'default operator parallelism', parsePositiveInt('--parallelism'))
    .option('--max-parallelism <n>', 'number of key groups', parsePositiveInt('--max-parallelism'))
    .option('--param <key=value>', 'job parameter, read by the job as env.params.key (repeatable)', parseParam, {})
    .option('--progress-ms <ms>', 'interval of progress lines', parsePositiveInt('--progress-ms'), 1000)
    .option('--batch-size <n>', 'records per channel batch', parsePositiveInt('--batch-size'))
    .option('--channel-credits <n>', 'batches in flight per channel', parsePositiveInt('--channel-credits'))
    .option('--checkpoint-storage <uri>', 'checkpoint root: file:///dir, a path, or s3://bucket/prefix')
    .option(
      '--restore-from <latest|latest-valid|latest-or-empty|n|path>',
      'restore from the newest completed checkpoint (latest: fail if there is none or it is corrupt; latest-valid: fall back past corrupt ones, with a warning; latest-or-empty: like latest, but start empty when there is none), checkpoint n, or a .../chk-<n> path',
    )
    .option('--stop-after-checkpoint <n>', 'end (SUSPENDED) right after checkpoint n completes', parsePositiveInt('--stop-after-checkpoint'))
    .option('--state-backend <lmdb|heap>', 'keyed state backend (default lmdb)', parseStateBackend)
    .option('--allow-non-restored-state', 'drop checkpointed state of operators the job no longer has')
    .option('--handover [n]', "deployment B: preload while the running job goes on, then take over when ready (default: 'when-ready'), or at checkpoint n")
    .option('--handover-target <n>', 'deployment B with a fixed target: take over at checkpoint n (same as --handover n)', parsePositiveInt('--handover-target'))
    .option('--handover-lease-ms <ms>', "B's stop request is void unless renewed within this time (default 5000)", parsePositiveInt('--handover-lease-ms'))
    .option('--handover-timeout <ms>', 'how long B waits for the target (default 600000)', parsePositiveInt('--handover-timeout'))
    .option('--handover-on-timeout <policy>', 'fail (default) or start-from-latest', parseOnTimeout)
    .option('--handover-poll <ms>', 'how often B lists the job directory (default 100)', parsePositiveInt('--handover-poll'))
    .option('--handover-mode <mode>', 'checkpoint (default: B takes over at the running job\'s stop checkpoint) or shadow (B runs beside it, then output switches at a cut)', parseHandoverMode)
    .option('--shadow-promote-after <ms|manual>', 'shadow mode: promote after this long in SHADOW (default manual: never, from the CLI)', parsePromoteAfter)
    .option('--shadow-sample-every <ms>', 'shadow mode: how often the shadow output is sampled and made visible (default 1000)', parsePositiveInt('--shadow-sample-every'))
    .option('--result-json <file>', 'write the job result (status, checkpoints, handover metrics) as JSON')
    .option('--metrics-port <n>', 'serve Prometheus metrics at http://host:n/metrics (0: a free port)', parsePort)
    .option('--metrics-host <host>', 'address the metrics endpoint binds to', '127.0.0.1')
    .option('--log-json', 'lifecycle events as JSON lines (pino) on stderr instead of the lines above the table')
    .action(async (job: string, flags: RunFlags) => {
      const started = Date.now();
      // Listening first: a port already taken fails the command before the job starts.
      const registry = new Registry();
      let metrics: MetricsServer | undefined;
      if (flags.metricsPort !== undefined) {
        collectDefaultMetrics({ register: registry });
        metrics = await startMetricsServer(registry, flags.metricsPort, flags.metricsHost);
        out(`metrics at ${metrics.url}`);
      }
      const handle = await runJob(job, {
        jobId: flags.jobId,
        parallelism: flags.parallelism,
        maxParallelism: flags.maxParallelism,
        params: flags.param,
        metricsIntervalMs: flags.progressMs,
        batchSize: flags.batchSize,
        channelCredits: flags.channelCredits,
        checkpointStorage: flags.checkpointStorage,
        restoreFrom: flags.restoreFrom === undefined ? undefined : /^\d+$/.test(flags.restoreFrom) ? Number(flags.restoreFrom) : flags.restoreFrom,
        stopAfterCheckpoint: flags.stopAfterCheckpoint,
        stateBackend: flags.stateBackend,
        allowNonRestoredState: flags.allowNonRestoredState,
        handover: handoverOption(flags),
      }).catch(async (error: unknown) => {
        // A job that cannot start must not leave the endpoint holding the process open.
        await metrics?.close();
        throw error;
      });
      if (metrics) attachJobMetrics(handle, registry);
      if (flags.logJson) {
        const logger = createLifecycleLogger({ write: (line) => err(line.trimEnd()) });
        attachJobLogger(handle, logger);
        handle.on('warning', (w) => logger.warn({ job: handle.jobId, event: 'warning', code: w.code, operator: w.operatorUid }, w.message));
      } else {
        // Once per finding (the handle emits each once, before the job starts).
        handle.on('warning', (w) => err(`warning: ${w.message}`));
        handle.on('handover', (h) => out(`${seconds()}s  handover ${h.phase}${h.checkpointId === undefined ? '' : ` chk-${h.checkpointId}`}${h.detail ? `: ${h.detail}` : ''}`));
        handle.on('stop-request', (r) => out(`${seconds()}s  stop request${r.afterCheckpoint === undefined ? '' : ` after chk-${r.afterCheckpoint}`} ${r.accepted ? 'accepted' : `rejected: ${r.reason}`}`));
        handle.on('end-of-input', (e) => out(`${seconds()}s  end of input: final checkpoint ${e.finalCheckpoint} triggered`));
        handle.on('restore-fallback', (r) => err(`warning: ${r.message}`));
        handle.on('restore', (r) => out(`${seconds()}s  ${r.message}`));
        handle.on('fenced', (f) => out(`${seconds()}s  fenced at chk-${f.checkpointId} (${f.reason}): another run owns the job directory`));
        handle.on('storage-problem', (p) =>
          out(`${seconds()}s  ${p.recovered ? `storage works again (${p.operation}) after ${p.failures} failed attempt(s)` : `storage problem (${p.operation}, ${p.failures} failed): ${p.error}`}`),
        );
        handle.on('checkpoint', (c) => out(`${seconds()}s  checkpoint ${c.id} ${c.status}${c.status === 'COMPLETED' ? ` in ${c.durationMs} ms, ${formatCount(c.stateBytes)} state bytes` : `: ${c.failure}`}`));
        const seconds = () => ((Date.now() - started) / 1000).toFixed(1).padStart(6);
        out(`${seconds()}s  job '${handle.jobId}' submitted`);
        handle.on('status', (e) => out(`${seconds()}s  ${e.status}`));
        handle.on('progress', (p) => {
          const parts = Object.entries(p.operators).map(([uid, m]) => `${uid} ${formatCount(Math.max(m.recordsIn, m.recordsOut))}`);
          out(`${seconds()}s  progress  ${parts.join(' | ')}`);
        });
      }
      const result = await handle.done.finally(() => metrics?.close());
      if (flags.resultJson) await writeFile(flags.resultJson, `${JSON.stringify(result, null, 2)}\n`);
      for (const r of result.rollbacks ?? []) out(`rollback: resumed after chk-${r.checkpointId} (${r.reason}), downtime ${r.downtimeMs ?? '?'} ms`);
      if (result.handover?.mode === 'shadow') {
        const s = result.handover.shadow;
        out(`shadow: bootstrapped from chk-${s?.bootstrapCheckpoint ?? '?'}, ${s?.shadowRecords ?? 0} records in shadow, guard ${s?.guard?.verdict ?? 'not asked'}${s?.cutCheckpoint === undefined ? '' : `, cut at chk-${s.cutCheckpoint} after ${s.overlapMs ?? '?'} ms of overlap, first live record ${s.liveGapMs ?? '?'} ms after the running job's last`}`);
      } else if (result.handover) {
        const h = result.handover;
        out(`handover to chk-${h.targetCheckpoint}: hooks ${h.hookMs} ms, stage 1 ${h.stage1Ms} ms, waiting ${h.waitMs} ms (${h.followedCheckpoints} followed${h.passedOverCheckpoints > 0 ? `, ${h.passedOverCheckpoints} passed over` : ''}), stage 2 ${h.stage2Ms} ms, downtime ${h.downtimeMs ?? '?'} ms`);
      }
      out('');
      out(formatOperatorsTable(result.operators));
      for (const line of formatCounters(result.operators)) out(line);
      out('');
      out(`job '${result.jobId}' ${result.status} in ${(result.durationMs / 1000).toFixed(2)} s`);
    });
}

// Failure behaviour: user errors, bad options and graphs, failing hooks, cancel — and no thread left behind.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  JobConfigError,
  JobModuleError,
  PreStateHookError,
  runJob,
  type StatusEvent,
  UserFunctionError,
} from '../../src/index.ts';
import { jobUrl, runToCompletion } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'baton-failures-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a user function that throws', () => {
  // On threads: the error crosses from a worker thread with its stack, and every thread stops. The
  // same naming in one thread (parallelism 1) is checked in testJob: test/runtime/job-semantics.test.ts.
  for (const parallelism of [2]) {
    it(`fails the job naming operator, subtask and stack, and stops every thread (parallelism ${parallelism})`, async () => {
      const output = join(dir, `failing-${parallelism}`);
      const job = await runJob(jobUrl('failing-map'), { parallelism, params: { failAt: 5_000, output } });
      const statuses: StatusEvent[] = [];
      job.on('status', (e) => statuses.push(e));
      const error = await job.done.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UserFunctionError);
      const failure = error as UserFunctionError;
      expect(failure.operatorUid).toBe('boom');
      // Sequence splits are contiguous: record 5000 is read by subtask 0.
      expect(failure.subtaskIndex).toBe(0);
      expect(failure.originalMessage).toBe('cannot handle record 5000');
      expect(failure.originalStack).toContain('explode');
      expect(failure.originalStack).toContain('failing-map.ts');
      expect(failure.message).toContain("operator 'boom' (subtask 0)");
      expect(job.status).toBe('FAILED');
      expect(statuses.at(-1)?.status).toBe('FAILED');
      expect(job.liveWorkerThreads()).toBe(0);
      // Nothing uncommitted became visible.
      const visible = existsSync(output) ? readdirSync(output).filter((f) => !f.startsWith('.')) : [];
      expect(visible).toEqual([]);
    });
  }
});

describe('invalid options and graphs are rejected before anything starts', () => {
  it('parallelism 0 names the option', async () => {
    const error = await runJob(jobUrl('running-sum'), { parallelism: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobConfigError);
    expect((error as JobConfigError).option).toBe('parallelism');
    expect((error as Error).message).toContain('parallelism');
  });

  it('an unknown option names it', async () => {
    const error = await runJob(jobUrl('running-sum'), { paralelism: 2 } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobConfigError);
    expect((error as JobConfigError).option).toBe('paralelism');
  });

  it('a duplicate uid names the uid, and no hook ran', async () => {
    const marker = join(dir, 'marker');
    const error = await runJob(jobUrl('duplicate-uid'), { params: { marker } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobConfigError);
    expect((error as JobConfigError).option).toBe("uid 'twice'");
    expect(existsSync(marker)).toBe(false);
  });

  it('a file source whose path does not exist names the source option', async () => {
    const error = await runJob(jobUrl('word-count'), { params: { input: join(dir, 'missing.txt') } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobConfigError);
    expect((error as JobConfigError).option).toBe('Sources.file path');
  });

  it('a module without a job is named', async () => {
    const error = await runJob(jobUrl('not-a-job')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobModuleError);
    expect((error as Error).message).toContain('not-a-job.ts');
  });

  it('too few workers for the job is a start-up error, not a deadlock', async () => {
    const error = await runJob(jobUrl('running-sum'), { parallelism: 4, workers: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobConfigError);
    expect((error as JobConfigError).option).toBe('workers');
  });
});

describe('pre-state-load hooks', () => {
  it('run in every worker before records flow', async () => {
    const result = await runToCompletion('hooks', { parallelism: 2 });
    const records = result.collected.out as string[];
    expect(records).toHaveLength(100);
    for (const record of records) expect(record).toMatch(/^\d+:worker-[01]-of-2$/);
    expect(result.hookMs.refdata).toBeGreaterThanOrEqual(4);
    const statuses = result.statusHistory.map((e) => e.status);
    expect(statuses).toEqual(['CREATED', 'INITIALIZING', 'RUNNING_PRE_STATE_HOOKS', 'RESTORING', 'WAITING_FOR_START_SIGNAL', 'RUNNING', 'FINISHED']);
    for (let i = 1; i < result.statusHistory.length; i++) expect(result.statusHistory[i].at).toBeGreaterThanOrEqual(result.statusHistory[i - 1].at);
  });

  it('a failing hook fails the start naming the hook; no record was processed', async () => {
    const job = await runJob(jobUrl('failing-hook'), { parallelism: 2 });
    const error = await job.done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PreStateHookError);
    expect((error as PreStateHookError).hookName).toBe('load-refdata');
    expect((error as PreStateHookError).workerIndex).toBe(1);
    expect((error as Error).message).toContain('reference data bucket unreachable');
    expect(job.statusHistory.map((e) => e.status)).not.toContain('RUNNING');
    expect(job.liveWorkerThreads()).toBe(0);
  });
});

describe('credit-based flow control', () => {
  it('keeps in-flight batches under the credit limit while a slow sink back-pressures a fast source', async () => {
    const channelCredits = 3;
    const batchSize = 256;
    const result = await runToCompletion('slow-sink', { params: { count: 60_000, micros: 5 }, channelCredits, batchSize, parallelism: 2 });
    const received = (result.collected.slow as number[]).reduce((a, b) => a + b, 0);
    expect(received).toBe(60_000);
    expect(result.channels).toHaveLength(2);
    for (const channel of result.channels) {
      expect(channel.maxInFlight).toBeLessThanOrEqual(channelCredits);
      // The producer stopped instead of queueing: at most one finished batch waited for credit.
      expect(channel.maxBacklog).toBeLessThanOrEqual(2);
      expect(channel.recordsSent).toBe(30_000);
    }
    expect(result.channels.map((c) => c.transport).sort()).toEqual(['local', 'port']);
    // Across threads the sink was slower than the source: the limit was actually reached.
    expect(result.channels.find((c) => c.transport === 'port')?.maxInFlight).toBe(channelCredits);
  });
});

describe('cancel', () => {
  it('stops a running job: CANCELED, no thread left, nothing committed', async () => {
    const output = join(dir, 'canceled');
    const job = await runJob(jobUrl('endless'), { parallelism: 2, params: { output }, metricsIntervalMs: 20 });
    await new Promise<void>((resolve) => {
      job.on('progress', (p) => {
        if ((p.operators.files?.recordsIn ?? 0) > 0) resolve();
      });
    });
    await job.cancel();
    const result = await job.done;
    expect(result.status).toBe('CANCELED');
    expect(job.status).toBe('CANCELED');
    expect(job.liveWorkerThreads()).toBe(0);
    const files = existsSync(output) ? readdirSync(output) : [];
    expect(files.filter((f) => !f.startsWith('.'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.inprogress'))).toEqual([]);
    expect(result.operators.files.recordsIn).toBeGreaterThan(0);
  });
});

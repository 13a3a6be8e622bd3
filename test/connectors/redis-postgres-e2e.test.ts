// End to end on worker threads: Redis Streams (sharded by user over 4 stream keys) → running count per
// user in keyed state → Sinks.postgres (2PC), against a real redis-server and PostgreSQL. After each
// fault the table equals the table of one uninterrupted run over the same input, row for row, and no
// prepared transaction is left. Processes (a SIGKILL, a handover): redis-postgres-processes.test.ts.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runJob } from '../../src/index.ts';
import { nextEvent } from '../support/job-events.ts';
import { startTcpHoldProxy } from '../support/tcp-hold-proxy.ts';
import { E2E_JOB, e2eOptions, e2eParams, PARTS, TOTAL, useE2eServers, viaPort } from './redis-postgres-e2e.ts';

const e2e = useE2eServers('baton-redis-pg-e2e-');

// Starting a job's worker threads takes seconds on a busy 2-core machine: the timeout is a failure
// detector; every step waits for an event.
describe('Redis Streams → keyed count → PostgreSQL (2PC), end to end on worker threads', { timeout: 90_000 }, () => {
  it('a worker thread killed while a checkpoint is being prepared: the job restarts from the latest checkpoint, the table equals the reference', async () => {
    const { servers, root } = e2e;
    const table = 'worker_kill';
    const clicks = await e2e.freshRun(table);
    const proxy = await startTcpHoldProxy(servers.pgServer.port);
    const crashWhenFile = join(root, 'crash-now');
    const crashMarker = join(root, 'crashed');
    try {
      await clicks.append(PARTS[0]);
      const params = e2eParams(servers, clicks, table, { postgres: viaPort(servers, proxy.port), crashWhenFile, crashMarker });
      const job = e2e.track(await runJob(E2E_JOB, { ...e2eOptions(root, table, params), restartStrategy: { type: 'fixedDelay', attempts: 2, delayMs: 10 } }));
      await nextEvent(job, 'checkpoint', async (c) => c.status === 'COMPLETED' && (await servers.rows(table)).length > 0, 'rows were committed');
      // Mid-stream: a subtask's transaction holds rows written but not prepared; its PREPARE TRANSACTION
      // is held on its way to the server, so that checkpoint cannot complete. Then a worker thread dies.
      const held = proxy.holdNext(/PREPARE TRANSACTION/);
      await clicks.append(PARTS[1]);
      await held;
      const restarted = nextEvent(job, 'status', (e) => e.status === 'RESTARTING', 'the job restarted');
      writeFileSync(crashWhenFile, 'kill');
      await restarted;
      proxy.dropHeld();
      await nextEvent(job, 'status', (e) => e.status === 'RUNNING', 'the job ran again');
      await clicks.append(PARTS[2]);
      await nextEvent(job, 'checkpoint', async (c) => c.status === 'COMPLETED' && (await servers.rows(table)).length >= clicks.total, 'every click has its row');
      const result = await job.stop({ mode: 'suspend' });

      expect(existsSync(crashMarker)).toBe(true);
      expect(result.attempts).toBe(2);
      await e2e.expectReference(table);
      expect(job.liveWorkerThreads()).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('PostgreSQL goes away for a few seconds with a prepared transaction outstanding: one restart, the restore waits for the database, the table equals the reference', async () => {
    const { servers, root } = e2e;
    const table = 'db_outage';
    const clicks = await e2e.freshRun(table);
    const { pgServer } = servers;
    const proxy = await startTcpHoldProxy(pgServer.port);
    try {
      await clicks.append(PARTS[0]);
      const params = e2eParams(servers, clicks, table, { postgres: viaPort(servers, proxy.port) });
      const job = e2e.track(await runJob(E2E_JOB, { ...e2eOptions(root, table, params), restartStrategy: { type: 'fixedDelay', attempts: 3, delayMs: 10 } }));
      const failedCheckpoints: string[] = [];
      job.on('checkpoint', (c) => {
        if (c.status === 'FAILED') failedCheckpoints.push(c.failure ?? '');
      });
      await nextEvent(job, 'checkpoint', async (c) => c.status === 'COMPLETED' && (await servers.rows(table)).length > 0, 'rows were committed');
      // A checkpoint completes; its COMMIT PREPARED is held on the way: a prepared transaction is outstanding.
      const held = proxy.holdNext(/COMMIT PREPARED/);
      await clicks.append(PARTS[1]);
      const gid = /COMMIT PREPARED '([^']+)'/.exec(await held)?.[1] ?? '';
      expect(await servers.prepared()).toContain(gid);
      // The database goes away (a fast shutdown: sessions ended, the prepared transaction kept on disk)
      // while input goes on arriving: the sink's next statement fails, the job restarts.
      let restarted = false;
      const restoring = nextEvent(
        job,
        'status',
        (e) => {
          if (e.status === 'RESTARTING') restarted = true;
          return restarted && e.status === 'RESTORING';
        },
        'the restarted job restores',
      );
      await pgServer.stop();
      proxy.dropHeld();
      await clicks.append(PARTS[2]);
      await restoring;
      // The restore keeps trying to reach the database (each attempt refused) instead of failing the job.
      await proxy.accepted(12);
      expect(job.status).toBe('RESTORING');
      await pgServer.start();
      await nextEvent(job, 'checkpoint', async (c) => c.status === 'COMPLETED' && (await servers.rows(table)).length >= clicks.total, 'every click has its row');
      const result = await job.stop({ mode: 'suspend' });

      // One restart for the whole outage: the restore waited, it did not spend the attempts left.
      expect(result.attempts).toBe(2);
      expect(failedCheckpoints.length).toBeGreaterThan(0);
      await e2e.expectReference(table);
    } finally {
      await proxy.close();
    }
  });

  it('the reference: one uninterrupted run writes the rows the test computes, every click once', async () => {
    expect(await e2e.reference()).toHaveLength(TOTAL);
  });
});

// End to end across processes: Redis Streams (sharded by user) → running count per user in keyed state →
// Sinks.postgres (2PC), the job deployed with `baton run` in a child process, against a real
// redis-server and PostgreSQL. The process SIGKILLed with a prepared transaction outstanding, and a
// when-ready handover from that deployment to another process in the middle of the stream: the table
// equals one uninterrupted run's, row for row, and no prepared transaction is left.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTransactionId } from '../../src/connectors/postgres/index.ts';
import { runJob } from '../../src/index.ts';
import { type Deployment, startDeployment } from '../e2e/deployment.ts';
import { nextEvent } from '../support/job-events.ts';
import { startTcpHoldProxy } from '../support/tcp-hold-proxy.ts';
import { E2E_JOB, E2E_JOB_PATH, e2eChildEnv, e2eCliArgs, e2eOptions, e2eParams, PARTS, useE2eServers, viaPort } from './redis-postgres-e2e.ts';

const e2e = useE2eServers('baton-redis-pg-proc-');

/** Resolves at the first line of `d` saying a checkpoint completed after which `check` holds; rejects if the process exits first. */
function deploymentCheckpoint(d: Deployment, check: () => Promise<boolean>, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    d.onLine(async (line) => {
      if (settled || !/checkpoint \d+ COMPLETED/.test(line) || !(await check())) return;
      settled = true;
      resolve();
    });
    void d.exited.then((e) => {
      if (settled) return;
      settled = true;
      reject(new Error(`deployment exited (${e.code}) before ${what}:\n${e.output}`));
    });
  });
}

// Each test starts a child process (a Node process compiling the job, its worker threads): on a busy
// 2-core machine that alone can take seconds. The timeout is a failure detector; every step waits for an event.
describe('Redis Streams → keyed count → PostgreSQL (2PC), end to end across processes', { timeout: 90_000 }, () => {
  it('the process SIGKILLed between PREPARE and COMMIT PREPARED: a new process restores from latest, commits that transaction, the table equals the reference', async () => {
    const { servers, root } = e2e;
    const table = 'process_kill';
    const clicks = await e2e.freshRun(table);
    const proxy = await startTcpHoldProxy(servers.pgServer.port);
    try {
      await clicks.append(PARTS[0]);
      const options = e2eOptions(root, table, e2eParams(servers, clicks, table, { postgres: viaPort(servers, proxy.port) }));
      const a = e2e.track(startDeployment(E2E_JOB_PATH, e2eCliArgs(options), join(root, 'kill-a.json'), e2eChildEnv(root)));
      await deploymentCheckpoint(a, async () => (await servers.rows(table)).length > 0, 'rows were committed');
      // A checkpoint completes; its COMMIT PREPARED is held on the way. Then the whole process dies.
      const held = proxy.holdNext(/COMMIT PREPARED/);
      await clicks.append(PARTS[1]);
      const gid = /COMMIT PREPARED '([^']+)'/.exec(await held)?.[1] ?? '';
      a.child.kill('SIGKILL');
      const ea = await a.exited;
      proxy.dropHeld();
      expect(ea.result).toBeUndefined();
      // The dead process left its transaction prepared: its rows are not visible, nor lost.
      expect(await servers.prepared()).toContain(gid);
      await clicks.append(PARTS[2]);

      // Another process (this one) restores from the latest checkpoint.
      const b = e2e.track(await runJob(E2E_JOB, { ...options, restoreFrom: 'latest' }));
      await nextEvent(b, 'status', (e) => e.status === 'RUNNING', 'the restored job ran');
      // The restore resolved the outstanding transaction before any record flowed.
      expect(await servers.prepared()).not.toContain(gid);
      await nextEvent(b, 'checkpoint', async (c) => c.status === 'COMPLETED' && (await servers.rows(table)).length >= clicks.total, 'every click has its row');
      const result = await b.stop({ mode: 'suspend' });

      expect(result.restoredFrom).toBeGreaterThanOrEqual(parseTransactionId(gid)!.checkpointId);
      await e2e.expectReference(table);
    } finally {
      await proxy.close();
    }
  });

  it('a when-ready handover from deployment A (a process) to B (another) mid-stream, more input after the takeover: the table equals the reference', async () => {
    const { servers, root } = e2e;
    const table = 'handover';
    const clicks = await e2e.freshRun(table);
    await clicks.append(PARTS[0]);
    const options = e2eOptions(root, table, e2eParams(servers, clicks, table));
    const a = e2e.track(startDeployment(E2E_JOB_PATH, e2eCliArgs(options), join(root, 'handover-a.json'), e2eChildEnv(root)));
    await deploymentCheckpoint(a, async () => (await servers.rows(table)).length > 0, 'rows were committed');
    // Input keeps arriving while B starts, follows A and takes over: a few clicks at each of A's
    // checkpoints, so A's stop checkpoint lands mid-stream. What the drip has not used comes after.
    let taken = false;
    let dripped = 0;
    const dripBudget = PARTS[1] + PARTS[2] - 100;
    a.onLine((line) => {
      if (taken || dripped >= dripBudget || !/checkpoint \d+ COMPLETED/.test(line)) return;
      dripped += 10;
      void clicks.append(10);
    });
    const b = e2e.track(await runJob(E2E_JOB, { ...options, handover: {} }));
    await nextEvent(b, 'status', (e) => e.status === 'RUNNING', 'B took over');
    taken = true;
    const ea = await a.exited;
    expect(ea.code, ea.output).toBe(0);
    expect(ea.result!.status).toBe('SUSPENDED');
    // More input after the takeover: B reads on from A's stop checkpoint.
    await clicks.append(PARTS[0] + PARTS[1] + PARTS[2] - clicks.total);
    await nextEvent(b, 'checkpoint', async (c) => c.status === 'COMPLETED' && (await servers.rows(table)).length >= clicks.total, 'every click has its row');
    const result = await b.stop({ mode: 'suspend' });

    expect(result.handover!.requestedTarget).toBe('when-ready');
    expect(result.handover!.outcome).toBe('target');
    expect(result.handover!.targetCheckpoint).toBe(ea.result!.stoppedAtCheckpoint);
    console.log(`redis → postgres handover: ${dripped} clicks arrived while B started, downtime ${result.handover!.downtimeMs} ms`);
    await e2e.expectReference(table);
  });
});

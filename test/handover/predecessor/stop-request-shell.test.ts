// Deployment A's stop-request shell against a real directory, with the runtime and the clock as test doubles.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writeLeasedStopRequest } from '../../../src/checkpoint/status/lease-request.ts';
import { STOP_REQUEST_KEY, writeStopRequest } from '../../../src/checkpoint/status/stop-request.ts';
import { openStorage } from '../../../src/checkpoint/storage/index.ts';
import type { CheckpointStorage } from '../../../src/checkpoint/storage/types.ts';
import { type ShellClock, StopRequestShell } from '../../../src/handover/predecessor/index.ts';
import type { RollbackReport, RunningJobControl } from '../../../src/runtime/coordinator/start-sequence.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-stop-shell-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

/** The runtime as the shell sees it: records every call; checkpoint ids advance like a driver's. */
function fakeJob(storage: CheckpointStorage) {
  const calls: string[] = [];
  const events: Array<{ event: string; payload: Record<string, unknown> }> = [];
  let next = 5;
  const control: RunningJobControl = {
    jobId: 'job',
    runId: 'run-a',
    jobStorage: storage,
    restart: false,
    nextCheckpointId: () => next,
    stopAtOnce: (owner) => {
      calls.push(`stopAtOnce ${owner}`);
      // Triggered now: its barrier is out, the next id moves on.
      return next++;
    },
    stopAfter: (id, owner) => void calls.push(`stopAfter ${id}${owner ? ` ${owner}` : ''}`),
    withdrawStop: (id) => void calls.push(`withdrawStop ${id}`),
    end: () => void calls.push('end'),
    resume: (reason) => {
      calls.push(`resume ${reason}`);
      const report: RollbackReport = { checkpointId: 5, reason, resumedAt: 1, lastRecordAt: 1, firstRecordAt: 2, downtimeMs: 1 };
      return Promise.resolve(report);
    },
    emit: (event, payload) => void events.push({ event, payload: payload as Record<string, unknown> }),
  };
  return { control, calls, events };
}

/** A clock the test moves; the shell's timer never fires on its own (the test polls). */
function manualClock(start: number): ShellClock & { set(t: number): void } {
  let now = start;
  return {
    now: () => now,
    every: () => () => {},
    set: (t) => {
      now = t;
    },
  };
}

async function setUp() {
  const storage = openStorage(pathToFileURL(join(root, `job-${++dirs}`)).href);
  const job = fakeJob(storage);
  const clock = manualClock(10_000);
  const shell = new StopRequestShell(job.control, { pollMs: 1_000_000 }, clock);
  // The look it takes when it starts (an empty directory) ends before the test writes anything.
  await shell.poll();
  return { storage, ...job, clock, shell };
}
const flush = () => new Promise((r) => setTimeout(r, 5));

describe('stop-request shell (deployment A)', () => {
  it('a live when-ready request: stop at once naming B; standby; lease expired → resume and remove the request', async () => {
    const t = await setUp();
    await writeLeasedStopRequest(t.storage, { runId: 'run-b', leaseExpiresAt: 11_000, requestedBy: 'test' });
    await t.shell.poll();
    expect(t.calls).toEqual(['stopAtOnce run-b']);
    expect(t.shell.stopCompleted(5)).toBe('standby');
    t.clock.set(10_500);
    await t.shell.poll();
    expect(t.calls).toEqual(['stopAtOnce run-b']);
    t.clock.set(11_000);
    await t.shell.poll();
    await flush();
    expect(t.calls.at(-1)).toMatch(/^resume the lease of run run-b's request expired 0 ms ago/);
    expect(await t.storage.exists(STOP_REQUEST_KEY)).toBe(false);
    expect(t.events.filter((e) => e.event === 'handover').map((e) => e.payload.phase)).toEqual(['stop-requested', 'standby', 'rollback', 'resumed']);
    t.shell.close();
  });

  it("looks every handoverPollMs while a successor's stop is under way, at its normal pace before and after", async () => {
    const storage = openStorage(pathToFileURL(join(root, `job-${++dirs}`)).href);
    const job = fakeJob(storage);
    const timers: Array<{ ms: number; live: boolean }> = [];
    const clock: ShellClock = {
      now: () => 10_000,
      every: (ms) => {
        const timer = { ms, live: true };
        timers.push(timer);
        return () => {
          timer.live = false;
        };
      },
    };
    const shell = new StopRequestShell(job.control, { pollMs: 250, handoverPollMs: 15 }, clock);
    await shell.poll();
    const live = () => timers.filter((x) => x.live).map((x) => x.ms);
    expect(live()).toEqual([250]);
    await writeLeasedStopRequest(storage, { runId: 'run-b', leaseExpiresAt: 99_000, requestedBy: 'test' });
    await shell.poll();
    expect(live()).toEqual([250, 15]);
    expect(shell.stopCompleted(5)).toBe('standby');
    expect(live()).toEqual([250, 15]);
    await storage.delete([STOP_REQUEST_KEY]);
    await shell.poll();
    await flush();
    expect(job.calls.at(-1)).toMatch(/^resume /);
    expect(live()).toEqual([250]);
    shell.close();
    expect(live()).toEqual([]);
  });

  it('no fast looks while its at-once stop checkpoint runs (they would compete with its uploads); fast again on standby', async () => {
    const storage = openStorage(pathToFileURL(join(root, `job-${++dirs}`)).href);
    const job = fakeJob(storage);
    const fast: Array<() => void> = [];
    const clock: ShellClock = {
      now: () => 10_000,
      every: (ms, run) => {
        if (ms === 15) fast.push(run);
        return () => {};
      },
    };
    const reads: string[] = [];
    const get = storage.get.bind(storage);
    storage.get = (key: string) => {
      reads.push(key);
      return get(key);
    };
    const shell = new StopRequestShell(job.control, { pollMs: 250, handoverPollMs: 15 }, clock);
    await shell.poll();
    await writeLeasedStopRequest(storage, { runId: 'run-b', leaseExpiresAt: 99_000, requestedBy: 'test' });
    await shell.poll();
    expect(job.calls).toEqual(['stopAtOnce run-b']);
    expect(fast).toHaveLength(1);
    // Triggered (the fake's next id moved past it), not complete: the fast timer does not look
    // (a look reads the request at once, before its first await).
    const before = reads.length;
    fast[0]();
    expect(reads).toHaveLength(before);
    expect(shell.stopCompleted(5)).toBe('standby');
    fast[0]();
    expect(reads).toEqual([...reads.slice(0, before), STOP_REQUEST_KEY]);
    await shell.poll();
    shell.close();
  });

  it("standby ends once a checkpoint after the stop checkpoint completed (B's first), looked for at the normal pace while B's request is up", async () => {
    const t = await setUp();
    await writeLeasedStopRequest(t.storage, { runId: 'run-b', leaseExpiresAt: 9_999_999, requestedBy: 'test' });
    await t.shell.poll();
    t.shell.stopCompleted(5);
    await t.storage.put('chk-6/_metadata', new Uint8Array([1]));
    // Within pollMs of the standby: B's live request is up, so no listing (it would only end A sooner).
    await t.shell.poll();
    expect(t.calls).toEqual(['stopAtOnce run-b']);
    t.clock.set(10_000 + 1_000_000);
    await t.shell.poll();
    expect(t.calls).toEqual(['stopAtOnce run-b', 'end']);
    t.shell.close();
  });

  it('standby: B removed its request after its first checkpoint; A lists at once and ends (never resumes over it)', async () => {
    const t = await setUp();
    await writeLeasedStopRequest(t.storage, { runId: 'run-b', leaseExpiresAt: 99_000, requestedBy: 'test' });
    await t.shell.poll();
    t.shell.stopCompleted(5);
    await t.storage.put('chk-6/_metadata', new Uint8Array([1]));
    await t.storage.delete([STOP_REQUEST_KEY]);
    await t.shell.poll();
    expect(t.calls).toEqual(['stopAtOnce run-b', 'end']);
    t.shell.close();
  });

  it('a request withdrawn after the stop barrier went out: its completion resumes the job, never ends it', async () => {
    const t = await setUp();
    await writeLeasedStopRequest(t.storage, { runId: 'run-b', leaseExpiresAt: 99_000, requestedBy: 'test' });
    await t.shell.poll();
    await t.storage.delete([STOP_REQUEST_KEY]);
    await t.shell.poll();
    expect(t.calls).toEqual(['stopAtOnce run-b', 'withdrawStop 5']);
    expect(t.shell.stopCompleted(5)).toBe('standby');
    await flush();
    expect(t.calls.at(-1)).toMatch(/^resume the stop request was withdrawn after its checkpoint was triggered/);
    t.shell.close();
  });

  it("an operator's request (no lease) stops after its checkpoint and ends there; the job's own stop ends it too", async () => {
    const t = await setUp();
    expect(t.shell.stopCompleted(3)).toBe('end');
    await writeStopRequest(t.storage, 7, 'operator');
    await t.shell.poll();
    expect(t.calls).toEqual(['stopAfter 7']);
    expect(t.shell.stopCompleted(7)).toBe('end');
    t.shell.close();
  });

  it('its own request (this run, a successor in probation) is neither obeyed nor removed', async () => {
    const t = await setUp();
    await writeLeasedStopRequest(t.storage, { runId: 'run-a', leaseExpiresAt: 99_000, requestedBy: 'test' });
    await t.shell.poll();
    expect(t.calls).toEqual([]);
    expect(await t.storage.exists(STOP_REQUEST_KEY)).toBe(true);
    t.shell.close();
  });

  it("a dead B's request (lease expired) is ignored, reported once, and removed", async () => {
    const t = await setUp();
    await writeLeasedStopRequest(t.storage, { runId: 'dead-b', leaseExpiresAt: 9_000, requestedBy: 'test' });
    await t.shell.poll();
    expect(await t.storage.exists(STOP_REQUEST_KEY)).toBe(false);
    await writeLeasedStopRequest(t.storage, { runId: 'dead-b', leaseExpiresAt: 9_000, requestedBy: 'test' });
    await t.shell.poll();
    expect(t.calls).toEqual([]);
    const rejected = t.events.filter((e) => e.event === 'stop-request');
    expect(rejected).toHaveLength(1);
    expect(rejected[0].payload).toMatchObject({ accepted: false, reason: expect.stringMatching(/lease of run dead-b's request expired 1000 ms ago/) });
    t.shell.close();
  });

  it('a malformed request (a run id with a slash) is refused loudly, never obeyed', async () => {
    const t = await setUp();
    await t.storage.put(STOP_REQUEST_KEY, new TextEncoder().encode(JSON.stringify({ runId: '../x', leaseExpiresAt: 99_000, requestedAt: 0, requestedBy: 'x' })));
    await t.shell.poll();
    expect(t.calls).toEqual([]);
    expect(t.events[0]).toMatchObject({ event: 'stop-request', payload: { accepted: false } });
    t.shell.close();
  });
});

// Retention and sweeps around a handover's stop checkpoint, through the checkpoint driver and the storage persistence, on the in-memory storage.
import { describe, expect, it } from 'vitest';
import type { CheckpointMetadata } from '../../../src/checkpoint/types.ts';
import { type CheckpointPersistence, CheckpointDriver } from '../../../src/runtime/coordinator/checkpoint-driver.ts';
import { type SweepOutcome, StorageCheckpointPersistence } from '../../../src/runtime/coordinator/checkpoint-persistence.ts';
import type { CoordinatorCommand, SubtaskAck } from '../../../src/runtime/worker/protocol.ts';
import { MemoryStorage } from '../../checkpoint/memory-storage.ts';

const ack: SubtaskAck = {
  taskId: 0,
  subtaskIndex: 0,
  operators: [{ uid: 'op', state: null, keyed: [] }],
  stateBytes: 0,
  syncMs: 0,
  asyncMs: 0,
  channelStateBytes: 0,
  spilledBytes: 0,
  unaligned: false,
  alignmentMs: 0,
};

/** Waits (on the driver's own timer ticks) until `check` holds; a failure detector, not a schedule. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A driver keeping one checkpoint (`retain: 1`: every completion discards the one before), recording its discards and sweeps. */
function harness() {
  const storage = new MemoryStorage();
  const discards: number[][] = [];
  const sweeps: SweepOutcome[] = [];
  const inner = new StorageCheckpointPersistence(storage, { retain: 1, runId: 'run-a', sweepIntervalMs: 1e9, onSweep: (s) => sweeps.push(s) });
  const persistence: CheckpointPersistence = {
    writeMetadata: (metadata: CheckpointMetadata, fence) => inner.writeMetadata(metadata, fence),
    writeFailed: (id, reason) => inner.writeFailed(id, reason),
    discard: (ids) => {
      discards.push([...ids]);
      return inner.discard(ids);
    },
    idle: () => inner.idle(),
  };
  const commands: CoordinatorCommand[] = [];
  const completed: number[] = [];
  const driver = new CheckpointDriver({
    jobId: 'orders',
    settings: { intervalMs: 1, timeoutMs: 60_000, minPauseMs: 0, tolerableFailures: 5, retain: 1 },
    maxParallelism: 128,
    tasks: ['0/0'],
    parallelism: new Map([['op', 1]]),
    firstId: 1,
    runId: 'run-a',
    persistence,
    broadcast: (command) => commands.push(command),
    onCompleted: (stats) => completed.push(stats.id),
    onFailed: () => {},
    onStopping: () => {},
    failJob: (reason) => {
      throw new Error(reason);
    },
  });
  const triggered = () => commands.flatMap((c) => (c.type === 'trigger-checkpoint' ? [c.id] : []));
  let handled = 0;
  return {
    driver,
    discards,
    sweeps,
    completed,
    /** Acknowledges the next triggered checkpoint; resolves with its id once it completed and its housekeeping ran. */
    async next(): Promise<number> {
      await until(() => triggered().length > handled, 'a trigger');
      const id = triggered()[handled++];
      driver.onAck(id, '0/0', ack);
      await until(() => completed.includes(id), `checkpoint ${id} to complete`);
      await inner.idle();
      return id;
    },
  };
}

describe('housekeeping around a handover stop checkpoint', () => {
  it('holds retention back from the stop request until the job resumes, and does not sweep at the stop checkpoint', async () => {
    const h = harness();
    h.driver.start();
    expect(await h.next()).toBe(1);
    expect(await h.next()).toBe(2);
    expect(h.discards).toEqual([[1]]);
    const sweepsBefore = h.sweeps.length;
    // The successor is ready: the stop goes at once (after the checkpoint in flight, if one is).
    const stop = h.driver.requestStopAtOnce('run-b');
    for (let id = await h.next(); id < stop; id = await h.next());
    expect(h.completed.at(-1)).toBe(stop);
    // Nothing deleted from the stop request on (the successor's stage 2 reads the same store), no sweep at the stop.
    expect(h.discards).toEqual([[1]]);
    expect(h.sweeps.length).toBe(sweepsBefore);
    // Rolled back: the held discards go with the next one, not at the resume itself.
    h.driver.resumeAfterStop();
    expect(h.discards).toEqual([[1]]);
    const after = await h.next();
    expect(h.discards).toEqual([[1], [...Array.from({ length: after - 2 }, (_, i) => i + 2)]]);
    h.driver.close();
    await h.driver.drain();
  });

  it("an operator's stop (no successor) discards and sweeps as before", async () => {
    const h = harness();
    h.driver.start();
    expect(await h.next()).toBe(1);
    const sweepsBefore = h.sweeps.length;
    h.driver.requestStopAfter(3);
    expect(await h.next()).toBe(2);
    expect(await h.next()).toBe(3);
    expect(h.discards).toEqual([[1], [2]]);
    expect(h.sweeps.length).toBe(sweepsBefore + 1);
    h.driver.close();
    await h.driver.drain();
  });
});

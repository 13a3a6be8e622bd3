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

const flush = () => new Promise((resolve) => setTimeout(resolve, 5));

/** A driver keeping one checkpoint (`retain: 1`: every completion discards the one before), recording its sweeps and its calls to quiet. */
function harness(stopAfter?: number) {
  const storage = new MemoryStorage();
  const sweeps: SweepOutcome[] = [];
  const inner = new StorageCheckpointPersistence(storage, { retain: 1, runId: 'run-a', sweepIntervalMs: 1e9, onSweep: (s) => sweeps.push(s) });
  const completed: number[] = [];
  const quiet: string[] = [];
  const persistence: CheckpointPersistence = {
    writeMetadata: (metadata: CheckpointMetadata, fence) => inner.writeMetadata(metadata, fence),
    writeFailed: (id, reason) => inner.writeFailed(id, reason),
    discard: (ids) => inner.discard(ids),
    idle: () => inner.idle(),
    quiet: (on) => {
      quiet.push(on ? 'quiet' : 'normal');
      inner.quiet(on);
    },
  };
  const commands: CoordinatorCommand[] = [];
  const driver = new CheckpointDriver({
    jobId: 'orders',
    settings: { intervalMs: 1, timeoutMs: 60_000, minPauseMs: 0, tolerableFailures: 5, retain: 1 },
    maxParallelism: 128,
    tasks: ['0/0'],
    parallelism: new Map([['op', 1]]),
    firstId: 1,
    runId: 'run-a',
    stopAfter,
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
    storage,
    driver,
    sweeps,
    completed,
    quiet,
    /** Checkpoints whose `_metadata` is still stored. */
    stored: () => [...storage.objects.keys()].flatMap((k) => (/^chk-\d+\/_metadata$/.test(k) ? [Number(k.slice(4, k.indexOf('/')))] : [])).sort((a, b) => a - b),
    /** Acknowledges the next triggered checkpoint; resolves with its id once it completed. */
    async next(): Promise<number> {
      await until(() => triggered().length > handled, 'a trigger');
      const id = triggered()[handled++];
      driver.onAck(id, '0/0', ack);
      await until(() => completed.includes(id), `checkpoint ${id} to complete`);
      return id;
    },
  };
}

describe('housekeeping around a handover stop checkpoint', () => {
  it('waits from the stop request until a checkpoint completed after the job resumed, and there is no sweep at the stop checkpoint', async () => {
    const h = harness();
    h.driver.start();
    expect(await h.next()).toBe(1);
    expect(await h.next()).toBe(2);
    await until(() => h.stored().join() === '2', 'retention to discard chk-1');
    const sweepsBefore = h.sweeps.length;
    // The successor is ready: the stop goes at once (after the checkpoint in flight, if one is).
    const stop = h.driver.requestStopAtOnce('run-b');
    expect(h.quiet).toEqual(['quiet']);
    for (let id = await h.next(); id < stop; id = await h.next());
    await flush();
    // Nothing deleted from the stop request on (the successor's stage 2 reads the same store), no sweep at the stop.
    expect(h.stored()).toEqual(Array.from({ length: stop - 1 }, (_, i) => i + 2));
    expect(h.sweeps.length).toBe(sweepsBefore);
    // Rolled back: housekeeping resumes with the next completed checkpoint, not at the resume itself.
    h.driver.resumeAfterStop();
    expect(h.quiet).toEqual(['quiet']);
    const after = await h.next();
    expect(h.quiet).toEqual(['quiet', 'normal']);
    await until(() => h.stored().join() === String(after), 'the held discards');
    h.driver.close();
    await h.driver.drain();
  });

  it('the job ending while quiet runs what waited before it ends', async () => {
    const h = harness();
    h.driver.start();
    expect(await h.next()).toBe(1);
    const stop = h.driver.requestStopAtOnce('run-b');
    for (let id = await h.next(); id < stop; id = await h.next());
    await flush();
    expect(h.stored()).toEqual(Array.from({ length: stop }, (_, i) => i + 1));
    h.driver.close();
    await h.driver.drain();
    expect(h.stored()).toEqual([stop]);
  });

  it('a request accepted once the job is ending (it stopped on its own) does not make it quiet: drain runs everything', async () => {
    // Told where to stop (stopAfterCheckpoint), as an orchestrator does.
    const h = harness(2);
    h.driver.start();
    expect(await h.next()).toBe(1);
    expect(await h.next()).toBe(2);
    h.driver.close();
    // A successor asking for the checkpoint the job stopped after, while it ends.
    h.driver.requestStopAfter(2, 'run-b');
    expect(h.quiet).toEqual([]);
    await h.driver.drain();
    expect(h.stored()).toEqual([2]);
  });

  it("an operator's stop (no successor) discards and sweeps as before", async () => {
    const h = harness();
    h.driver.start();
    expect(await h.next()).toBe(1);
    await until(() => h.sweeps.length > 0, 'the first sweep');
    const sweepsBefore = h.sweeps.length;
    h.driver.requestStopAfter(3);
    expect(await h.next()).toBe(2);
    expect(await h.next()).toBe(3);
    await until(() => h.sweeps.length > sweepsBefore && h.stored().join() === '3', 'the discards and the sweep at the stop');
    expect(h.quiet).toEqual([]);
    h.driver.close();
    await h.driver.drain();
  });
});

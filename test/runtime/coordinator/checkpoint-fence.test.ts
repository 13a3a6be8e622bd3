// The commit point's fence, through the checkpoint driver and the storage persistence, on the in-memory storage.
import { describe, expect, it } from 'vitest';
import { FencedError } from '../../../src/checkpoint/errors.ts';
import { failedKey, metadataKey } from '../../../src/checkpoint/layout.ts';
import { encodeMetadata } from '../../../src/checkpoint/metadata/metadata-codec.ts';
import { readMetadata } from '../../../src/checkpoint/status/checkpoint-status.ts';
import { CheckpointDriver } from '../../../src/runtime/coordinator/checkpoint-driver.ts';
import { StorageCheckpointPersistence } from '../../../src/runtime/coordinator/checkpoint-persistence.ts';
import type { CoordinatorCommand, SubtaskAck } from '../../../src/runtime/worker/protocol.ts';
import { makeMetadata } from '../../checkpoint/metadata/fixtures.ts';
import { MemoryStorage } from '../../checkpoint/memory-storage.ts';

const RUN = 'run-a';
const OTHER = 'run-b';

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

/** Another run's committed checkpoint `n` in the job directory. */
function committedByOther(storage: MemoryStorage, n: number, runId = OTHER): void {
  storage.seed(metadataKey(n), encodeMetadata(makeMetadata(n, [], { runId })));
}

function harness(storage: MemoryStorage, options: { firstId: number; restoredFrom?: number; stopAfter?: number }) {
  const commands: CoordinatorCommand[] = [];
  const completed: number[] = [];
  const failed: number[] = [];
  const fenced: FencedError[] = [];
  const failures: string[] = [];
  const driver = new CheckpointDriver({
    jobId: 'orders',
    settings: { intervalMs: 1, timeoutMs: 60_000, minPauseMs: 0, tolerableFailures: 5, retain: 10 },
    maxParallelism: 128,
    tasks: ['0/0'],
    parallelism: new Map([['op', 1]]),
    firstId: options.firstId,
    runId: RUN,
    restoredFrom: options.restoredFrom,
    stopAfter: options.stopAfter,
    persistence: new StorageCheckpointPersistence(storage, { retain: 10, runId: RUN, sweepIntervalMs: 1e9 }),
    broadcast: (command) => commands.push(command),
    onCompleted: (stats) => completed.push(stats.id),
    onFailed: (stats) => failed.push(stats.id),
    onStopping: () => {},
    failJob: (reason) => failures.push(reason),
    onFenced: (error) => fenced.push(error),
  });
  const triggered = () => commands.flatMap((c) => (c.type === 'trigger-checkpoint' ? [c.id] : []));
  const notified = () => commands.flatMap((c) => (c.type === 'checkpoint-complete' ? [c.id] : []));
  let handled = 0;
  return {
    driver,
    completed,
    failed,
    fenced,
    failures,
    notified,
    /** Lets the next checkpoint be triggered and acknowledged; resolves once it completed, failed or was fenced. */
    async next(answer: 'ack' | 'decline' = 'ack'): Promise<number> {
      await until(() => triggered().length > handled, 'a trigger');
      const id = triggered()[handled++];
      if (answer === 'ack') driver.onAck(id, '0/0', ack);
      else driver.onDecline(id, '0/0', 'test');
      await until(() => completed.includes(id) || failed.includes(id) || fenced.some((f) => f.checkpointId === id), `checkpoint ${id} to end`);
      return id;
    },
  };
}

describe('the ownership fence at the commit point', () => {
  it('metadata names the run, the checkpoint it continues (restored, then its own previous) and, on the stop checkpoint of a request, the next owner', async () => {
    const storage = new MemoryStorage();
    const h = harness(storage, { firstId: 5, restoredFrom: 4 });
    h.driver.requestStopAfter(6, OTHER);
    h.driver.start();
    expect(await h.next()).toBe(5);
    expect(await h.next()).toBe(6);
    h.driver.close();
    await h.driver.drain();
    expect(await readMetadata(storage, 5)).toMatchObject({ runId: RUN, previousCheckpoint: 4 });
    expect(await readMetadata(storage, 5)).not.toHaveProperty('nextOwner');
    expect(await readMetadata(storage, 6)).toMatchObject({ runId: RUN, previousCheckpoint: 5, nextOwner: OTHER, endsJob: true });
    expect(h.fenced).toEqual([]);
    // _metadata is created, never overwritten.
    expect(storage.calls).toContain('putIfAbsent chk-5/_metadata');
    expect(storage.calls).not.toContain('put chk-5/_metadata');
  });

  it('a failed checkpoint leaves a gap in the ids that does not fence the run', async () => {
    const storage = new MemoryStorage();
    const h = harness(storage, { firstId: 5, restoredFrom: 4 });
    h.driver.start();
    expect(await h.next('decline')).toBe(5);
    expect(await h.next()).toBe(6);
    h.driver.close();
    await h.driver.drain();
    expect(h.completed).toEqual([6]);
    expect((await readMetadata(storage, 6)).previousCheckpoint).toBe(4);
    expect(h.fenced).toEqual([]);
  });

  it('a run that started empty is not fenced by an earlier run’s older checkpoints', async () => {
    const storage = new MemoryStorage();
    committedByOther(storage, 2);
    committedByOther(storage, 3);
    const h = harness(storage, { firstId: 4 });
    h.driver.start();
    expect(await h.next()).toBe(4);
    h.driver.close();
    await h.driver.drain();
    expect(h.completed).toEqual([4]);
    expect(await readMetadata(storage, 4)).not.toHaveProperty('previousCheckpoint');
  });

  it('losing the create of _metadata fences the run: not completed, never notified, the owner’s checkpoint untouched', async () => {
    const storage = new MemoryStorage();
    committedByOther(storage, 5);
    const h = harness(storage, { firstId: 5, restoredFrom: 4 });
    h.driver.start();
    expect(await h.next()).toBe(5);
    await h.driver.drain();
    expect(h.fenced.map((e) => [e.checkpointId, e.reason, e.runId, e.code])).toEqual([[5, 'metadata-exists', RUN, 'BATON_ERR_FENCED']]);
    expect(h.fenced[0]).toBeInstanceOf(FencedError);
    expect(h.fenced[0].message).toMatch(/run run-a is fenced at checkpoint 5 \(metadata-exists\)/);
    expect(h.completed).toEqual([]);
    expect(h.notified()).toEqual([]);
    expect((await readMetadata(storage, 5)).runId).toBe(OTHER);
    expect(storage.objects.has(failedKey(5))).toBe(false);
    // Fenced for good: nothing more is triggered.
    expect(h.failures).toEqual([]);
  });

  it('a checkpoint another run committed after the one this run continues fences it, and its own create is withdrawn', async () => {
    const storage = new MemoryStorage();
    // This run restored 4; meanwhile another run (that also continued 4) committed 6.
    committedByOther(storage, 6);
    const h = harness(storage, { firstId: 7, restoredFrom: 4 });
    h.driver.start();
    expect(await h.next()).toBe(7);
    await h.driver.drain();
    expect(h.fenced.map((e) => [e.checkpointId, e.reason])).toEqual([[7, 'newer-checkpoint']]);
    expect(h.fenced[0].detail).toMatch(/another run committed chk-6 after chk-4/);
    expect(h.notified()).toEqual([]);
    // Withdrawn: FAILED, so it is never restored from and does not fence the owner's next checkpoint.
    expect(storage.objects.has(metadataKey(7))).toBe(false);
    expect(new TextDecoder().decode(storage.objects.get(failedKey(7)))).toMatch(/fenced/);
    expect((await readMetadata(storage, 6)).runId).toBe(OTHER);
  });

  it("a handover's stop checkpoint is not fenced by its successor's checkpoints that continue it (the successor was faster than this run's check)", async () => {
    const storage = new MemoryStorage();
    const putIfAbsent = storage.putIfAbsent.bind(storage);
    // The successor restores from chk-6 as soon as its _metadata exists, and commits 7 and 8 before this run lists.
    storage.putIfAbsent = async (key, bytes) => {
      const won = await putIfAbsent(key, bytes);
      if (won && key === metadataKey(6)) {
        storage.seed(metadataKey(7), encodeMetadata(makeMetadata(7, [], { runId: OTHER, previousCheckpoint: 6 })));
        storage.seed(metadataKey(8), encodeMetadata(makeMetadata(8, [], { runId: OTHER, previousCheckpoint: 7 })));
      }
      return won;
    };
    const h = harness(storage, { firstId: 5, restoredFrom: 4 });
    h.driver.requestStopAfter(6, OTHER);
    h.driver.start();
    expect(await h.next()).toBe(5);
    expect(await h.next()).toBe(6);
    h.driver.close();
    await h.driver.drain();
    expect(h.fenced).toEqual([]);
    expect(h.completed).toEqual([5, 6]);
    expect(h.notified()).toEqual([5, 6]);
    expect(await readMetadata(storage, 6)).toMatchObject({ runId: RUN, nextOwner: OTHER, endsJob: true });
  });

  it("…but it is fenced by a checkpoint of the named successor that does not continue it, or by another run's", async () => {
    for (const rival of [{ runId: OTHER, previousCheckpoint: 4 }, { runId: 'run-c', previousCheckpoint: 6 }]) {
      const storage = new MemoryStorage();
      const putIfAbsent = storage.putIfAbsent.bind(storage);
      storage.putIfAbsent = async (key, bytes) => {
        const won = await putIfAbsent(key, bytes);
        if (won && key === metadataKey(6)) storage.seed(metadataKey(7), encodeMetadata(makeMetadata(7, [], rival)));
        return won;
      };
      const h = harness(storage, { firstId: 5, restoredFrom: 4 });
      h.driver.requestStopAfter(6, OTHER);
      h.driver.start();
      expect(await h.next()).toBe(5);
      expect(await h.next()).toBe(6);
      await h.driver.drain();
      expect(h.fenced.map((e) => [e.checkpointId, e.reason])).toEqual([[6, 'newer-checkpoint']]);
      expect(storage.objects.has(metadataKey(6))).toBe(false);
    }
  });

  it('an old run that wakes up and aborts a checkpoint whose id the owner has since committed leaves the owner’s _metadata alone', async () => {
    const storage = new MemoryStorage();
    const h = harness(storage, { firstId: 5, restoredFrom: 4 });
    h.driver.start();
    // Checkpoint 5 is triggered; while this run "sleeps", the owner commits its own checkpoint 5; then 5 is declined here.
    committedByOther(storage, 5);
    expect(await h.next('decline')).toBe(5);
    await h.driver.drain();
    expect(h.failed).toEqual([5]);
    expect((await readMetadata(storage, 5)).runId).toBe(OTHER);
    expect(storage.objects.has(failedKey(5))).toBe(false);
  });

  it('a listing that fails after the create withdraws the checkpoint: a failed checkpoint, not a completed one, and no fence', async () => {
    const storage = new MemoryStorage();
    storage.failOn('list', /^$/);
    const h = harness(storage, { firstId: 5, restoredFrom: 4 });
    h.driver.start();
    expect(await h.next()).toBe(5);
    storage.clearFailures();
    expect(await h.next()).toBe(6);
    h.driver.close();
    await h.driver.drain();
    expect(h.failed).toEqual([5]);
    expect(h.completed).toEqual([6]);
    expect(storage.objects.has(metadataKey(5))).toBe(false);
    expect((await readMetadata(storage, 6)).previousCheckpoint).toBe(4);
    expect(h.fenced).toEqual([]);
  });
});

describe('reading the fence’s evidence', () => {
  it('asks for folder names and the _metadata of newer checkpoint folders only, never lists every chunk', async () => {
    const storage = new MemoryStorage();
    for (let i = 0; i < 50; i++) storage.seed(`shared/chunk-${i}`);
    committedByOther(storage, 3);
    const h = harness(storage, { firstId: 4, restoredFrom: 3 });
    h.driver.start();
    expect(await h.next()).toBe(4);
    h.driver.close();
    await h.driver.drain();
    const fenceCalls = storage.calls.slice(storage.calls.indexOf('putIfAbsent chk-4/_metadata') + 1);
    // Then the sweep that follows a first completed checkpoint lists (handover/, then everything), as it always did.
    const sweep = fenceCalls.findIndex((call) => call.startsWith('list '));
    expect(fenceCalls.slice(0, sweep === -1 ? undefined : sweep)).toEqual(['listFolders ']);
  });
});

// SourceTask over the shared loop: reads to the end, barriers between polls (a waiting reader is woken), stop pauses, abort and resume.
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelWriter } from '../../../src/runtime/channels/channel-writer.ts';
import { SourceTask } from '../../../src/runtime/task/source-task.ts';
import type { SubtaskHost, SubtaskSnapshotParts } from '../../../src/runtime/task/subtask.ts';
import { type GraphNode, MAX_WATERMARK, NO_TIMESTAMP, type PlannedTask, type Source, type SourceReader } from '../../../src/runtime/types.ts';
import { RecordingTransport } from '../fixtures.ts';

/** Event-loop turns until `done` holds (never a wall-clock wait); fails after `turns`. */
async function settleUntil(done: () => boolean, turns = 200): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await new Promise<void>((resolve) => setImmediate(resolve));
  expect(done()).toBe(true);
}

/** One split whose records the test feeds; a poll with nothing to read waits until more comes, the end, or a wake-up. */
class Feed {
  private readonly values: number[] = [];
  private ended = false;
  private read = 0;
  private waiting: ((emitted: number) => void) | undefined;
  wakeUps = 0;

  push(...values: number[]): void {
    this.values.push(...values);
    this.release();
  }

  end(): void {
    this.ended = true;
    this.release();
  }

  private release(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(0);
  }

  reader(): SourceReader<number> {
    const feed = this;
    return {
      poll(max, emit) {
        if (feed.values.length > 0) {
          const batch = feed.values.splice(0, max);
          for (const v of batch) emit(v, NO_TIMESTAMP);
          feed.read += batch.length;
          return batch.length;
        }
        if (feed.ended) return 0;
        return new Promise<number>((resolve) => {
          feed.waiting = resolve;
        });
      },
      get finished() {
        return feed.ended && feed.values.length === 0;
      },
      currentSplit: () => ({ id: 's0', offset: feed.read }),
      close() {},
      wakeUp() {
        feed.wakeUps++;
        feed.release();
      },
    };
  }
}

const running: SourceTask[] = [];
afterEach(() => {
  for (const t of running.splice(0)) t.cancel();
});

async function start(options: { awaitFinalCheckpoint?: boolean } = {}) {
  const feed = new Feed();
  const source: Source<number> = { kind: 'test', validate() {}, createSplits: () => [{ id: 's0', offset: 0 }], createReader: () => feed.reader() };
  const node: GraphNode = { id: 0, kind: 'source', type: 'source', name: 'src', uid: 'src', uidExplicit: true, parallelism: 1, parallelismExplicit: true, inputs: [], keyed: false, source: source as Source<unknown> };
  const task: PlannedTask = { id: 0, name: 'src', parallelism: 1, operators: [{ nodeId: 0, uid: 'src', name: 'src', type: 'source' }], isSource: true, keyed: false, inputs: [], outputs: [] };
  const snapshots: Array<{ id: number; parts: SubtaskSnapshotParts }> = [];
  const events: string[] = [];
  const failures: unknown[] = [];
  const host: SubtaskHost = {
    workerIndex: 0,
    maxParallelism: 128,
    tuning: { batchSize: 2, channelCredits: 100 },
    onFailure: (error) => failures.push(error),
    onSnapshot: (_task, id, parts) => snapshots.push({ id, parts }),
    onInputEnded: () => events.push('input-ended'),
    awaitFinalCheckpoint: options.awaitFinalCheckpoint,
  };
  const subtask = new SourceTask(task, 0, [node], host);
  running.push(subtask);
  const transport = new RecordingTransport();
  const writer = new ChannelWriter(0, transport, 100, 2, () => subtask.onWriterAvailable(), 'local');
  await subtask.open([{ partitioning: 'forward', writers: [writer] }]);
  const barriers = () => transport.sent.filter((m) => m.barrier !== undefined).map((m) => m.barrier);
  return { subtask, feed, transport, snapshots, events, failures, barriers };
}

describe('a source task', () => {
  it('reads its split to the end, then sends the max watermark and the end marker and finishes (checkpointing off)', async () => {
    const t = await start();
    t.feed.push(1, 2, 3);
    t.feed.end();
    t.subtask.start();
    const result = await t.subtask.done;
    expect(t.transport.records).toEqual([1, 2, 3]);
    expect(t.transport.sent.some((m) => m.watermark === MAX_WATERMARK)).toBe(true);
    expect(t.transport.sent.at(-1)?.end).toBe(true);
    expect(t.events).toEqual(['input-ended']);
    expect(result?.operators).toEqual([{ uid: 'src', recordsIn: 0, recordsOut: 3 }]);
    expect(t.subtask.state).toBe('finished');
    expect(t.failures).toEqual([]);
  });

  it('wakes its waiting reader for a trigger: the barrier goes out at once, after what was read, with where the split got to', async () => {
    const t = await start();
    t.feed.push(1, 2);
    t.subtask.start();
    await settleUntil(() => t.subtask.isQuiet());
    expect(t.transport.records).toEqual([1, 2]);
    t.subtask.triggerCheckpoint({ id: 1, at: 5 });
    expect(t.feed.wakeUps).toBe(1);
    await settleUntil(() => t.snapshots.length === 1);
    expect(t.snapshots[0].parts.operators).toEqual([{ uid: 'src', state: { splits: [{ id: 's0', offset: 2 }] } }]);
    expect(t.barriers()).toEqual([1]);
    expect(t.transport.sent.find((m) => m.barrier === 1)?.barrierAt).toBe(5);
    t.feed.push(3);
    await settleUntil(() => t.transport.records.length === 3);
  });

  it('pauses after the barrier of a stop-with-checkpoint; an abort of that checkpoint resumes it, and so does a resume after it', async () => {
    const t = await start();
    t.feed.push(1);
    t.subtask.start();
    await settleUntil(() => t.subtask.isQuiet());
    t.subtask.triggerCheckpoint({ id: 2, stop: 'after' });
    await settleUntil(() => t.barriers().length === 1);
    t.feed.push(2);
    await settleUntil(() => t.subtask.isQuiet());
    expect(t.transport.records).toEqual([1]);
    // An abort of another checkpoint does not.
    t.subtask.checkpointAborted(1);
    await settleUntil(() => t.subtask.isQuiet());
    expect(t.transport.records).toEqual([1]);
    t.subtask.checkpointAborted(2);
    await settleUntil(() => t.transport.records.length === 2);

    t.subtask.triggerCheckpoint({ id: 3, stop: 'after' });
    await settleUntil(() => t.barriers().length === 2);
    t.feed.push(3);
    await settleUntil(() => t.subtask.isQuiet());
    expect(t.transport.records).toEqual([1, 2]);
    t.subtask.resumeAfterStop(3);
    await settleUntil(() => t.transport.records.length === 3);
    expect(t.failures).toEqual([]);
  });

  it('with checkpointing on, waits ended after its input and answers the checkpoint it owes with its final position', async () => {
    const t = await start({ awaitFinalCheckpoint: true });
    t.feed.push(1);
    t.feed.end();
    t.subtask.start();
    await settleUntil(() => t.subtask.state === 'ended');
    t.subtask.triggerCheckpoint({ id: 4, at: 9 });
    expect(t.snapshots.map((s) => [s.id, s.parts.operators[0].state])).toEqual([[4, { splits: [] }]]);
    await t.subtask.finishAfterFinalCheckpoint(4);
    expect(t.subtask.state).toBe('finished');
    expect(await t.subtask.done).toMatchObject({ operators: [{ uid: 'src', recordsOut: 1 }] });
  });
});

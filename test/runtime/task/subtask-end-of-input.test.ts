// End of input with checkpointing on: the subtask waits `ended`, answers checkpoints with its final state,
// and finishes (its sinks publish) only after the final checkpoint; without checkpointing it finishes at once.
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelWriter } from '../../../src/runtime/channels/channel-writer.ts';
import type { ChannelMessage } from '../../../src/runtime/channels/types.ts';
import { sinkOperator } from '../../../src/runtime/operators/sink.ts';
import { InputTask } from '../../../src/runtime/task/input-task.ts';
import type { SubtaskHost, SubtaskSnapshotParts } from '../../../src/runtime/task/subtask.ts';
import { NO_TIMESTAMP, type Output, type SinkWriter, type StreamOperator } from '../../../src/runtime/types.ts';
import { operatorContext, RecordingTransport, singleOperatorTask } from '../fixtures.ts';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function records(values: unknown[], extra: Partial<ChannelMessage> = {}): ChannelMessage {
  return { values, timestamps: null, ...extra };
}

const running: InputTask[] = [];
afterEach(() => {
  for (const s of running.splice(0)) s.cancel();
});

async function start(channels: number, awaitFinalCheckpoint: boolean) {
  const processed: unknown[] = [];
  const calls: string[] = [];
  const operator = (): StreamOperator => {
    let out: Output;
    return {
      open(output) {
        out = output;
      },
      processElement(value) {
        processed.push(value);
        out.collect(value, NO_TIMESTAMP);
      },
      processWatermark() {},
      endOfBatch() {},
      endInput: () => {
        calls.push('endInput');
      },
      finish: () => {
        calls.push('finish');
      },
      close: () => calls.push('close'),
      snapshotState: () => [...processed],
    };
  };
  const { task, nodes } = singleOperatorTask(operator);
  const snapshots: Array<{ id: number; parts: SubtaskSnapshotParts }> = [];
  const failures: unknown[] = [];
  const host: SubtaskHost = {
    workerIndex: 0,
    maxParallelism: 128,
    tuning: { batchSize: 10, channelCredits: 4 },
    onFailure: (error) => failures.push(error),
    onSnapshot: (_subtask, id, parts) => snapshots.push({ id, parts }),
    checkpointMode: 'aligned',
    awaitFinalCheckpoint,
    // No time slicing: a drain runs to its end within one settle however busy the machine is.
    drainSliceMs: Number.POSITIVE_INFINITY,
  };
  const subtask = new InputTask(task, 0, nodes, host, channels);
  running.push(subtask);
  const transport = new RecordingTransport();
  const writer = new ChannelWriter(0, transport, 100, 10, () => subtask.onWriterAvailable(), 'local');
  await subtask.open([{ partitioning: 'forward', writers: [writer] }]);
  subtask.start();
  return { subtask, gate: subtask.gate, processed, calls, snapshots, failures, transport };
}

describe('a subtask at the end of its input, checkpointing on', () => {
  it('waits ended (nothing finished), gives the checkpoint it owes its final state, answers later triggers directly, and finishes after the final one', async () => {
    const t = await start(2, true);
    t.gate.pushMessage(0, records([1, 2], { end: true }));
    t.gate.pushMessage(1, records([3]));
    await settle();
    // Checkpoint 3 reaches this (non-source) subtask before any barrier: it waits for barriers.
    t.subtask.triggerCheckpoint({ id: 3, at: 1 });
    expect(t.snapshots).toEqual([]);
    t.gate.pushMessage(1, records([4], { end: true }));
    await settle();
    expect(t.subtask.state).toBe('ended');
    expect(t.calls).toEqual(['endInput']);
    // Every channel ended before barrier 3 came: the subtask owes 3 its final state.
    expect(t.snapshots.map((s) => [s.id, s.parts.operators[0].state])).toEqual([[3, [1, 2, 3, 4]]]);
    // Its output (and the end marker) went out before; no barrier follows the end.
    expect(t.transport.records).toEqual([1, 2, 3, 4]);
    expect(t.transport.sent.at(-1)?.end).toBe(true);
    expect(t.transport.sent.some((m) => m.barrier !== undefined)).toBe(false);
    // A later checkpoint is answered at once, with the same final state; a repeated trigger is not.
    t.subtask.triggerCheckpoint({ id: 4, at: 2 });
    t.subtask.triggerCheckpoint({ id: 4, at: 2 });
    expect(t.snapshots.map((s) => s.id)).toEqual([3, 4]);
    expect(t.snapshots[1].parts.operators[0].state).toEqual([1, 2, 3, 4]);
    await t.subtask.notifyCheckpointComplete(4);
    expect(t.calls).toEqual(['endInput']);
    await t.subtask.finishAfterFinalCheckpoint(4);
    expect(t.calls).toEqual(['endInput', 'finish', 'close']);
    expect(t.subtask.state).toBe('finished');
    expect(await t.subtask.done).toBeDefined();
    expect(t.failures).toEqual([]);
  });

  it('does not take again a checkpoint it took at a barrier, nor one that was aborted', async () => {
    const t = await start(1, true);
    t.subtask.triggerCheckpoint({ id: 2, at: 1 });
    t.gate.pushMessage(0, records([1], { barrier: 2, barrierAt: 1 }));
    await settle();
    expect(t.snapshots.map((s) => s.id)).toEqual([2]);
    t.subtask.triggerCheckpoint({ id: 3, at: 2 });
    t.subtask.checkpointAborted(3);
    t.gate.pushMessage(0, records([2], { end: true }));
    await settle();
    expect(t.subtask.state).toBe('ended');
    expect(t.snapshots.map((s) => s.id)).toEqual([2]);
  });

  it('a failure while ended closes the operators without finishing them', async () => {
    const t = await start(1, true);
    t.gate.pushMessage(0, records([1], { end: true }));
    await settle();
    expect(t.subtask.state).toBe('ended');
    t.subtask.cancel();
    await t.subtask.abort();
    expect(t.calls).toEqual(['endInput', 'close']);
    expect(await t.subtask.done).toBeUndefined();
  });

  it('the final checkpoint completing at a subtask that is not ended is an error, not a silent finish', async () => {
    const t = await start(1, true);
    await expect(t.subtask.finishAfterFinalCheckpoint(9)).rejects.toThrow(/is running, not ended, when the final checkpoint 9 completed/);
    expect(t.calls).toEqual([]);
  });
});

describe('a subtask at the end of its input, checkpointing off', () => {
  it('finishes at once: there is no checkpoint to wait for', async () => {
    const t = await start(1, false);
    t.subtask.triggerCheckpoint({ id: 1, at: 1 });
    t.gate.pushMessage(0, records([1], { end: true }));
    await settle();
    expect(t.calls).toEqual(['endInput', 'finish', 'close']);
    expect(t.subtask.state).toBe('finished');
  });
});

describe('the sink operator', () => {
  function recordingWriter() {
    const calls: string[] = [];
    const writer: SinkWriter<unknown> = {
      write: () => calls.push('write'),
      finish: () => {
        calls.push('finish');
      },
      abort: () => {
        calls.push('abort');
      },
      prepareCommit: (id) => calls.push(`prepareCommit ${id}`),
      commit: (id) => {
        calls.push(`commit ${id}`);
      },
    };
    const op = sinkOperator({ kind: 'test', validate() {}, createWriter: () => writer }).create(operatorContext({ keyed: false }));
    return { op, calls };
  }

  it('publishes nothing at the end of input: closed after it without finish (a failure elsewhere), it aborts', async () => {
    const { op, calls } = recordingWriter();
    op.processElement('a', NO_TIMESTAMP);
    op.endInput();
    await op.close();
    expect(calls).toEqual(['write', 'abort']);
  });

  it('finishes the writer only when the subtask finishes normally', async () => {
    const { op, calls } = recordingWriter();
    op.processElement('a', NO_TIMESTAMP);
    op.endInput();
    op.snapshotState?.(5);
    await op.notifyCheckpointComplete?.(5);
    await op.finish?.();
    await op.close();
    expect(calls).toEqual(['write', 'prepareCommit 5', 'commit 5', 'finish']);
  });
});

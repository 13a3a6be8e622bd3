// A subtask whose operator holds its input (pauseInput/resumeInput, what asyncMap does at capacity):
// the drain stops between two records and goes on from the next; barriers while held; task actions
// (runOnTask) flush their output, run at start if they come before it, and count for isQuiet.
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelWriter } from '../../../src/runtime/channels/channel-writer.ts';
import type { ChannelMessage } from '../../../src/runtime/channels/types.ts';
import { InputTask } from '../../../src/runtime/task/input-task.ts';
import type { SubtaskHost, SubtaskSnapshotParts } from '../../../src/runtime/task/subtask.ts';
import { NO_TIMESTAMP, type OperatorContext, type Output, type StreamOperator } from '../../../src/runtime/types.ts';
import { RecordingTransport, singleOperatorTask } from '../fixtures.ts';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function records(values: unknown[], extra: Partial<ChannelMessage> = {}): ChannelMessage {
  return { values, timestamps: null, ...extra };
}

/** Holds the input after each record it is told to (`holdAfter`); `busy` makes it report not idle. */
class HoldingOperator implements StreamOperator {
  out!: Output;
  readonly seen: unknown[] = [];
  holdAfter = new Set<unknown>();
  busy = false;
  constructor(readonly ctx: OperatorContext) {}
  open(output: Output): void {
    this.out = output;
  }
  processElement(value: unknown): void {
    this.seen.push(value);
    this.out.collect(value, NO_TIMESTAMP);
    if (this.holdAfter.has(value)) this.ctx.pauseInput!();
  }
  processWatermark(): void {}
  endOfBatch(): void {}
  endInput(): void {}
  close(): undefined {
    return undefined;
  }
  snapshotState(): unknown {
    return [...this.seen];
  }
  isIdle(): boolean {
    return !this.busy;
  }
}

const running: InputTask[] = [];
afterEach(() => {
  for (const s of running.splice(0)) s.cancel();
});

async function open(mode: 'aligned' | 'unaligned' = 'aligned') {
  let op!: HoldingOperator;
  const { task, nodes } = singleOperatorTask((ctx) => {
    op = new HoldingOperator(ctx);
    return op;
  });
  const snapshots: Array<{ id: number; parts: SubtaskSnapshotParts }> = [];
  const failures: unknown[] = [];
  const host: SubtaskHost = {
    workerIndex: 0,
    maxParallelism: 128,
    tuning: { batchSize: 100, channelCredits: 4 },
    onFailure: (error) => failures.push(error),
    onSnapshot: (_subtask, id, parts) => snapshots.push({ id, parts }),
    checkpointMode: mode,
    // No time slicing: a drain runs to its end within one settle however busy the machine is.
    drainSliceMs: Number.POSITIVE_INFINITY,
  };
  const subtask = new InputTask(task, 0, nodes, host, 1);
  running.push(subtask);
  const transport = new RecordingTransport();
  // Batches far larger than the output: records leave only when the subtask flushes.
  const writer = new ChannelWriter(0, transport, 100, 100, () => subtask.onWriterAvailable(), 'local');
  await subtask.open([{ partitioning: 'forward', writers: [writer] }]);
  return { subtask, gate: subtask.gate, op, transport, snapshots, failures };
}

describe('a subtask whose operator holds its input', () => {
  it('stops between two records of a batch, flushes what it emitted, and goes on from the next record when resumed', async () => {
    const t = await open();
    t.subtask.start();
    t.op.holdAfter = new Set([2]);
    t.gate.pushMessage(0, records([1, 2, 3, 4]));
    await settle();
    expect(t.op.seen).toEqual([1, 2]);
    expect(t.transport.records).toEqual([1, 2]);
    // Held with input queued: nothing to do until the operator resumes (not quiet while it is busy).
    t.op.busy = true;
    expect(t.subtask.isQuiet()).toBe(false);
    expect(t.subtask.isQuiet(false)).toBe(true);
    t.op.busy = false;
    t.op.ctx.resumeInput!();
    await settle();
    expect(t.op.seen).toEqual([1, 2, 3, 4]);
    expect(t.transport.records).toEqual([1, 2, 3, 4]);
    expect(t.failures).toEqual([]);
  });

  it('aligned: a barrier behind held records waits for them', async () => {
    const t = await open('aligned');
    t.subtask.start();
    t.op.holdAfter = new Set([1]);
    t.gate.pushMessage(0, records([1, 2], { barrier: 1, barrierAt: Date.now() }));
    await settle();
    expect(t.snapshots).toEqual([]);
    t.op.ctx.resumeInput!();
    await settle();
    expect(t.snapshots.map((s) => [s.id, s.parts.operators[0].state])).toEqual([[1, [1, 2]]]);
  });

  it('unaligned: a barrier overtakes the held input; the unprocessed rest of the batch is channel state', async () => {
    const t = await open('unaligned');
    t.subtask.start();
    t.op.holdAfter = new Set([1]);
    t.gate.pushMessage(0, records([1, 2, 3]));
    await settle();
    t.gate.pushMessage(0, { values: null, timestamps: null, barrier: 1, barrierAt: Date.now(), priority: true } as ChannelMessage);
    await settle();
    expect(t.snapshots.map((s) => [s.id, s.parts.operators[0].state])).toEqual([[1, [1]]]);
    const channelState = await t.snapshots[0].parts.channelState!;
    expect(channelState.input.flatMap((i) => ('batch' in i ? i.batch.values ?? [] : []))).toEqual([2, 3]);
    t.op.ctx.resumeInput!();
    await settle();
    expect(t.op.seen).toEqual([1, 2, 3]);
  });

  it('task actions emit and flush; one that comes before start runs at start; one that throws fails the subtask', async () => {
    const t = await open();
    t.op.ctx.runOnTask!(() => t.op.out.collect('early', NO_TIMESTAMP));
    expect(t.transport.records).toEqual([]);
    t.subtask.start();
    await settle();
    expect(t.transport.records).toEqual(['early']);
    t.op.ctx.runOnTask!(() => t.op.out.collect('later', NO_TIMESTAMP));
    await settle();
    expect(t.transport.records).toEqual(['early', 'later']);
    t.op.ctx.runOnTask!(() => {
      throw new Error('completion failed');
    });
    expect(t.failures).toHaveLength(1);
    expect(t.subtask.state).toBe('failed');
    // Nothing runs once the subtask stopped.
    t.op.ctx.runOnTask!(() => t.op.out.collect('after', NO_TIMESTAMP));
    await settle();
    expect(t.transport.records).toEqual(['early', 'later']);
  });
});

// Subtask with an alignment timeout: counted from the checkpoint's trigger, seen when a barrier is queued (not
// processed), taken unaligned with per-channel channel state; priority barriers with aligned ones still queued.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChannelWriter } from '../../../src/runtime/channels/channel-writer.ts';
import type { ChannelMessage } from '../../../src/runtime/channels/types.ts';
import type { InFlightLog } from '../../../src/runtime/task/in-flight-log.ts';
import { InputTask } from '../../../src/runtime/task/input-task.ts';
import type { SubtaskHost, SubtaskSnapshotParts } from '../../../src/runtime/task/subtask.ts';
import { NO_TIMESTAMP, type Output, type StreamOperator } from '../../../src/runtime/types.ts';
import { RecordingTransport, singleOperatorTask } from '../fixtures.ts';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
/** The wall clock moves only here: alignment timeouts fire on time however busy the machine is. */
async function elapse(ms: number): Promise<void> {
  vi.advanceTimersByTime(ms);
  await settle();
}

function records(values: unknown[], extra: Partial<ChannelMessage> = {}): ChannelMessage {
  return { values, timestamps: null, ...extra };
}

const running: InputTask[] = [];
beforeEach(() => {
  // Timeouts and trigger times on a fake wall clock; setImmediate (settle) and microtasks stay real.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
  for (const s of running.splice(0)) s.cancel();
});

interface Setup {
  channels: number;
  alignedTimeoutMs?: number;
  /** Output credits; 0 with `blockOutput`: the subtask processes nothing until `unblock()`. */
  credits?: number;
  blockOutput?: boolean;
  log?: InFlightLog;
}

async function start(setup: Setup) {
  const processed: unknown[] = [];
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
      endInput() {},
      close() {},
      snapshotState: () => [...processed],
    };
  };
  const { task, nodes } = singleOperatorTask(operator);
  const snapshots: Array<{ id: number; parts: SubtaskSnapshotParts }> = [];
  const failures: unknown[] = [];
  const host: SubtaskHost = {
    workerIndex: 0,
    maxParallelism: 128,
    tuning: { batchSize: 1, channelCredits: 1 },
    onFailure: (error) => failures.push(error),
    onSnapshot: (_subtask, id, parts) => snapshots.push({ id, parts }),
    checkpointMode: 'aligned',
    alignedTimeoutMs: setup.alignedTimeoutMs,
    createInFlightLog: setup.log ? () => setup.log : undefined,
    // No time slicing: a drain runs to its end within one settle however busy the machine is.
    drainSliceMs: Number.POSITIVE_INFINITY,
  };
  const subtask = new InputTask(task, 0, nodes, host, setup.channels);
  running.push(subtask);
  const transport = new RecordingTransport();
  const writer = new ChannelWriter(0, transport, setup.credits ?? 100, 1, () => subtask.onWriterAvailable(), 'local');
  await subtask.open([{ partitioning: 'forward', writers: [writer] }]);
  if (setup.blockOutput) {
    // A batch waiting for a credit: the writer is unavailable, the subtask leaves its input queued.
    writer.add('blocked', NO_TIMESTAMP);
  }
  subtask.start();
  const gate = subtask.gate;
  return {
    subtask,
    gate,
    processed,
    snapshots,
    failures,
    transport,
    unblock: () => writer.addCredits(100),
    barriersSent: () => transport.sent.filter((m) => m.barrier !== undefined),
  };
}

describe('alignment timeout counted from the checkpoint trigger, seen at the input queue', () => {
  it('a single input whose barrier arrives past the deadline behind unprocessed data switches at once: its records up to the barrier are channel state', async () => {
    const t = await start({ channels: 1, alignedTimeoutMs: 20, credits: 0, blockOutput: true });
    const at = Date.now() - 1_000;
    t.gate.pushMessage(0, records([1]));
    t.gate.pushMessage(0, records([2], { barrier: 5, barrierAt: at }));
    t.gate.pushMessage(0, records([3]));
    await settle();
    expect(t.processed).toEqual([]);
    expect(t.snapshots).toHaveLength(1);
    const { id, parts } = t.snapshots[0];
    expect(id).toBe(5);
    expect(parts.unaligned).toBe(true);
    expect(parts.alignmentMs).toBe(0);
    expect(parts.operators[0].state).toEqual([]);
    expect(await parts.channelState).toEqual({
      input: [
        { channel: 0, batch: { values: [1], timestamps: null } },
        { channel: 0, batch: { values: [2], timestamps: null } },
      ],
      output: [[{ values: ['blocked'], timestamps: null }]],
    });
    // The priority barrier overtook the backlog and carries the trigger time on.
    expect(t.transport.sent).toEqual([{ values: null, timestamps: null, barrier: 5, barrierAt: at, priority: true }]);
    // The queued barrier is ignored when its turn comes: no second snapshot, no aligned barrier.
    t.unblock();
    await settle();
    expect(t.processed).toEqual([1, 2, 3]);
    expect(t.snapshots).toHaveLength(1);
    expect(t.barriersSent()).toHaveLength(1);
    expect(t.failures).toEqual([]);
  });

  it('a barrier queued before the deadline switches when the deadline passes while it is still unprocessed', async () => {
    const t = await start({ channels: 1, alignedTimeoutMs: 40, credits: 0, blockOutput: true });
    t.gate.pushMessage(0, records([1], { barrier: 2, barrierAt: Date.now() }));
    await settle();
    expect(t.snapshots).toHaveLength(0);
    await elapse(90);
    expect(t.snapshots.map((s) => [s.id, s.parts.unaligned])).toEqual([[2, true]]);
    expect(await t.snapshots[0].parts.channelState).toMatchObject({ input: [{ channel: 0, batch: { values: [1] } }] });
  });

  it('a barrier processed before the deadline is aligned: forwarded with its trigger time, and the deadline does nothing', async () => {
    const t = await start({ channels: 1, alignedTimeoutMs: 30 });
    const at = Date.now();
    t.gate.pushMessage(0, records([1], { barrier: 3, barrierAt: at }));
    await settle();
    await elapse(60);
    expect(t.snapshots.map((s) => [s.id, s.parts.unaligned])).toEqual([[3, false]]);
    expect(t.barriersSent()).toEqual([{ values: null, timestamps: null, watermark: undefined, end: false, barrier: 3, barrierAt: at }]);
  });

  it('per channel: nothing after a processed barrier, up to the barrier where it is queued, everything plus arrivals until the barrier elsewhere', async () => {
    const t = await start({ channels: 3, alignedTimeoutMs: 30, credits: 1 });
    const at = Date.now();
    t.gate.pushMessage(0, records([1], { barrier: 5, barrierAt: at })); // processed: channel 0 blocked
    await settle();
    t.gate.pushMessage(0, records([2])); // held back: after channel 0's barrier
    t.gate.pushMessage(1, records([10])); // processed; its output waits for a credit: input stops
    await settle();
    t.gate.pushMessage(1, records([11], { barrier: 5, barrierAt: at })); // queued barrier
    t.gate.pushMessage(1, records([12])); // after it
    t.gate.pushMessage(2, records([20])); // channel 2 still owes barrier 5
    await settle();
    expect(t.processed).toEqual([1, 10]);
    expect(t.snapshots).toHaveLength(0);
    await elapse(70);
    expect(t.snapshots).toHaveLength(1);
    const { parts } = t.snapshots[0];
    expect(parts.unaligned).toBe(true);
    expect(parts.operators[0].state).toEqual([1, 10]);
    expect(parts.alignmentMs).toBe(30);
    t.gate.pushMessage(2, records([21]));
    t.gate.pushMessage(2, records([22], { barrier: 5, barrierAt: at }));
    t.gate.pushMessage(2, records([23]));
    expect(await parts.channelState).toEqual({
      input: [
        { channel: 1, batch: { values: [11], timestamps: null } },
        { channel: 2, batch: { values: [20], timestamps: null } },
        { channel: 2, batch: { values: [21], timestamps: null } },
        { channel: 2, batch: { values: [22], timestamps: null } },
      ],
      output: [[{ values: [10], timestamps: null }]],
    });
    t.unblock();
    await settle();
    expect([...t.processed].sort((a, b) => Number(a) - Number(b))).toEqual([1, 2, 10, 11, 12, 20, 21, 22, 23]);
    expect(t.snapshots).toHaveLength(1);
    expect(t.failures).toEqual([]);
  });

  it('continuous spilling: the same cutoffs, as references to the in-flight log', async () => {
    const holds: Array<[number, number]> = [];
    const log: InFlightLog = { append() {}, hold: (id, floor) => holds.push([id, floor]) };
    const t = await start({ channels: 2, alignedTimeoutMs: 20, credits: 0, blockOutput: true, log });
    const at = Date.now() - 1_000;
    t.gate.pushMessage(1, records([10])); // seq 0, channel 1 owes the barrier
    t.gate.pushMessage(0, records([1])); // seq 1
    t.gate.pushMessage(0, records([2], { barrier: 7, barrierAt: at })); // seq 2
    t.gate.pushMessage(0, records([3])); // seq 3: after the barrier
    await settle();
    expect(t.snapshots).toHaveLength(1);
    t.gate.pushMessage(1, records([11], { barrier: 7, barrierAt: at })); // seq 4
    expect(await t.snapshots[0].parts.channelState).toEqual({
      input: [
        { channel: 1, seq: 0, from: 0 },
        { channel: 0, seq: 1, from: 0 },
        { channel: 0, seq: 2, from: 0 },
        { channel: 1, seq: 4, from: 0 },
      ],
      output: [[{ values: ['blocked'], timestamps: null }]],
      floorSeq: 0,
    });
    expect(holds).toEqual([[7, 0]]);
  });

  it('a barrier of an aborted checkpoint does not switch', async () => {
    const t = await start({ channels: 1, alignedTimeoutMs: 20, credits: 0, blockOutput: true });
    t.subtask.checkpointAborted(4);
    t.gate.pushMessage(0, records([1], { barrier: 4, barrierAt: Date.now() - 1_000 }));
    await settle();
    expect(t.snapshots).toHaveLength(0);
  });
});

describe('priority barrier while aligned barriers are queued', () => {
  it('a channel whose aligned barrier is queued contributes only what precedes it, and owes nothing more', async () => {
    const t = await start({ channels: 2, alignedTimeoutMs: 10_000, credits: 0, blockOutput: true });
    const at = Date.now();
    t.gate.pushMessage(0, records([1], { barrier: 6, barrierAt: at }));
    t.gate.pushMessage(0, records([2]));
    t.gate.pushMessage(1, records([10]));
    t.gate.pushMessage(1, { values: null, timestamps: null, barrier: 6, barrierAt: at, priority: true });
    expect(t.snapshots).toHaveLength(1);
    expect(t.snapshots[0].parts.unaligned).toBe(true);
    expect(await t.snapshots[0].parts.channelState).toEqual({
      input: [
        { channel: 0, batch: { values: [1], timestamps: null } },
        { channel: 1, batch: { values: [10], timestamps: null } },
      ],
      output: [[{ values: ['blocked'], timestamps: null }]],
    });
    expect(t.transport.sent).toEqual([{ values: null, timestamps: null, barrier: 6, barrierAt: at, priority: true }]);
  });
});

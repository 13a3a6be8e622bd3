// A subtask's processing time comes from its host: under a manual clock, operator timers fire when the
// clock is advanced past them (their output flushed downstream at once), never before, and not after the subtask stopped.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChannelWriter } from '../../../src/runtime/channels/channel-writer.ts';
import { KeyedProcessOperator } from '../../../src/runtime/operators/keyed-process.ts';
import { UserFunctionError } from '../../../src/runtime/errors.ts';
import type { Collector, KeyedProcessContext, KeyedProcessFunctionLike, OnTimerContext } from '../../../src/runtime/operators/types.ts';
import { InputTask } from '../../../src/runtime/task/input-task.ts';
import type { SubtaskHost } from '../../../src/runtime/task/subtask.ts';
import { ManualProcessingTime } from '../../../src/runtime/time/manual-processing-time.ts';
import type { ProcessingTimeService } from '../../../src/runtime/time/processing-time-service.ts';
import { RecordingTransport, singleOperatorTask } from '../fixtures.ts';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Input {
  key: string;
  delay: number;
}

/** On each record: reports the processing time it saw and registers a timer `delay` later; onTimer reports when it ran. */
class DelayFunction implements KeyedProcessFunctionLike<string, Input, unknown> {
  failOnTimer = false;

  processElement(value: Input, ctx: KeyedProcessContext<string>, out: Collector<unknown>): void {
    const now = ctx.timerService.currentProcessingTime();
    out.collect({ seen: value.key, at: now });
    ctx.timerService.registerProcessingTimeTimer(now + value.delay);
  }

  onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<unknown>): void {
    if (this.failOnTimer) throw new Error('timer failed');
    out.collect({ fired: ctx.key, timestamp, at: ctx.timerService.currentProcessingTime() });
  }
}

const running: InputTask[] = [];
afterEach(() => {
  for (const s of running.splice(0)) s.cancel();
  vi.restoreAllMocks();
});

async function start(processingTime?: ProcessingTimeService) {
  const fn = new DelayFunction();
  const { task, nodes } = singleOperatorTask((ctx) => new KeyedProcessOperator<string, Input, unknown>(ctx, fn, (v) => v.key), { keyed: true });
  const failures: unknown[] = [];
  const host: SubtaskHost = {
    workerIndex: 0,
    maxParallelism: 128,
    tuning: { batchSize: 100, channelCredits: 4 },
    onFailure: (error) => failures.push(error),
    processingTime,
    // No time slicing: a drain runs to its end within one settle however busy the machine is.
    drainSliceMs: Number.POSITIVE_INFINITY,
  };
  const subtask = new InputTask(task, 0, nodes, host, 1);
  running.push(subtask);
  const transport = new RecordingTransport();
  // A batch far larger than the output: records leave only when the subtask flushes.
  const writer = new ChannelWriter(0, transport, 100, 100, () => subtask.onWriterAvailable(), 'local');
  await subtask.open([{ partitioning: 'forward', writers: [writer] }]);
  subtask.start();
  return { subtask, gate: subtask.gate, transport, failures, fn };
}

describe('a subtask on a manual processing-time clock', () => {
  it('fires a keyed process function’s timer exactly when the clock passes it, and flushes its output at once', async () => {
    const clock = new ManualProcessingTime(1_000);
    const t = await start(clock);
    t.gate.pushMessage(0, { values: [{ key: 'a', delay: 500 }], timestamps: null });
    await settle();
    expect(t.transport.records).toEqual([{ seen: 'a', at: 1_000 }]);
    expect(clock.nextAt).toBe(1_500);

    clock.advanceTo(1_499);
    expect(t.transport.records).toHaveLength(1);
    // Synchronously inside the advance: no event-loop turn needed for the output to go downstream.
    clock.advanceTo(1_500);
    expect(t.transport.records).toEqual([
      { seen: 'a', at: 1_000 },
      { fired: 'a', timestamp: 1_500, at: 1_500 },
    ]);
    expect(clock.pending).toBe(0);
    clock.advanceBy(10_000);
    expect(t.transport.records).toHaveLength(2);
    expect(t.failures).toEqual([]);
  });

  it('fires timers of several keys in one advance in timestamp order', async () => {
    const clock = new ManualProcessingTime(0);
    const t = await start(clock);
    t.gate.pushMessage(0, {
      values: [
        { key: 'c', delay: 300 },
        { key: 'a', delay: 100 },
        { key: 'b', delay: 200 },
      ],
      timestamps: null,
    });
    await settle();
    clock.advanceTo(1_000);
    expect(t.transport.records.slice(3)).toEqual([
      { fired: 'a', timestamp: 100, at: 100 },
      { fired: 'b', timestamp: 200, at: 200 },
      { fired: 'c', timestamp: 300, at: 300 },
    ]);
  });

  it('cancels its pending timers when canceled: advancing afterwards fires nothing', async () => {
    const clock = new ManualProcessingTime(0);
    const t = await start(clock);
    t.gate.pushMessage(0, { values: [{ key: 'a', delay: 100 }], timestamps: null });
    await settle();
    expect(clock.pending).toBe(1);
    t.subtask.cancel();
    expect(clock.pending).toBe(0);
    clock.advanceTo(1_000);
    expect(t.transport.records).toEqual([{ seen: 'a', at: 0 }]);
  });

  it('fails the subtask (not the caller advancing the clock) when a timer throws', async () => {
    const clock = new ManualProcessingTime(0);
    const t = await start(clock);
    t.fn.failOnTimer = true;
    t.gate.pushMessage(0, { values: [{ key: 'a', delay: 100 }], timestamps: null });
    await settle();
    expect(() => clock.advanceTo(100)).not.toThrow();
    expect(t.subtask.state).toBe('failed');
    expect(t.failures).toHaveLength(1);
    expect(t.failures[0]).toBeInstanceOf(UserFunctionError);
    expect((t.failures[0] as UserFunctionError).original).toMatchObject({ message: 'timer failed' });
  });
});

describe('a subtask without a clock from its host', () => {
  it('uses the wall clock', async () => {
    vi.spyOn(Date, 'now').mockImplementation(() => 7_000);
    const t = await start();
    t.gate.pushMessage(0, { values: [{ key: 'a', delay: 3_600_000 }], timestamps: null });
    await settle();
    expect(t.transport.records).toEqual([{ seen: 'a', at: 7_000 }]);
  });
});

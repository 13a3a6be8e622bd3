// Restoring an unaligned checkpoint: a subtask processes its recovered input before upstream's recovered output, whichever is read first.
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelWriter } from '../../../src/runtime/channels/channel-writer.ts';
import { LocalTransport } from '../../../src/runtime/channels/transports.ts';
import { InputTask } from '../../../src/runtime/task/input-task.ts';
import type { SubtaskHost } from '../../../src/runtime/task/subtask.ts';
import { NO_TIMESTAMP, type StreamOperator } from '../../../src/runtime/types.ts';
import { RecordingTransport, singleOperatorTask } from '../fixtures.ts';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const running: InputTask[] = [];
afterEach(() => {
  for (const s of running.splice(0)) s.cancel();
});

/** A subtask whose operator records what it processes, fed by an upstream writer on the same thread. */
async function consumerWithUpstream() {
  const processed: unknown[] = [];
  const operator = (): StreamOperator => ({
    open() {},
    processElement(value) {
      processed.push(value);
    },
    processWatermark() {},
    endOfBatch() {},
    endInput() {},
    close() {},
  });
  const { task, nodes } = singleOperatorTask(operator);
  const host: SubtaskHost = {
    workerIndex: 0,
    maxParallelism: 128,
    tuning: { batchSize: 4, channelCredits: 4 },
    onFailure: (e) => { throw e; },
    // No time slicing: the drain runs to its end within one settle however busy the machine is.
    drainSliceMs: Number.POSITIVE_INFINITY,
  };
  const consumer = new InputTask(task, 0, nodes, host, 1);
  running.push(consumer);
  const gate = consumer.gate;
  const upstream = new ChannelWriter(0, new LocalTransport(gate, 0), 4, 4, () => {}, 'local');
  gate.connect(0, () => upstream.addCredits(1));
  await consumer.open([{ partitioning: 'forward', writers: [new ChannelWriter(1, new RecordingTransport(), 4, 4, () => {}, 'local')] }]);
  return { consumer, upstream, processed };
}

describe('restore order of channel state', () => {
  it('upstream replays its recovered output before the consumer read its own file: the consumer still processes its own recovered input first', async () => {
    const { consumer, upstream, processed } = await consumerWithUpstream();
    // What the worker does synchronously from the restore plan, before any channel is connected.
    (consumer as unknown as { expectChannelState?: () => void }).expectChannelState?.();
    // Upstream's file was read first: its unsent output (records 5..8) goes out at once.
    upstream.replay([{ values: [5, 6, 7, 8], timestamps: null }]);
    // Then the consumer's own file: what it had received but not processed (records 1..4).
    (consumer as unknown as { restoreChannelState: (d: unknown) => void }).restoreChannelState({ input: [{ channel: 0, batch: { values: [1, 2, 3, 4], timestamps: null } }], output: [[]] });
    consumer.start();
    upstream.add(9, NO_TIMESTAMP);
    upstream.flush();
    await settle();
    expect(processed).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

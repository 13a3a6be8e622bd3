// Subtask back-pressure time: counted while its output writers have no credit, and only then.
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelWriter } from '../../../src/runtime/channels/channel-writer.ts';
import { InputTask } from '../../../src/runtime/task/input-task.ts';
import type { SubtaskHost } from '../../../src/runtime/task/subtask.ts';
import { NO_TIMESTAMP, type Output, type StreamOperator } from '../../../src/runtime/types.ts';
import { RecordingTransport, singleOperatorTask } from '../fixtures.ts';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const running: InputTask[] = [];
afterEach(() => {
  for (const s of running.splice(0)) s.cancel();
});

async function start(credits: number) {
  const operator = (): StreamOperator => {
    let out: Output;
    return {
      open(output) {
        out = output;
      },
      processElement(value) {
        out.collect(value, NO_TIMESTAMP);
      },
      processWatermark() {},
      endOfBatch() {},
      endInput() {},
      close() {},
    };
  };
  const { task, nodes } = singleOperatorTask(operator);
  const host: SubtaskHost = {
    workerIndex: 0,
    maxParallelism: 128,
    tuning: { batchSize: 1, channelCredits: 1 },
    onFailure: () => {},
    // No time slicing: a drain runs to its end within one settle however busy the machine is.
    drainSliceMs: Number.POSITIVE_INFINITY,
  };
  const subtask = new InputTask(task, 0, nodes, host, 1);
  running.push(subtask);
  const writer = new ChannelWriter(0, new RecordingTransport(), credits, 1, () => subtask.onWriterAvailable(), 'local');
  await subtask.open([{ partitioning: 'forward', writers: [writer] }]);
  subtask.start();
  return { subtask, gate: subtask.gate, writer };
}

describe('back-pressure time', () => {
  it('stays 0 while output has credit', async () => {
    const t = await start(100);
    t.gate.pushMessage(0, { values: [1, 2, 3], timestamps: null });
    await settle();
    expect(t.subtask.backpressuredTime()).toBe(0);
  });

  it('grows while the writers have no credit (the period in progress included) and stops when credit returns', async () => {
    const t = await start(0);
    // With no credit the first record's batch waits in the writer's backlog: output unavailable.
    t.gate.pushMessage(0, { values: [1], timestamps: null });
    t.gate.pushMessage(0, { values: [2], timestamps: null });
    await settle();
    await sleep(30);
    const during = t.subtask.backpressuredTime();
    expect(during).toBeGreaterThanOrEqual(25);
    t.writer.addCredits(100);
    await settle();
    const after = t.subtask.backpressuredTime();
    expect(after).toBeGreaterThanOrEqual(during);
    await sleep(10);
    expect(t.subtask.backpressuredTime()).toBe(after);
  });
});

// InputGate: arrival order, credit return, combined watermark over live channels, end handling, wire decoding.
import { describe, expect, it } from 'vitest';
import { BatchEncoder } from '../../../src/runtime/channels/batch-codec.ts';
import { InputGate } from '../../../src/runtime/channels/input-gate.ts';
import type { ChannelMessage } from '../../../src/runtime/channels/types.ts';
import { MAX_WATERMARK } from '../../../src/runtime/types.ts';

function records(values: unknown[]): ChannelMessage {
  return { values, timestamps: null };
}

describe('InputGate queue', () => {
  it('delivers messages in arrival order across channels and signals each arrival', () => {
    let signals = 0;
    const gate = new InputGate(3, () => signals++);
    gate.pushMessage(2, records(['c0']));
    gate.pushMessage(0, records(['a0']));
    gate.pushMessage(2, records(['c1']));
    gate.pushMessage(1, records(['b0']));
    expect(signals).toBe(4);
    expect(gate.queued).toBe(4);
    const order: Array<[number, unknown]> = [];
    for (let next = gate.poll(); next; next = gate.poll()) order.push([next.channel, next.message.values![0]]);
    expect(order).toEqual([
      [2, 'c0'],
      [0, 'a0'],
      [2, 'c1'],
      [1, 'b0'],
    ]);
    expect(gate.queued).toBe(0);
    expect(gate.poll()).toBeUndefined();
  });

  it('keeps order through long runs (queue compaction)', () => {
    const gate = new InputGate(2, () => {});
    const seen: unknown[] = [];
    let pushed = 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 1500; i++) gate.pushMessage(pushed % 2, records([pushed++]));
      for (let i = 0; i < 1200; i++) seen.push(gate.poll()!.message.values![0]);
    }
    for (let next = gate.poll(); next; next = gate.poll()) seen.push(next.message.values![0]);
    expect(seen).toEqual(Array.from({ length: pushed }, (_, i) => i));
  });

  it('returns credit to the producer of the acknowledged channel only', () => {
    const gate = new InputGate(3, () => {});
    const credits = [0, 0, 0];
    for (const c of [0, 1, 2]) gate.connect(c, () => credits[c]++);
    gate.acknowledge(1);
    gate.acknowledge(1);
    gate.acknowledge(2);
    expect(credits).toEqual([0, 2, 1]);
  });

  it('ignores acknowledgements of channels without a credit returner', () => {
    const gate = new InputGate(1, () => {});
    expect(() => gate.acknowledge(0)).not.toThrow();
  });

  it('decodes wire messages produced by BatchEncoder, interleaved with local ones', () => {
    const gate = new InputGate(2, () => {});
    const encoder = new BatchEncoder();
    gate.pushWire(0, encoder.encode({ values: [{ word: 'x', n: 1 }, { word: 'y', n: 2 }], timestamps: [10, 11], watermark: 9 }).wire);
    gate.pushMessage(1, records(['local']));
    gate.pushWire(0, encoder.encode({ values: null, timestamps: null, end: true }).wire);
    const first = gate.poll()!;
    expect(first.channel).toBe(0);
    expect(first.message.values).toEqual([{ word: 'x', n: 1 }, { word: 'y', n: 2 }]);
    expect(Array.from(first.message.timestamps!)).toEqual([10, 11]);
    expect(first.message.watermark).toBe(9);
    expect(first.message.end).toBe(false);
    expect(gate.poll()).toMatchObject({ channel: 1, message: { values: ['local'] } });
    expect(gate.poll()).toEqual({ channel: 0, seq: 2, message: { values: null, timestamps: null, watermark: undefined, end: true } });
  });
});

describe('InputGate watermarks', () => {
  it('reports the minimum over channels, only when it advances', () => {
    const gate = new InputGate(3, () => {});
    expect(gate.advanceWatermark(0, 10)).toBeUndefined();
    expect(gate.advanceWatermark(1, 5)).toBeUndefined();
    expect(gate.advanceWatermark(2, 7)).toBe(5);
    expect(gate.advanceWatermark(2, 8)).toBeUndefined(); // min still 5
    expect(gate.advanceWatermark(1, 20)).toBe(8);
    expect(gate.advanceWatermark(2, 30)).toBe(10);
  });

  it('ignores a channel watermark that does not advance that channel', () => {
    const gate = new InputGate(2, () => {});
    gate.advanceWatermark(0, 10);
    expect(gate.advanceWatermark(1, 10)).toBe(10);
    expect(gate.advanceWatermark(1, 3)).toBeUndefined();
    expect(gate.advanceWatermark(0, 10)).toBeUndefined();
    // the regressed value was not recorded: channel 1 still holds 10
    expect(gate.advanceWatermark(0, 15)).toBeUndefined();
    expect(gate.advanceWatermark(1, 12)).toBe(12);
  });

  it('with a single channel reports every advance', () => {
    const gate = new InputGate(1, () => {});
    expect(gate.advanceWatermark(0, 1)).toBe(1);
    expect(gate.advanceWatermark(0, 2)).toBe(2);
    expect(gate.advanceWatermark(0, MAX_WATERMARK)).toBe(MAX_WATERMARK);
  });

  it('stops an ended channel from holding the watermark back', () => {
    const gate = new InputGate(3, () => {});
    gate.advanceWatermark(0, 100);
    gate.advanceWatermark(1, 50);
    expect(gate.advanceWatermark(2, 10)).toBe(10);
    expect(gate.markEnded(2)).toBe(false);
    expect(gate.watermarkAfterEnd()).toBe(50);
    expect(gate.markEnded(1)).toBe(false);
    expect(gate.watermarkAfterEnd()).toBe(100);
    // later watermarks of the live channel keep advancing it
    expect(gate.advanceWatermark(0, 120)).toBe(120);
  });

  it('reports nothing after an end that does not raise the minimum', () => {
    const gate = new InputGate(2, () => {});
    gate.advanceWatermark(0, 5);
    gate.advanceWatermark(1, 9);
    gate.markEnded(1);
    expect(gate.watermarkAfterEnd()).toBeUndefined();
  });

  it('markEnded is true only once every channel ended, counting each channel once', () => {
    const gate = new InputGate(3, () => {});
    expect(gate.markEnded(0)).toBe(false);
    expect(gate.markEnded(0)).toBe(false);
    expect(gate.markEnded(2)).toBe(false);
    expect(gate.markEnded(1)).toBe(true);
    expect(gate.watermarkAfterEnd()).toBeUndefined();
  });
});

describe('InputGate arrival numbers (continuous spilling)', () => {
  it('numbers every queued message in arrival order, replays too, and lists what is unprocessed without decoding', () => {
    const queued: Array<[number, number]> = [];
    const gate = new InputGate(2, () => {}, { onQueued: (channel, seq) => queued.push([channel, seq]) });
    gate.installRecoveredInput([{ channel: 1, batch: { values: ['r'], timestamps: null } }]);
    gate.pushMessage(0, records(['a']));
    gate.pushWire(1, new BatchEncoder().encode({ values: ['b'], timestamps: null }).wire);
    expect(queued).toEqual([
      [1, 0],
      [0, 1],
      [1, 2],
    ]);
    expect(gate.poll()).toMatchObject({ channel: 1, seq: 0 });
    expect(gate.queuedEntries()).toEqual([
      { channel: 0, seq: 1 },
      { channel: 1, seq: 2 },
    ]);
    expect(gate.nextSeq).toBe(3);
  });
});

describe('InputGate restore of recovered input', () => {
  const polledValues = (gate: InputGate) => {
    const out: Array<[number, unknown, boolean]> = [];
    for (let next = gate.poll(); next; next = gate.poll()) out.push([next.channel, next.message.values?.[0], next.noCredit === true]);
    return out;
  };

  it('holds what arrives before the recovered input is installed behind it, on every channel, in arrival order', () => {
    let signals = 0;
    const gate = new InputGate(2, () => signals++);
    gate.awaitRecoveredInput();
    // Upstream's recovered output (its file was read first), by port and locally.
    gate.pushWire(0, new BatchEncoder().encode(records(['up0-later'])).wire);
    gate.pushMessage(1, records(['up1-later']));
    expect(gate.queued).toBe(0);
    expect(signals).toBe(0);
    gate.installRecoveredInput([
      { channel: 0, batch: { values: ['own0-earlier'], timestamps: null } },
      { channel: 1, batch: { values: ['own1-earlier'], timestamps: null } },
    ]);
    expect(polledValues(gate)).toEqual([
      [0, 'own0-earlier', true],
      [1, 'own1-earlier', true],
      [0, 'up0-later', false],
      [1, 'up1-later', false],
    ]);
  });

  it('passes arrivals straight through once installed (also with no recovered input), priority barriers included', () => {
    const barriers: number[] = [];
    const gate = new InputGate(1, () => {}, { onPriorityBarrier: (_channel, id) => barriers.push(id) });
    gate.awaitRecoveredInput();
    gate.pushMessage(0, { values: null, timestamps: null, barrier: 4, priority: true });
    expect(barriers).toEqual([]);
    gate.installRecoveredInput([]);
    expect(barriers).toEqual([4]);
    gate.pushMessage(0, records(['new']));
    expect(polledValues(gate)).toEqual([[0, 'new', false]]);
  });

  it('numbers deferred arrivals after the recovered input (continuous spilling refers to them in queue order)', () => {
    const queued: Array<[number, unknown]> = [];
    const gate = new InputGate(1, () => {}, { onQueued: (_channel, seq, message) => queued.push([seq, message?.values?.[0]]) });
    gate.awaitRecoveredInput();
    gate.pushMessage(0, records(['later']));
    gate.installRecoveredInput([{ channel: 0, batch: { values: ['earlier'], timestamps: null } }]);
    expect(queued).toEqual([
      [0, 'earlier'],
      [1, 'later'],
    ]);
    expect(gate.queuedEntries()).toEqual([
      { channel: 0, seq: 0 },
      { channel: 0, seq: 1 },
    ]);
  });
});

describe('InputGate barrier hooks (alignment timeout)', () => {
  it('reports an aligned barrier when it is queued, with its trigger time and the arrival number of its message', () => {
    const queued: Array<[number, number, number | undefined, number]> = [];
    const gate: InputGate = new InputGate(2, () => {}, {
      onBarrierQueued: (channel, id, at, seq) => {
        // Called after the message is queued: a switch right here sees it among the queued entries.
        expect(gate.queuedEntries().some((e) => e.seq === seq)).toBe(true);
        queued.push([channel, id, at, seq]);
      },
    });
    gate.pushMessage(0, records(['a']));
    gate.pushMessage(1, { values: ['b'], timestamps: null, barrier: 3, barrierAt: 1_000 });
    gate.pushWire(0, new BatchEncoder().encode({ values: null, timestamps: null, barrier: 3, barrierAt: 1_000 }).wire);
    gate.pushMessage(1, { values: null, timestamps: null, barrier: 4 });
    expect(queued).toEqual([
      [1, 3, 1_000, 1],
      [0, 3, 1_000, 2],
      [1, 4, undefined, 3],
    ]);
    // Queued, not processed: the barriers are still delivered in order by poll.
    expect([gate.poll(), gate.poll(), gate.poll()].map((m) => m?.message.barrier)).toEqual([undefined, 3, 3]);
  });

  it('priority barriers skip the queue, carry their trigger time, and are not reported as queued', () => {
    const priority: Array<[number, number, number | undefined]> = [];
    let queuedBarriers = 0;
    const gate = new InputGate(2, () => {}, {
      onPriorityBarrier: (channel, id, at) => priority.push([channel, id, at]),
      onBarrierQueued: () => queuedBarriers++,
    });
    gate.pushMessage(1, { values: null, timestamps: null, barrier: 2, barrierAt: 500, priority: true });
    gate.pushWire(0, new BatchEncoder().encode({ values: null, timestamps: null, barrier: 2, barrierAt: 500, priority: true }).wire);
    expect(priority).toEqual([
      [1, 2, 500],
      [0, 2, 500],
    ]);
    expect(queuedBarriers).toBe(0);
    expect(gate.queued).toBe(0);
  });

  it('copies only the queued batches a filter accepts, without decoding the others', () => {
    const gate = new InputGate(2, () => {});
    gate.pushMessage(0, records(['a']));
    gate.pushMessage(1, records(['b']));
    gate.pushWire(0, new BatchEncoder().encode({ values: ['c'], timestamps: null }).wire);
    const asked: Array<[number, number]> = [];
    const batches = gate.queuedBatches((channel, seq) => {
      asked.push([channel, seq]);
      return channel === 0;
    });
    expect(batches).toEqual([
      { channel: 0, batch: { values: ['a'], timestamps: null } },
      { channel: 0, batch: { values: ['c'], timestamps: null } },
    ]);
    expect(asked).toEqual([
      [0, 0],
      [1, 1],
      [0, 2],
    ]);
  });
});

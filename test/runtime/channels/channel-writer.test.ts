// ChannelWriter: batching, credit-based flow control, backlog, timestamps, watermark and end messages.
import { describe, expect, it } from 'vitest';
import { ChannelWriter } from '../../../src/runtime/channels/channel-writer.ts';
import { NO_TIMESTAMP } from '../../../src/runtime/types.ts';
import { RecordingTransport } from '../fixtures.ts';

function writer(credits: number, batchSize: number) {
  const transport = new RecordingTransport();
  let availableCalls = 0;
  const w = new ChannelWriter(7, transport, credits, batchSize, () => availableCalls++, 'local');
  return { w, transport, availableCalls: () => availableCalls };
}

describe('ChannelWriter batching', () => {
  it('sends a batch exactly when batchSize records are gathered', () => {
    const { w, transport } = writer(10, 3);
    w.add('a', NO_TIMESTAMP);
    w.add('b', NO_TIMESTAMP);
    expect(transport.sent).toHaveLength(0);
    expect(w.pendingRecords).toBe(2);
    w.add('c', NO_TIMESTAMP);
    expect(transport.sent).toEqual([{ values: ['a', 'b', 'c'], timestamps: null, watermark: undefined, end: false }]);
    expect(w.pendingRecords).toBe(0);
    w.add('d', NO_TIMESTAMP);
    expect(transport.sent).toHaveLength(1);
    w.flush();
    expect(transport.sent[1].values).toEqual(['d']);
    expect(w.stats).toMatchObject({ channelId: 7, transport: 'local', credits: 10, batchesSent: 2, recordsSent: 4 });
  });

  it('does not send an empty message on a bare flush', () => {
    const { w, transport } = writer(10, 3);
    w.flush();
    expect(transport.sent).toHaveLength(0);
  });

  it('starts each batch with fresh arrays', () => {
    const { w, transport } = writer(10, 2);
    for (const v of [1, 2, 3, 4]) w.add(v, NO_TIMESTAMP);
    expect(transport.sent.map((m) => m.values)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(transport.sent[0].values).not.toBe(transport.sent[1].values);
  });
});

describe('ChannelWriter timestamps', () => {
  it('omits the timestamps array when no record has one', () => {
    const { w, transport } = writer(10, 2);
    w.add(1, NO_TIMESTAMP);
    w.add(2, NO_TIMESTAMP);
    expect(transport.sent[0].timestamps).toBeNull();
  });

  it('backfills NO_TIMESTAMP for earlier records of the batch once one has a timestamp', () => {
    const { w, transport } = writer(10, 4);
    w.add('a', NO_TIMESTAMP);
    w.add('b', NO_TIMESTAMP);
    w.add('c', 100);
    w.add('d', NO_TIMESTAMP);
    expect(transport.sent[0].values).toEqual(['a', 'b', 'c', 'd']);
    expect(transport.sent[0].timestamps).toEqual([NO_TIMESTAMP, NO_TIMESTAMP, 100, NO_TIMESTAMP]);
  });

  it('keeps timestamps aligned with values and resets them per batch', () => {
    const { w, transport } = writer(10, 2);
    w.add('a', 5);
    w.add('b', 6);
    w.add('c', NO_TIMESTAMP);
    w.add('d', NO_TIMESTAMP);
    w.add('e', 0);
    w.flush();
    expect(transport.sent.map((m) => m.timestamps)).toEqual([[5, 6], null, [0]]);
  });
});

describe('ChannelWriter credits', () => {
  it('sends at most `credits` messages before an acknowledgement, then backlogs', () => {
    const { w, transport, availableCalls } = writer(2, 1);
    w.add('a', NO_TIMESTAMP);
    w.add('b', NO_TIMESTAMP);
    expect(transport.sent).toHaveLength(2);
    expect(w.available).toBe(true);
    w.add('c', NO_TIMESTAMP);
    w.add('d', NO_TIMESTAMP);
    w.add('e', NO_TIMESTAMP);
    expect(transport.sent).toHaveLength(2);
    expect(w.available).toBe(false);
    expect(w.stats.maxBacklog).toBe(3);
    expect(w.stats.maxInFlight).toBe(2);
    expect(availableCalls()).toBe(0);

    w.addCredits(1);
    expect(transport.records).toEqual(['a', 'b', 'c']);
    expect(w.available).toBe(false);
    expect(availableCalls()).toBe(0);

    w.addCredits(2);
    expect(transport.records).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(w.available).toBe(true);
    expect(availableCalls()).toBe(1);

    // No backlog: returning credits must not report availability again.
    w.addCredits(2);
    expect(availableCalls()).toBe(1);
    expect(w.stats.maxInFlight).toBe(2);
  });

  it('queues behind an existing backlog even when a credit is free', () => {
    const { w, transport } = writer(1, 1);
    w.add('a', NO_TIMESTAMP);
    w.add('b', NO_TIMESTAMP);
    w.add('c', NO_TIMESTAMP);
    w.addCredits(1); // sends b, c waits
    expect(transport.records).toEqual(['a', 'b']);
    w.add('d', NO_TIMESTAMP);
    w.addCredits(1);
    w.addCredits(1);
    expect(transport.records).toEqual(['a', 'b', 'c', 'd']);
  });

  it('never has more messages in flight than credits, whatever the acknowledgement pattern', () => {
    const credits = 3;
    const { w, transport } = writer(credits, 2);
    let acked = 0;
    let inFlightSeen = 0;
    for (let i = 0; i < 200; i++) {
      w.add(i, i);
      if (i % 7 === 0) w.flush(i);
      const outstanding = transport.sent.length - acked;
      inFlightSeen = Math.max(inFlightSeen, outstanding);
      expect(outstanding).toBeLessThanOrEqual(credits);
      if (i % 5 === 4 && outstanding > 0) {
        acked++;
        w.addCredits(1);
      }
    }
    while (transport.sent.length > acked) {
      acked++;
      w.addCredits(1);
    }
    w.flush();
    while (transport.sent.length > acked) {
      acked++;
      w.addCredits(1);
    }
    expect(w.available).toBe(true);
    expect(w.stats.maxInFlight).toBe(inFlightSeen);
    expect(w.stats.maxInFlight).toBeLessThanOrEqual(credits);
    expect(transport.records).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(w.stats.recordsSent).toBe(200);
  });
});

describe('ChannelWriter watermarks and end', () => {
  it('sends pending records and the watermark in one message', () => {
    const { w, transport } = writer(10, 100);
    w.add('a', 1);
    w.add('b', 2);
    w.flush(1);
    expect(transport.sent).toEqual([{ values: ['a', 'b'], timestamps: [1, 2], watermark: 1, end: false }]);
  });

  it('sends a watermark-only message when nothing is pending', () => {
    const { w, transport } = writer(10, 100);
    w.flush(42);
    expect(transport.sent).toEqual([{ values: null, timestamps: null, watermark: 42, end: false }]);
  });

  it('sends end with the pending records, and nothing after it', () => {
    const { w, transport } = writer(10, 100);
    w.add('last', NO_TIMESTAMP);
    w.end();
    expect(transport.sent).toEqual([{ values: ['last'], timestamps: null, watermark: undefined, end: true }]);
    w.flush(99);
    w.flush();
    w.end();
    expect(transport.sent).toHaveLength(1);
  });

  it('backlogs the end marker like any message when out of credits', () => {
    const { w, transport, availableCalls } = writer(1, 1);
    w.add('a', NO_TIMESTAMP);
    w.end();
    expect(transport.sent).toHaveLength(1);
    expect(w.available).toBe(false);
    w.addCredits(1);
    expect(transport.sent[1]).toMatchObject({ values: null, end: true });
    expect(availableCalls()).toBe(1);
  });

  it('closes its transport', () => {
    const { w, transport } = writer(1, 1);
    w.close();
    expect(transport.closed).toBe(true);
  });
});

describe('ChannelWriter barriers', () => {
  it('sends an aligned barrier after the pending records, with the checkpoint trigger time, backlogged like any message', () => {
    const { w, transport } = writer(1, 10);
    w.add('a', NO_TIMESTAMP);
    w.flush();
    w.add('b', NO_TIMESTAMP);
    w.barrier(3, 1_234);
    expect(transport.sent).toHaveLength(1);
    w.addCredits(1);
    expect(transport.sent[1]).toMatchObject({ values: ['b'], barrier: 3, barrierAt: 1_234 });
  });

  it('sends a priority barrier at once, ahead of the backlog, with the trigger time, and returns what it overtook', () => {
    const { w, transport } = writer(1, 10);
    w.add('a', NO_TIMESTAMP);
    w.flush();
    w.add('b', NO_TIMESTAMP);
    w.flush();
    w.add('c', NO_TIMESTAMP);
    const overtaken = w.priorityBarrier(5, 4_321);
    expect(overtaken).toEqual([
      { values: ['b'], timestamps: null },
      { values: ['c'], timestamps: null },
    ]);
    expect(transport.sent.at(-1)).toEqual({ values: null, timestamps: null, barrier: 5, barrierAt: 4_321, priority: true });
  });
});

// ChannelStateRecording: in-flight input is recorded per channel until that channel delivered the barrier.
import { describe, expect, it } from 'vitest';
import { ChannelStateRecording } from '../../../src/runtime/task/channel-state-recorder.ts';

const batch = (...values: number[]) => () => ({ values, timestamps: null });

describe('ChannelStateRecording', () => {
  it('keeps what was queued and what owing channels deliver, until each delivered the barrier', async () => {
    const r = new ChannelStateRecording(7, [1, 2], [{ channel: 0, batch: { values: [1], timestamps: null } }]);
    r.setOutput([[{ values: [9], timestamps: null }]]);
    r.onArrival(0, 0, batch(100)); // channel 0 delivered the barrier already: after it, plain input
    r.onArrival(1, 1, batch(2));
    expect(r.channelDone(1)).toBe(false);
    r.onArrival(1, 2, batch(200)); // after channel 1's barrier
    r.onArrival(2, 3, batch(3));
    expect(r.channelDone(2)).toBe(true);
    expect(await r.done).toEqual({
      input: [
        { channel: 0, batch: { values: [1], timestamps: null } },
        { channel: 1, batch: { values: [2], timestamps: null } },
        { channel: 2, batch: { values: [3], timestamps: null } },
      ],
      output: [[{ values: [9], timestamps: null }]],
    });
  });

  it('completes at once when no channel owes the barrier', async () => {
    const r = new ChannelStateRecording(1, [], []);
    expect(r.finishIfComplete()).toBe(true);
    expect(await r.done).toEqual({ input: [], output: [] });
  });
});

describe('ChannelStateRecording by reference (continuous spilling)', () => {
  it('records arrival numbers of what owing channels deliver, not copies, and reports the floor', async () => {
    const r = new ChannelStateRecording(3, [1], [{ channel: 1, seq: 4, from: 10 }], 4);
    let decoded = 0;
    const lazy = () => {
      decoded++;
      return { values: [1], timestamps: null };
    };
    r.onArrival(0, 5, lazy); // channel 0 owes nothing
    r.onArrival(1, 6, lazy);
    expect(r.channelDone(1)).toBe(true);
    expect(decoded).toBe(0);
    expect(await r.done).toEqual({
      input: [
        { channel: 1, seq: 4, from: 10 },
        { channel: 1, seq: 6, from: 0 },
      ],
      output: [],
      floorSeq: 4,
    });
  });
});

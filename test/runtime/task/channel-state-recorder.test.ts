// ChannelStateRecording: in-flight input is recorded per channel until that channel delivered the barrier.
import { describe, expect, it } from 'vitest';
import { ChannelStateRecording } from '../../../src/runtime/task/channel-state-recorder.ts';

const batch = (...values: number[]) => () => ({ values, timestamps: null });

describe('ChannelStateRecording', () => {
  it('keeps what was queued and what owing channels deliver, until each delivered the barrier', async () => {
    const r = new ChannelStateRecording(7, [1, 2], [{ channel: 0, batch: { values: [1], timestamps: null } }]);
    r.setOutput([[{ values: [9], timestamps: null }]]);
    r.onArrival(0, batch(100)); // channel 0 delivered the barrier already: after it, plain input
    r.onArrival(1, batch(2));
    expect(r.channelDone(1)).toBe(false);
    r.onArrival(1, batch(200)); // after channel 1's barrier
    r.onArrival(2, batch(3));
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

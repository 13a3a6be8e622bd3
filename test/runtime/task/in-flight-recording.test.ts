// InFlightRecording: keeps what it is told is channel state (copies or references) and settles on complete.
import { describe, expect, it } from 'vitest';
import { InFlightRecording } from '../../../src/runtime/task/in-flight-recording.ts';

const batch = (...values: number[]) => () => ({ values, timestamps: null });

describe('InFlightRecording', () => {
  it('keeps what was queued and what it is told arrived, with the overtaken output, once complete', async () => {
    const r = new InFlightRecording(7, [{ channel: 0, batch: { values: [1], timestamps: null } }]);
    r.setOutput([[{ values: [9], timestamps: null }]]);
    r.add(1, 1, batch(2));
    r.add(2, 3, batch(3));
    // A batch without records is no channel state.
    r.add(2, 4, () => undefined);
    let settled = false;
    void r.done.then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    r.complete();
    expect(await r.done).toEqual({
      input: [
        { channel: 0, batch: { values: [1], timestamps: null } },
        { channel: 1, batch: { values: [2], timestamps: null } },
        { channel: 2, batch: { values: [3], timestamps: null } },
      ],
      output: [[{ values: [9], timestamps: null }]],
    });
  });
});

describe('InFlightRecording by reference (continuous spilling)', () => {
  it('records arrival numbers, not copies, and reports the floor', async () => {
    const r = new InFlightRecording(3, [{ channel: 1, seq: 4, from: 10 }], 4);
    let decoded = 0;
    const lazy = () => {
      decoded++;
      return { values: [1], timestamps: null };
    };
    r.add(1, 6, lazy);
    r.complete();
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

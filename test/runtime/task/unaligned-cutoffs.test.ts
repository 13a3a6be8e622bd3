// planUnalignedSwitch / selectChannelState: which queued input a task switching to unaligned persists, per channel.
import { describe, expect, it } from 'vitest';
import { EVERYTHING, isChannelState, NOTHING, planUnalignedSwitch, selectChannelState } from '../../../src/runtime/task/unaligned-cutoffs.ts';

const none = new Set<number>();

describe('planUnalignedSwitch', () => {
  it('cuts a channel whose barrier is queued at the message carrying it, and keeps nothing of a channel whose barrier was processed', () => {
    const plan = planUnalignedSwitch({
      channelCount: 4,
      arrived: new Set([1]),
      queuedBarriers: new Map([[2, 17]]),
      isEnded: () => false,
    });
    expect(plan.cutoffs).toEqual([EVERYTHING, NOTHING, 17, EVERYTHING]);
    // Only channels without barrier n anywhere still owe it.
    expect(plan.pending).toEqual([0, 3]);
  });

  it('a priority channel and ended channels owe nothing more; everything they queued is channel state', () => {
    const plan = planUnalignedSwitch({ channelCount: 3, arrived: none, queuedBarriers: new Map(), priorityChannel: 0, isEnded: (c) => c === 2 });
    expect(plan.cutoffs).toEqual([EVERYTHING, EVERYTHING, EVERYTHING]);
    expect(plan.pending).toEqual([1]);
  });

  it('a single input whose barrier is queued owes nothing: the checkpoint is complete at once', () => {
    const plan = planUnalignedSwitch({ channelCount: 1, arrived: none, queuedBarriers: new Map([[0, 5]]), isEnded: () => false });
    expect(plan).toEqual({ cutoffs: [5], pending: [] });
  });
});

describe('selectChannelState', () => {
  it('keeps, in order, what precedes each channel cutoff (the barrier message itself included)', () => {
    const entries = [
      { channel: 0, seq: 3 },
      { channel: 1, seq: 4 },
      { channel: 0, seq: 5 }, // carries barrier n on channel 0
      { channel: 2, seq: 6 },
      { channel: 0, seq: 7 }, // after barrier n: plain input
      { channel: 1, seq: 8 },
    ];
    const cutoffs = [5, EVERYTHING, NOTHING];
    expect(selectChannelState(entries, cutoffs)).toEqual([
      { channel: 0, seq: 3 },
      { channel: 1, seq: 4 },
      { channel: 0, seq: 5 },
      { channel: 1, seq: 8 },
    ]);
    expect(isChannelState(cutoffs, 0, 5)).toBe(true);
    expect(isChannelState(cutoffs, 0, 6)).toBe(false);
    expect(isChannelState(cutoffs, 2, 0)).toBe(false);
  });

  it('keeps the extra fields of each entry', () => {
    expect(selectChannelState([{ channel: 0, seq: 1, from: 9 }], [EVERYTHING])).toEqual([{ channel: 0, seq: 1, from: 9 }]);
  });
});

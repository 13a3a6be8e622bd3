// BarrierAligner: block channels that delivered barrier n, checkpoint once all live channels have.
import { describe, expect, it } from 'vitest';
import { BarrierAligner } from '../../../src/runtime/task/barrier-aligner.ts';

function aligner(channels: number, ended: Set<number> = new Set()) {
  return new BarrierAligner(channels, (c) => ended.has(c));
}

describe('BarrierAligner', () => {
  it('blocks each channel that delivered the barrier and checkpoints when the last one does', () => {
    const a = aligner(3);
    expect(a.onBarrier(1, 5, 0)).toEqual([{ block: 1 }]);
    expect(a.current).toEqual({ id: 5, arrived: new Set([1]), startedAt: 0 });
    expect(a.onBarrier(0, 5, 1)).toEqual([{ block: 0 }]);
    expect(a.onBarrier(2, 5, 2)).toEqual([{ block: 2 }, { checkpoint: 5, startedAt: 0 }]);
    expect(a.current).toBeUndefined();
  });

  it('a single input checkpoints at once', () => {
    expect(aligner(1).onBarrier(0, 1, 0)).toEqual([{ block: 0 }, { checkpoint: 1, startedAt: 0 }]);
  });

  it('ignores barriers of checkpoints already taken or older than the one aligned', () => {
    const a = aligner(2);
    a.onBarrier(0, 3, 0);
    a.onBarrier(1, 3, 0);
    expect(a.onBarrier(0, 3, 1)).toEqual([]);
    expect(a.onBarrier(0, 2, 1)).toEqual([]);
    a.onBarrier(0, 4, 2);
    expect(a.onBarrier(1, 3, 3)).toEqual([]);
  });

  it('ended channels no longer owe the barrier', () => {
    const ended = new Set<number>();
    const a = aligner(3, ended);
    a.onBarrier(0, 1, 0);
    a.onBarrier(1, 1, 0);
    expect(a.onChannelEnded()).toBeUndefined();
    ended.add(2);
    expect(a.onChannelEnded()).toEqual({ checkpoint: 1, startedAt: 0 });
  });

  it('a newer barrier abandons an alignment; an abort releases the blocked channels', () => {
    const a = aligner(2);
    a.onBarrier(0, 1, 0);
    expect(a.onBarrier(0, 2, 1)).toEqual([{ releaseAll: true }, { block: 0 }]);
    expect(a.abort(1)).toBeUndefined();
    expect(a.abort(2)).toEqual({ releaseAll: true });
    expect(a.current).toBeUndefined();
    expect(a.onBarrier(1, 3, 2)).toEqual([{ block: 1 }]);
  });
});

describe('BarrierAligner switching to unaligned', () => {
  it('stops aligning the switched checkpoint, releases its channels and ignores its later barriers', () => {
    const a = aligner(2);
    a.onBarrier(0, 4, 0);
    expect(a.switchToUnaligned(4)).toEqual({ releaseAll: true });
    expect(a.current).toBeUndefined();
    expect(a.lastTakenId).toBe(4);
    expect(a.onBarrier(1, 4, 1)).toEqual([]);
  });

  it('a switch of a newer checkpoint abandons an older alignment (its channels would stay blocked otherwise)', () => {
    const a = aligner(2);
    a.onBarrier(0, 3, 0);
    expect(a.switchToUnaligned(4)).toEqual({ releaseAll: true });
    expect(a.current).toBeUndefined();
    expect(a.onBarrier(1, 3, 1)).toEqual([]);
  });

  it('a switch of an older checkpoint leaves a newer alignment alone', () => {
    const a = aligner(2);
    a.onBarrier(0, 5, 0);
    expect(a.switchToUnaligned(4)).toBeUndefined();
    expect(a.current?.id).toBe(5);
  });
});

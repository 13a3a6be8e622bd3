// The barrier handler's transitions: alignment, end of input, aborts, the alignment timeout, priority barriers, recording.
import { describe, expect, it } from 'vitest';
import { initialBarrierState, stepBarriers } from '../../../src/runtime/task/barrier-handler.ts';
import type { BarrierEffect, BarrierEvent, BarrierSettings, BarrierState, BarrierTransition } from '../../../src/runtime/task/barrier-types.ts';
import { EVERYTHING, NOTHING } from '../../../src/runtime/task/unaligned-cutoffs.ts';

const aligned: BarrierSettings = { mode: 'aligned' };
const withTimeout: BarrierSettings = { mode: 'aligned', alignedTimeoutMs: 100 };

function run(state: BarrierState, settings: BarrierSettings, ...events: BarrierEvent[]): BarrierTransition {
  let current: BarrierTransition = { state, effects: [] };
  const effects: BarrierEffect[] = [];
  for (const event of events) {
    current = stepBarriers(current.state, event, settings);
    effects.push(...current.effects);
  }
  return { state: current.state, effects };
}

const barrier = (channel: number, id: number, now: number, at?: number): BarrierEvent => ({ type: 'barrier', channel, id, at, now });
const queued = (channel: number, id: number, seq: number, now: number, at?: number): BarrierEvent => ({ type: 'barrier-queued', channel, id, at, seq, now });
const priority = (channel: number, id: number, now: number, at?: number): BarrierEvent => ({ type: 'priority-barrier', channel, id, at, now });
const arrival = (channel: number, seq: number): BarrierEvent => ({ type: 'arrival', channel, seq });
const ended = (channel: number, now: number): BarrierEvent => ({ type: 'channel-ended', channel, now });
const deadline = (id: number, now: number): BarrierEvent => ({ type: 'alignment-deadline', id, now });
const abort = (id: number): BarrierEvent => ({ type: 'abort', id });

describe('aligned barriers', () => {
  it('blocks each channel that delivered barrier n and takes the checkpoint when the last one does, then releases all', () => {
    let t = run(initialBarrierState(3), aligned, barrier(1, 5, 10, 4));
    expect(t.effects).toEqual([{ type: 'block', channel: 1 }]);
    expect(t.state.aligning).toEqual({ id: 5, arrived: new Set([1]), startedAt: 10 });
    t = run(t.state, aligned, barrier(0, 5, 11, 4));
    expect(t.effects).toEqual([{ type: 'block', channel: 0 }]);
    t = run(t.state, aligned, barrier(2, 5, 17, 4));
    // The trigger time carried by the barriers goes on downstream; alignment counts from the first barrier.
    expect(t.effects).toEqual([{ type: 'block', channel: 2 }, { type: 'take-aligned', id: 5, alignmentMs: 7, barrierAt: 4 }, { type: 'release-all' }]);
    expect(t.state.aligning).toBeUndefined();
    expect(t.state.lastTaken).toBe(5);
    expect(t.state.sightings.size).toBe(0);
  });

  it('a single input takes the checkpoint at once', () => {
    const t = run(initialBarrierState(1), aligned, barrier(0, 1, 3, 2));
    expect(t.effects).toEqual([{ type: 'block', channel: 0 }, { type: 'take-aligned', id: 1, alignmentMs: 0, barrierAt: 2 }, { type: 'release-all' }]);
  });

  it('ignores barriers of checkpoints already taken, and older than the one aligned', () => {
    let t = run(initialBarrierState(2), aligned, barrier(0, 3, 0), barrier(1, 3, 0));
    t = run(t.state, aligned, barrier(0, 3, 1), barrier(0, 2, 1));
    expect(t.effects).toEqual([]);
    t = run(t.state, aligned, barrier(0, 4, 2));
    expect(t.effects).toEqual([{ type: 'block', channel: 0 }]);
    t = run(t.state, aligned, barrier(1, 3, 3));
    expect(t.effects).toEqual([]);
    expect(t.state.aligning?.id).toBe(4);
  });

  it('a newer barrier abandons the alignment of an older checkpoint (aborted upstream): its channels are released first', () => {
    const t = run(initialBarrierState(2), aligned, barrier(0, 1, 0), barrier(0, 2, 1));
    expect(t.effects).toEqual([{ type: 'block', channel: 0 }, { type: 'release-all' }, { type: 'block', channel: 0 }]);
    expect(t.state.aligning).toEqual({ id: 2, arrived: new Set([0]), startedAt: 1 });
  });
});

describe('end of input on a channel', () => {
  it('an ended channel no longer owes the barrier: it completes the alignment', () => {
    let t = run(initialBarrierState(3), aligned, barrier(0, 1, 0), barrier(1, 1, 0));
    expect(t.effects.some((e) => e.type === 'take-aligned')).toBe(false);
    t = run(t.state, aligned, ended(2, 9));
    expect(t.effects).toEqual([{ type: 'take-aligned', id: 1, alignmentMs: 9, barrierAt: 0 }, { type: 'release-all' }]);
  });

  it('ended channels before the alignment began count as delivered', () => {
    const t = run(initialBarrierState(2), aligned, ended(1, 0), barrier(0, 1, 5, 5));
    expect(t.effects).toEqual([{ type: 'block', channel: 0 }, { type: 'take-aligned', id: 1, alignmentMs: 0, barrierAt: 5 }, { type: 'release-all' }]);
  });

  it('once every channel ended no alignment completes: the task finishes and answers with its final state', () => {
    const t = run(initialBarrierState(2), aligned, barrier(0, 1, 0), ended(1, 1), ended(0, 2));
    // Channel 1 ending completed the alignment (channel 0 had delivered); a second alignment is never completed by the last end.
    expect(t.effects.filter((e) => e.type === 'take-aligned')).toHaveLength(1);
    const u = run(initialBarrierState(2), aligned, ended(1, 0), ended(0, 1));
    expect(u.effects).toEqual([]);
    expect(u.state.ended).toEqual(new Set([0, 1]));
  });
});

describe('abort', () => {
  it('releases the channels of the alignment it aborts, not of another', () => {
    let t = run(initialBarrierState(2), aligned, barrier(0, 2, 0), abort(1));
    expect(t.effects).toEqual([{ type: 'block', channel: 0 }]);
    t = run(t.state, aligned, abort(2));
    expect(t.effects).toEqual([{ type: 'release-all' }]);
    expect(t.state.aligning).toBeUndefined();
    expect(t.state.lastAborted).toBe(2);
    t = run(t.state, aligned, barrier(1, 3, 2));
    expect(t.effects).toEqual([{ type: 'block', channel: 1 }]);
  });

  it('cancels the alignment timeouts of checkpoints up to it and ignores their barriers arriving later', () => {
    let t = run(initialBarrierState(2), withTimeout, queued(0, 4, 0, 10, 10));
    expect(t.effects).toEqual([{ type: 'arm-timeout', id: 4, delayMs: 100 }]);
    t = run(t.state, withTimeout, abort(4));
    expect(t.effects).toEqual([{ type: 'cancel-timeout', id: 4 }]);
    expect(t.state.sightings.size).toBe(0);
    t = run(t.state, withTimeout, queued(1, 4, 1, 20, 10), priority(1, 4, 21, 10), deadline(4, 500));
    expect(t.effects).toEqual([]);
  });

  it('drops the recording of the unaligned checkpoint it aborts: later arrivals are not recorded', () => {
    let t = run(initialBarrierState(2), aligned, priority(0, 3, 5, 5));
    expect(t.state.recording).toEqual({ id: 3, pending: new Set([1]) });
    t = run(t.state, aligned, abort(3), arrival(1, 0));
    expect(t.effects).toEqual([{ type: 'recording-dropped', id: 3 }]);
    expect(t.state.recording).toBeUndefined();
  });
});

describe('alignment timeout (aligned mode)', () => {
  it('is armed once per checkpoint, counted from its trigger, when its first barrier is queued', () => {
    const t = run(initialBarrierState(2), withTimeout, queued(0, 1, 0, 30, 10), queued(1, 1, 1, 40, 10));
    expect(t.effects).toEqual([{ type: 'arm-timeout', id: 1, delayMs: 80 }]);
    expect(t.state.sightings.get(1)).toEqual({ at: 10, queued: new Map([[0, 0], [1, 1]]), armed: true });
  });

  it('a barrier queued past its deadline asks for the deadline at once (delay ≤ 0)', () => {
    const t = run(initialBarrierState(1), withTimeout, queued(0, 1, 0, 500, 10));
    expect(t.effects).toEqual([{ type: 'arm-timeout', id: 1, delayMs: -390 }]);
  });

  it('is never armed without a timeout or in unaligned mode', () => {
    expect(run(initialBarrierState(1), aligned, queued(0, 1, 0, 500, 10)).effects).toEqual([]);
    expect(run(initialBarrierState(1), { mode: 'unaligned', alignedTimeoutMs: 10 }, queued(0, 1, 0, 500, 10)).effects).toEqual([]);
  });

  it('a barrier processed (not queued first, e.g. recovered input) arms it while its alignment waits', () => {
    const t = run(initialBarrierState(2), withTimeout, barrier(0, 1, 20, 10));
    expect(t.effects).toEqual([{ type: 'block', channel: 0 }, { type: 'arm-timeout', id: 1, delayMs: 90 }]);
  });

  it('past the deadline with the barrier still queued: unaligned, cut at the barrier, the queued barrier later ignored', () => {
    let t = run(initialBarrierState(1), withTimeout, queued(0, 5, 1, 10, 0));
    t = run(t.state, withTimeout, deadline(5, 100));
    expect(t.effects).toEqual([
      { type: 'cancel-timeout', id: 5 },
      { type: 'take-unaligned', id: 5, alignmentMs: 0, barrierAt: 0, cutoffs: [1] },
      // A single input whose barrier is queued owes nothing more: complete at once.
      { type: 'recording-complete', id: 5 },
    ]);
    expect(t.state.lastUnaligned).toBe(5);
    t = run(t.state, withTimeout, barrier(0, 5, 120, 0));
    expect(t.effects).toEqual([]);
  });

  it('past the deadline mid-alignment: nothing of the channels that delivered, the rest recorded until their barrier, then all released', () => {
    let t = run(initialBarrierState(3), withTimeout, barrier(0, 5, 10, 0), queued(1, 5, 7, 20, 0));
    expect(t.effects).toEqual([{ type: 'block', channel: 0 }, { type: 'arm-timeout', id: 5, delayMs: 90 }]);
    t = run(t.state, withTimeout, deadline(5, 100));
    expect(t.effects).toEqual([
      { type: 'cancel-timeout', id: 5 },
      { type: 'take-unaligned', id: 5, alignmentMs: 90, barrierAt: 0, cutoffs: [NOTHING, 7, EVERYTHING] },
      { type: 'release-all' },
    ]);
    expect(t.state.aligning).toBeUndefined();
    expect(t.state.recording).toEqual({ id: 5, pending: new Set([2]) });
    // Only channel 2 still owes barrier 5: its arrivals are recorded until it delivers it.
    t = run(t.state, withTimeout, arrival(0, 8), arrival(1, 9), arrival(2, 10), queued(2, 5, 11, 110, 0), arrival(2, 12));
    expect(t.effects).toEqual([
      { type: 'record', id: 5, channel: 2, seq: 10 },
      { type: 'recording-complete', id: 5 },
    ]);
    expect(t.state.recording).toBeUndefined();
  });

  it('does nothing once the checkpoint was taken aligned, nor with nothing queued and no alignment', () => {
    let t = run(initialBarrierState(1), withTimeout, queued(0, 1, 0, 10, 0), barrier(0, 1, 20, 0));
    expect(t.effects.map((e) => e.type)).toEqual(['arm-timeout', 'block', 'cancel-timeout', 'take-aligned', 'release-all']);
    t = run(t.state, withTimeout, deadline(1, 200));
    expect(t.effects).toEqual([]);
    expect(run(initialBarrierState(1), withTimeout, deadline(9, 200)).effects).toEqual([]);
  });
});

describe('priority (unaligned) barriers', () => {
  it('take the checkpoint at once: everything queued is channel state, the other channels are recorded until their barrier', () => {
    let t = run(initialBarrierState(3), aligned, priority(1, 2, 50, 40));
    expect(t.effects).toEqual([{ type: 'take-unaligned', id: 2, alignmentMs: 0, barrierAt: 40, cutoffs: [EVERYTHING, EVERYTHING, EVERYTHING] }]);
    expect(t.state.recording).toEqual({ id: 2, pending: new Set([0, 2]) });
    t = run(t.state, aligned, arrival(1, 0), arrival(0, 1), priority(0, 2, 51, 40), arrival(0, 2), arrival(2, 3));
    expect(t.effects).toEqual([
      { type: 'record', id: 2, channel: 0, seq: 1 },
      { type: 'record', id: 2, channel: 2, seq: 3 },
    ]);
    // An aligned barrier 2 processed late (its producer sent it before switching) also completes its channel.
    t = run(t.state, aligned, barrier(2, 2, 60, 40));
    expect(t.effects).toEqual([{ type: 'recording-complete', id: 2 }]);
  });

  it('a channel whose aligned barrier n is queued gives only what precedes it and owes nothing more', () => {
    const t = run(initialBarrierState(2), withTimeout, queued(0, 6, 3, 10, 10), priority(1, 6, 12, 10));
    expect(t.effects).toEqual([
      { type: 'arm-timeout', id: 6, delayMs: 100 },
      { type: 'cancel-timeout', id: 6 },
      { type: 'take-unaligned', id: 6, alignmentMs: 0, barrierAt: 10, cutoffs: [3, EVERYTHING] },
      { type: 'recording-complete', id: 6 },
    ]);
  });

  it('an ended channel owes nothing; the end of the last owing channel completes the recording', () => {
    let t = run(initialBarrierState(3), aligned, ended(2, 0), priority(0, 1, 5, 5));
    expect(t.state.recording).toEqual({ id: 1, pending: new Set([1]) });
    t = run(t.state, aligned, ended(1, 6));
    expect(t.effects).toEqual([{ type: 'recording-complete', id: 1 }]);
  });

  it('a switch abandons an older alignment (releasing its channels), and is ignored if older than the alignment', () => {
    let t = run(initialBarrierState(2), aligned, barrier(0, 3, 0), priority(1, 4, 5, 5));
    expect(t.effects.slice(1)).toEqual([{ type: 'take-unaligned', id: 4, alignmentMs: 0, barrierAt: 5, cutoffs: [EVERYTHING, EVERYTHING] }, { type: 'release-all' }]);
    expect(t.state.recording).toEqual({ id: 4, pending: new Set([0]) });
    t = run(initialBarrierState(2), aligned, barrier(0, 5, 0), priority(1, 4, 5, 5));
    expect(t.effects).toEqual([{ type: 'block', channel: 0 }]);
    expect(t.state.aligning?.id).toBe(5);
  });

  it('of the checkpoint being aligned: it is taken unaligned with the time aligned so far', () => {
    const t = run(initialBarrierState(3), aligned, barrier(0, 7, 100, 90), priority(1, 7, 130, 90));
    expect(t.effects.slice(1)).toEqual([{ type: 'take-unaligned', id: 7, alignmentMs: 30, barrierAt: 90, cutoffs: [NOTHING, EVERYTHING, EVERYTHING] }, { type: 'release-all' }]);
    expect(t.state.recording).toEqual({ id: 7, pending: new Set([2]) });
  });
});

describe('arrivals', () => {
  it('change nothing while no checkpoint is recorded', () => {
    const state = initialBarrierState(2);
    const t = stepBarriers(state, arrival(0, 0), aligned);
    expect(t.state).toBe(state);
    expect(t.effects).toEqual([]);
  });
});

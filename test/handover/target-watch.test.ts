// The target-checkpoint watcher's pure decisions: ready, moves past failed targets, Flink-style deletions, timeout, stale targets.
import { describe, expect, it } from 'vitest';
import type { CheckpointStatus } from '../../src/checkpoint/types.ts';
import { StaleHandoverTargetError } from '../../src/handover/errors.ts';
import { checkTargetNotStale, initialTargetWatch, newestCompletedOf, stepTargetWatch } from '../../src/handover/watcher/target-watch.ts';
import type { TargetWatchAction, TargetWatchState } from '../../src/handover/watcher/types.ts';

const DEADLINE = 10_000;
const start = () => initialTargetWatch(117, DEADLINE);

/** Statuses as `listCheckpoints` returns them, from `{ 117: 'FAILED', ... }`. */
function listing(statuses: Record<number, CheckpointStatus>) {
  return Object.entries(statuses).map(([id, status]) => ({ id: Number(id), status }));
}

function observe(state: TargetWatchState, at: number, statuses: Record<number, CheckpointStatus>) {
  return stepTargetWatch(state, { type: 'observed', at, statuses: listing(statuses) });
}

const types = (actions: readonly TargetWatchAction[]) => actions.map((a) => a.type);

describe('stepTargetWatch', () => {
  it('waits while the target is in progress and is ready once it is COMPLETED', () => {
    const first = observe(start(), 100, { 115: 'COMPLETED', 116: 'COMPLETED', 117: 'IN_PROGRESS' });
    expect(first.state.phase).toBe('waiting');
    expect(first.actions).toEqual([{ type: 'target-status', checkpointId: 117, status: 'IN_PROGRESS', at: 100 }]);

    const same = observe(first.state, 300, { 116: 'COMPLETED', 117: 'IN_PROGRESS' });
    expect(same.actions).toEqual([]);

    const done = observe(same.state, 500, { 116: 'COMPLETED', 117: 'COMPLETED' });
    expect(done.state).toMatchObject({ phase: 'ready', target: 117, originalTarget: 117, moves: [], targetStatus: 'COMPLETED' });
    expect(done.actions).toEqual([{ type: 'ready', checkpointId: 117, at: 500 }]);
  });

  it('reports a status change of the target once per change, an absent target as UNKNOWN', () => {
    const a = observe(start(), 100, { 116: 'COMPLETED' });
    expect(a.actions).toEqual([{ type: 'target-status', checkpointId: 117, status: 'UNKNOWN', at: 100 }]);
    const b = observe(a.state, 200, { 116: 'COMPLETED', 117: 'IN_PROGRESS' });
    expect(b.actions).toEqual([{ type: 'target-status', checkpointId: 117, status: 'IN_PROGRESS', at: 200 }]);
  });

  it('accepts the statuses as a Map too', () => {
    const step = stepTargetWatch(start(), { type: 'observed', at: 1, statuses: new Map<number, CheckpointStatus>([[117, 'COMPLETED']]) });
    expect(step.state.phase).toBe('ready');
  });

  it('moves past a FAILED target to the next checkpoint and records the move', () => {
    const step = observe(start(), 200, { 116: 'COMPLETED', 117: 'FAILED', 118: 'IN_PROGRESS' });
    const move = { from: 117, to: 118, at: 200, reason: 'chk-117 FAILED' };
    expect(step.state).toMatchObject({ phase: 'waiting', target: 118, originalTarget: 117, moves: [move], targetStatus: 'IN_PROGRESS' });
    expect(step.actions).toEqual([
      { type: 'target-moved', move },
      { type: 'target-status', checkpointId: 118, status: 'IN_PROGRESS', at: 200 },
    ]);

    const done = observe(step.state, 400, { 117: 'FAILED', 118: 'COMPLETED' });
    expect(done.state).toMatchObject({ phase: 'ready', target: 118, moves: [move] });
    expect(done.actions).toEqual([{ type: 'ready', checkpointId: 118, at: 400 }]);
  });

  it('moves past two FAILED checkpoints in one observation', () => {
    const step = observe(start(), 300, { 117: 'FAILED', 118: 'FAILED', 119: 'COMPLETED' });
    expect(step.state).toMatchObject({ phase: 'ready', target: 119 });
    expect(step.state.moves).toEqual([
      { from: 117, to: 118, at: 300, reason: 'chk-117 FAILED' },
      { from: 118, to: 119, at: 300, reason: 'chk-118 FAILED' },
    ]);
    expect(types(step.actions)).toEqual(['target-moved', 'target-moved', 'ready']);
  });

  it('keeps moves from earlier observations and moves again when the new target fails', () => {
    const a = observe(start(), 100, { 117: 'FAILED' });
    expect(a.state).toMatchObject({ target: 118, targetStatus: 'UNKNOWN' });
    const b = observe(a.state, 200, { 117: 'FAILED', 118: 'FAILED', 119: 'IN_PROGRESS' });
    expect(b.state.target).toBe(119);
    expect(b.state.moves.map((m) => [m.from, m.to, m.at])).toEqual([
      [117, 118, 100],
      [118, 119, 200],
    ]);
  });

  it('treats a target that is not COMPLETED as failed once a newer checkpoint COMPLETED (Flink deletes failed checkpoints)', () => {
    // A Flink-format directory: chk-117 was in progress, then deleted on failure, and chk-118 completed.
    const a = observe(start(), 100, { 116: 'COMPLETED', 117: 'IN_PROGRESS' });
    expect(a.state.phase).toBe('waiting');
    const b = observe(a.state, 200, { 116: 'COMPLETED', 118: 'COMPLETED' });
    expect(b.state).toMatchObject({ phase: 'ready', target: 118 });
    expect(b.state.moves).toEqual([{ from: 117, to: 118, at: 200, reason: 'chk-117 UNKNOWN but newer chk-118 COMPLETED' }]);
  });

  it('moves through several checkpoints up to a newer COMPLETED one, even past in-progress ones', () => {
    const step = observe(start(), 100, { 117: 'IN_PROGRESS', 119: 'COMPLETED', 120: 'IN_PROGRESS' });
    expect(step.state).toMatchObject({ phase: 'ready', target: 119 });
    expect(step.state.moves.map((m) => m.reason)).toEqual(['chk-117 IN_PROGRESS but newer chk-119 COMPLETED', 'chk-118 UNKNOWN but newer chk-119 COMPLETED']);
  });

  it('does not move while only older checkpoints are COMPLETED', () => {
    const step = observe(start(), 100, { 115: 'COMPLETED', 116: 'FAILED', 118: 'IN_PROGRESS' });
    expect(step.state).toMatchObject({ phase: 'waiting', target: 117, moves: [] });
  });

  it('times out on a tick or an observation at or after the deadline while waiting', () => {
    const waiting = observe(start(), 100, { 117: 'IN_PROGRESS' }).state;
    expect(stepTargetWatch(waiting, { type: 'tick', at: DEADLINE - 1 })).toEqual({ state: waiting, actions: [] });

    const tick = stepTargetWatch(waiting, { type: 'tick', at: DEADLINE });
    expect(tick.state).toMatchObject({ phase: 'timed-out', target: 117 });
    expect(tick.actions).toEqual([{ type: 'timed-out', checkpointId: 117, status: 'IN_PROGRESS', at: DEADLINE }]);

    const late = observe(waiting, DEADLINE + 5, { 117: 'IN_PROGRESS' });
    expect(late.state.phase).toBe('timed-out');
    expect(types(late.actions)).toEqual(['timed-out']);
  });

  it('counts an observation at the deadline that shows the target COMPLETED as ready', () => {
    const step = observe(start(), DEADLINE, { 117: 'COMPLETED' });
    expect(step.state.phase).toBe('ready');
    expect(types(step.actions)).toEqual(['ready']);
  });

  it('times out on the moved target, and a timeout before any observation names no status', () => {
    const moved = observe(start(), DEADLINE, { 117: 'FAILED', 118: 'IN_PROGRESS' });
    expect(moved.state).toMatchObject({ phase: 'timed-out', target: 118 });
    expect(moved.actions.at(-1)).toEqual({ type: 'timed-out', checkpointId: 118, status: 'IN_PROGRESS', at: DEADLINE });

    const blind = stepTargetWatch(start(), { type: 'tick', at: DEADLINE });
    expect(blind.actions).toEqual([{ type: 'timed-out', checkpointId: 117, status: undefined, at: DEADLINE }]);
  });

  it('ignores every event once ready or timed out', () => {
    const ready = observe(start(), 100, { 117: 'COMPLETED' }).state;
    expect(observe(ready, 200, { 117: 'FAILED', 118: 'COMPLETED' })).toEqual({ state: ready, actions: [] });
    expect(stepTargetWatch(ready, { type: 'tick', at: DEADLINE * 2 })).toEqual({ state: ready, actions: [] });

    const timedOut = stepTargetWatch(start(), { type: 'tick', at: DEADLINE }).state;
    expect(observe(timedOut, DEADLINE + 1, { 117: 'COMPLETED' })).toEqual({ state: timedOut, actions: [] });
  });

  it('rejects a target that is not a checkpoint id', () => {
    expect(() => initialTargetWatch(-1, DEADLINE)).toThrow(RangeError);
    expect(() => initialTargetWatch(1.5, DEADLINE)).toThrow(/non-negative integer/);
  });
});

describe('checkTargetNotStale', () => {
  it('throws a typed error naming both checkpoints when the target is older than the newest completed', () => {
    let caught: unknown;
    try {
      checkTargetNotStale(117, 120);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StaleHandoverTargetError);
    expect(caught).toMatchObject({ name: 'StaleHandoverTargetError', targetCheckpoint: 117, newestCompleted: 120 });
    expect((caught as Error).message).toMatch(/chk-117.*chk-120/);
  });

  it('accepts a target equal to or after the newest completed, or when nothing completed', () => {
    expect(() => checkTargetNotStale(117, 117)).not.toThrow();
    expect(() => checkTargetNotStale(117, 116)).not.toThrow();
    expect(() => checkTargetNotStale(117, undefined)).not.toThrow();
  });

  it('finds the newest completed checkpoint in a listing', () => {
    expect(newestCompletedOf(listing({ 3: 'COMPLETED', 4: 'FAILED', 5: 'COMPLETED', 6: 'IN_PROGRESS' }))).toBe(5);
    expect(newestCompletedOf(listing({ 4: 'FAILED' }))).toBeUndefined();
  });
});

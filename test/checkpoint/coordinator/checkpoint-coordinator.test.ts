// The checkpoint coordinator's transitions: timing, acks, completion, aborts, retention, stop.
import { describe, expect, it } from 'vitest';
import { initialCoordinatorState, stepCoordinator } from '../../../src/checkpoint/coordinator/checkpoint-coordinator.ts';
import type { CheckpointSettings, CoordinatorEvent, CoordinatorState, Transition } from '../../../src/checkpoint/coordinator/types.ts';

const settings: CheckpointSettings = { intervalMs: 100, timeoutMs: 1_000, minPauseMs: 20, tolerableFailures: 1, retain: 2 };
const tasks = ['0/0', '0/1', '1/0'];

function run(state: CoordinatorState<string>, ...events: CoordinatorEvent<string>[]): Transition<string> {
  let current: Transition<string> = { state, effects: [] };
  const effects = [];
  for (const event of events) {
    current = stepCoordinator(current.state, event, settings, tasks);
    effects.push(...current.effects);
  }
  return { state: current.state, effects };
}

const acks = (id: number, now: number) => tasks.map((task) => ({ type: 'ack' as const, id, task, snapshot: `${task}@${id}`, now }));

describe('checkpoint coordinator', () => {
  it('triggers on the interval, completes once every task acked and the metadata is written', () => {
    const start = initialCoordinatorState<string>(1, 0);
    const t = run(start, { type: 'tick', now: 100 });
    expect(t.effects).toEqual([{ type: 'trigger', id: 1, timestamp: 100, stop: undefined }]);
    const partial = run(t.state, ...acks(1, 150).slice(0, 2));
    expect(partial.effects).toEqual([]);
    const all = run(partial.state, acks(1, 160)[2]);
    expect(all.effects).toEqual([{ type: 'write-metadata', id: 1, triggeredAt: 100, acks: tasks.map((task) => ({ task, snapshot: `${task}@1` })) }]);
    const done = run(all.state, { type: 'metadata-written', id: 1, now: 170 });
    expect(done.effects).toEqual([{ type: 'notify-complete', id: 1 }]);
    expect(done.state.lastCompleted).toBe(1);
  });

  it('never runs two checkpoints at once and respects the minimum pause', () => {
    let t = run(initialCoordinatorState<string>(1, 0), { type: 'tick', now: 100 }, { type: 'tick', now: 250 });
    expect(t.effects.filter((e) => e.type === 'trigger')).toHaveLength(1);
    t = run(t.state, ...acks(1, 260), { type: 'metadata-written', id: 1, now: 290 }, { type: 'tick', now: 300 });
    expect(t.effects.some((e) => e.type === 'trigger')).toBe(false);
    t = run(t.state, { type: 'tick', now: 310 });
    expect(t.effects).toEqual([{ type: 'trigger', id: 2, timestamp: 310, stop: undefined }]);
  });

  it('takes a checkpoint on demand at once, or right after the running one, whatever the interval and pause', () => {
    // Nothing runs: triggered in the step of the request, long before the interval.
    let t = run(initialCoordinatorState<string>(1, 0), { type: 'request', now: 5 });
    expect(t.effects).toEqual([{ type: 'trigger', id: 1, timestamp: 5, stop: undefined }]);
    expect(t.state.requested).toBe(false);
    // Asked while checkpoint 1 runs: nothing now, checkpoint 2 on the first tick after 1 completed (no minimum pause).
    t = run(t.state, { type: 'request', now: 10 });
    expect(t.effects).toEqual([]);
    t = run(t.state, ...acks(1, 11), { type: 'metadata-written', id: 1, now: 12 }, { type: 'tick', now: 13 });
    expect(t.effects.filter((e) => e.type === 'trigger')).toEqual([{ type: 'trigger', id: 2, timestamp: 13, stop: undefined }]);
    // Answered once: the next one waits for the interval again.
    t = run(t.state, ...acks(2, 14), { type: 'metadata-written', id: 2, now: 15 }, { type: 'tick', now: 50 });
    expect(t.effects.some((e) => e.type === 'trigger')).toBe(false);
  });

  it('with an infinite interval takes checkpoints on request only, none at the start', () => {
    const onRequest = { ...settings, intervalMs: Number.POSITIVE_INFINITY };
    let t = stepCoordinator(initialCoordinatorState<string>(1, 0), { type: 'tick', now: 0 }, onRequest, tasks);
    expect(t.effects).toEqual([]);
    t = stepCoordinator(t.state, { type: 'request', now: 1 }, onRequest, tasks);
    expect(t.effects).toEqual([{ type: 'trigger', id: 1, timestamp: 1, stop: undefined }]);
  });

  it('ignores duplicate, unknown and late acks', () => {
    let t = run(initialCoordinatorState<string>(1, 0), { type: 'tick', now: 100 });
    t = run(t.state, acks(1, 110)[0], acks(1, 111)[0], { type: 'ack', id: 7, task: '0/1', snapshot: 'x', now: 112 });
    expect(t.state.pending?.awaiting.size).toBe(2);
    t = run(t.state, { type: 'tick', now: 1_200 });
    expect(t.effects).toEqual([{ type: 'abort', id: 1, reason: 'timed out after 1000 ms' }]);
    t = run(t.state, ...acks(1, 1_300));
    expect(t.effects).toEqual([]);
  });

  it('fails the job after more consecutive failures than tolerated, and a success resets the count', () => {
    let t = run(initialCoordinatorState<string>(1, 0), { type: 'tick', now: 100 }, { type: 'decline', id: 1, task: '0/0', reason: 'disk full', now: 110 });
    expect(t.effects.at(-1)).toEqual({ type: 'abort', id: 1, reason: 'declined by 0/0: disk full' });
    t = run(t.state, { type: 'tick', now: 200 }, ...acks(2, 210), { type: 'metadata-written', id: 2, now: 220 });
    expect(t.state.consecutiveFailures).toBe(0);
    t = run(t.state, { type: 'tick', now: 300 }, { type: 'metadata-failed', id: 3, reason: 'S3 500', now: 310 });
    t = run(t.state, { type: 'tick', now: 400 }, { type: 'decline', id: 4, task: '1/0', reason: 'x', now: 410 });
    expect(t.effects.map((e) => e.type)).toEqual(['trigger', 'abort', 'fail-job']);
    expect(run(t.state, { type: 'tick', now: 10_000 }).effects).toEqual([]);
  });

  it('discards checkpoints beyond the retained number, oldest first', () => {
    let t: Transition<string> = { state: initialCoordinatorState<string>(1, 0), effects: [] };
    const discarded: number[] = [];
    for (let id = 1; id <= 4; id++) {
      t = run(t.state, { type: 'tick', now: id * 100 }, ...acks(id, id * 100 + 10), { type: 'metadata-written', id, now: id * 100 + 20 });
      for (const e of t.effects) if (e.type === 'discard') discarded.push(...e.ids);
    }
    expect(discarded).toEqual([1, 2]);
    expect(t.state.completed).toEqual([3, 4]);
  });

  it('stops after checkpoint n, moving to n+1 when n fails', () => {
    let t = run(initialCoordinatorState<string>(5, 0, 6), { type: 'tick', now: 100 });
    expect(t.effects).toEqual([{ type: 'trigger', id: 5, timestamp: 100, stop: undefined }]);
    t = run(t.state, ...acks(5, 110), { type: 'metadata-written', id: 5, now: 120 }, { type: 'tick', now: 200 });
    expect(t.effects.at(-1)).toEqual({ type: 'trigger', id: 6, timestamp: 200, stop: 'after' });
    t = run(t.state, { type: 'decline', id: 6, task: '0/0', reason: 'x', now: 210 }, { type: 'tick', now: 300 });
    expect(t.effects.at(-1)).toEqual({ type: 'trigger', id: 7, timestamp: 300, stop: 'after' });
    t = run(t.state, ...acks(7, 310), { type: 'metadata-written', id: 7, now: 320 });
    expect(t.effects).toContainEqual({ type: 'job-stopping', id: 7, mode: 'after' });
    expect(run(t.state, { type: 'tick', now: 1_000 }).effects).toEqual([]);
  });

  it('takes a stop-with-checkpoint at once, or right after the running checkpoint', () => {
    const idle = run(initialCoordinatorState<string>(1, 0), { type: 'stop', mode: 'suspend', now: 5 });
    expect(idle.effects).toEqual([{ type: 'trigger', id: 1, timestamp: 5, stop: 'suspend' }]);
    let busy = run(initialCoordinatorState<string>(1, 0), { type: 'tick', now: 100 }, { type: 'stop', mode: 'terminate', now: 101 });
    expect(busy.effects.filter((e) => e.type === 'trigger')).toHaveLength(1);
    busy = run(busy.state, ...acks(1, 110), { type: 'metadata-written', id: 1, now: 111 }, { type: 'tick', now: 112 });
    expect(busy.effects.at(-1)).toEqual({ type: 'trigger', id: 2, timestamp: 112, stop: 'terminate' });
    busy = run(busy.state, ...acks(2, 120), { type: 'metadata-written', id: 2, now: 121 });
    expect(busy.effects).toContainEqual({ type: 'job-stopping', id: 2, mode: 'terminate' });
  });

  it('a stop-after request from outside ends the job right after that checkpoint; a late one is rejected, an earlier one wins', () => {
    let t = run(initialCoordinatorState<string>(1, 0), { type: 'stop-after', id: 3, now: 0 });
    expect(t.state.stopAfter).toBe(3);
    t = run(t.state, { type: 'stop-after', id: 2, now: 1 });
    expect(t.state.stopAfter).toBe(2);
    const later = run(t.state, { type: 'stop-after', id: 5, now: 2 });
    expect(later.effects).toEqual([{ type: 'stop-after-rejected', id: 5, reason: 'the job already stops after checkpoint 2' }]);
    expect(later.state.stopAfter).toBe(2);
    t = run(t.state, { type: 'tick', now: 100 }, ...acks(1, 110), { type: 'metadata-written', id: 1, now: 120 }, { type: 'tick', now: 200 });
    expect(t.effects.at(-1)).toEqual({ type: 'trigger', id: 2, timestamp: 200, stop: 'after' });
    const tooLate = run(t.state, { type: 'stop-after', id: 1, now: 210 });
    expect(tooLate.effects).toEqual([{ type: 'stop-after-rejected', id: 1, reason: 'checkpoint 1 was already triggered (next is 3): the job cannot stop exactly after it' }]);
  });

  it('a withdrawn stop request lets the job go on unless its barrier already went out', () => {
    let t = run(initialCoordinatorState<string>(1, 0), { type: 'stop-after', id: 3, now: 0 });
    t = run(t.state, { type: 'stop-after-withdrawn', id: 3, fallback: undefined, now: 1 });
    expect(t.state.stopAfter).toBeUndefined();
    t = run(t.state, { type: 'stop-after', id: 1, now: 2 }, { type: 'tick', now: 100 });
    expect(t.effects.at(-1)).toEqual({ type: 'trigger', id: 1, timestamp: 100, stop: 'after' });
    const late = run(t.state, { type: 'stop-after-withdrawn', id: 1, fallback: undefined, now: 110 });
    expect(late.state.stopAfter).toBe(1);
    const other = run(initialCoordinatorState<string>(1, 0, 9), { type: 'stop-after', id: 4, now: 0 }, { type: 'stop-after-withdrawn', id: 4, fallback: 9, now: 1 });
    expect(other.state.stopAfter).toBe(9);
  });

  it('a stop-after at once (a waiting handover successor) triggers in the same step, ignoring the interval', () => {
    // Checkpoint 1 just completed at 120: the interval would wait until 200.
    let t = run(initialCoordinatorState<string>(1, 0), { type: 'tick', now: 100 }, ...acks(1, 110), { type: 'metadata-written', id: 1, now: 120 });
    t = run(t.state, { type: 'stop-after', id: 2, now: 130, atOnce: true });
    expect(t.effects).toEqual([{ type: 'trigger', id: 2, timestamp: 130, stop: 'after' }]);
    // Without `atOnce` the same request waits for the interval.
    const plain = run(initialCoordinatorState<string>(2, 120), { type: 'stop-after', id: 2, now: 130 });
    expect(plain.effects).toEqual([]);
  });

  it('a stop-after at once while a checkpoint runs goes right after that one completes, not an interval later', () => {
    let t = run(initialCoordinatorState<string>(1, 0), { type: 'tick', now: 100 }, { type: 'stop-after', id: 2, now: 105, atOnce: true });
    expect(t.effects.filter((e) => e.type === 'trigger')).toHaveLength(1);
    t = run(t.state, ...acks(1, 110), { type: 'metadata-written', id: 1, now: 120 });
    expect(t.effects.at(-1)).toEqual({ type: 'trigger', id: 2, timestamp: 120, stop: 'after' });
  });

  it('a failed stop-at-once is retried with the next id after the minimum pause', () => {
    let t = run(initialCoordinatorState<string>(1, 0), { type: 'stop-after', id: 1, now: 5, atOnce: true });
    t = run(t.state, { type: 'decline', id: 1, task: '0/0', reason: 'x', now: 10 }, { type: 'tick', now: 15 });
    expect(t.effects.filter((e) => e.type === 'trigger')).toHaveLength(0);
    t = run(t.state, { type: 'tick', now: 30 });
    expect(t.effects).toEqual([{ type: 'trigger', id: 2, timestamp: 30, stop: 'after' }]);
  });

  it('resumes after a stop-after checkpoint (a handover rolled back): numbering goes on, the next one an interval later', () => {
    let t = run(initialCoordinatorState<string>(1, 0), { type: 'stop-after', id: 1, now: 5, atOnce: true }, ...acks(1, 10), { type: 'metadata-written', id: 1, now: 20 });
    expect(t.effects).toContainEqual({ type: 'job-stopping', id: 1, mode: 'after' });
    expect(t.state).toMatchObject({ halted: true, stoppedAfter: 1 });
    t = run(t.state, { type: 'resume', now: 50 }, { type: 'tick', now: 149 });
    expect(t.state).toMatchObject({ halted: false, stopAfter: undefined, stopAtOnce: false });
    expect(t.effects).toEqual([]);
    t = run(t.state, { type: 'tick', now: 150 });
    expect(t.effects).toEqual([{ type: 'trigger', id: 2, timestamp: 150, stop: undefined }]);
  });

  it('only a stop-after halt can resume: not a suspend, a failed job or a running one', () => {
    const suspended = run(initialCoordinatorState<string>(1, 0), { type: 'stop', mode: 'suspend', now: 5 }, ...acks(1, 10), { type: 'metadata-written', id: 1, now: 20 });
    expect(run(suspended.state, { type: 'resume', now: 30 }).state).toBe(suspended.state);
    const running = initialCoordinatorState<string>(1, 0);
    expect(run(running, { type: 'resume', now: 30 }).state).toBe(running);
  });
});

describe('checkpoint coordinator at the end of bounded input (final checkpoint)', () => {
  const triggers = (t: Transition<string>) => t.effects.filter((e) => e.type === 'trigger');
  const afterMetadata = (t: Transition<string>) => t.effects.filter((e) => e.type !== 'write-metadata');

  it('triggers the final checkpoint at once, not on the interval nor after the minimum pause, and finishes the job when it completes', () => {
    let t = run(initialCoordinatorState<string>(1, 0), { type: 'tick', now: 100 }, ...acks(1, 110), { type: 'metadata-written', id: 1, now: 120 });
    // 5 ms after the last checkpoint ended: inside both the interval (100) and the minimum pause (20).
    t = run(t.state, { type: 'end-of-input', now: 125 });
    expect(t.effects).toEqual([{ type: 'trigger', id: 2, timestamp: 125, stop: undefined, final: true }]);
    t = run(t.state, ...acks(2, 130));
    expect(t.effects).toEqual([{ type: 'write-metadata', id: 2, triggeredAt: 125, acks: tasks.map((task) => ({ task, snapshot: `${task}@2` })), final: true }]);
    t = run(t.state, { type: 'metadata-written', id: 2, now: 140 });
    expect(t.effects).toEqual([{ type: 'notify-complete', id: 2, final: true }]);
    expect(t.state.halted).toBe(true);
    expect(run(t.state, { type: 'tick', now: 10_000 }, { type: 'end-of-input', now: 10_001 }).effects).toEqual([]);
  });

  it('a checkpoint running when the input ends is not final: its completion is followed at once by the final one', () => {
    let t = run(initialCoordinatorState<string>(1, 0), { type: 'tick', now: 100 }, { type: 'end-of-input', now: 105 });
    expect(triggers(t)).toEqual([{ type: 'trigger', id: 1, timestamp: 100, stop: undefined }]);
    t = run(t.state, ...acks(1, 110), { type: 'metadata-written', id: 1, now: 120 });
    expect(afterMetadata(t)).toEqual([
      { type: 'notify-complete', id: 1 },
      { type: 'trigger', id: 2, timestamp: 120, stop: undefined, final: true },
    ]);
    expect(t.state.halted).toBe(false);
  });

  it('a failed final checkpoint is retried after the minimum pause and counts against the tolerable failures', () => {
    let t = run(initialCoordinatorState<string>(1, 0), { type: 'end-of-input', now: 0 });
    expect(triggers(t)).toEqual([{ type: 'trigger', id: 1, timestamp: 0, stop: undefined, final: true }]);
    t = run(t.state, ...acks(1, 5), { type: 'metadata-failed', id: 1, reason: 'S3 503', now: 10 });
    expect(afterMetadata(t)).toEqual([{ type: 'abort', id: 1, reason: 'metadata write failed: S3 503' }]);
    expect(t.state.halted).toBe(false);
    expect(triggers(run(t.state, { type: 'tick', now: 15 }))).toEqual([]);
    t = run(t.state, { type: 'tick', now: 30 });
    expect(triggers(t)).toEqual([{ type: 'trigger', id: 2, timestamp: 30, stop: undefined, final: true }]);
    // tolerableFailures is 1: a second failure in a row fails the job instead of finishing it.
    t = run(t.state, { type: 'decline', id: 2, task: '1/0', reason: 'upload failed', now: 40 });
    expect(t.effects.map((e) => e.type)).toEqual(['abort', 'fail-job']);
    expect(t.effects.some((e) => e.type === 'notify-complete')).toBe(false);
    expect(run(t.state, { type: 'tick', now: 1_000 }).effects).toEqual([]);
  });

  it('a timed-out final checkpoint is aborted and retried', () => {
    let t = run(initialCoordinatorState<string>(1, 0), { type: 'end-of-input', now: 0 }, acks(1, 5)[0]);
    t = run(t.state, { type: 'tick', now: 1_000 });
    expect(t.effects).toEqual([{ type: 'abort', id: 1, reason: 'timed out after 1000 ms' }]);
    t = run(t.state, { type: 'tick', now: 1_020 }, ...acks(2, 1_030), { type: 'metadata-written', id: 2, now: 1_040 });
    expect(t.effects.at(-1)).toEqual({ type: 'notify-complete', id: 2, final: true });
  });

  it('a stop requested before the input ended still ends the job as a stop, through the final checkpoint', () => {
    let t = run(initialCoordinatorState<string>(1, 0), { type: 'tick', now: 100 }, { type: 'stop', mode: 'suspend', now: 101 }, { type: 'end-of-input', now: 102 });
    t = run(t.state, ...acks(1, 110), { type: 'metadata-written', id: 1, now: 120 });
    expect(t.effects.at(-1)).toEqual({ type: 'trigger', id: 2, timestamp: 120, stop: 'suspend', final: true });
    t = run(t.state, ...acks(2, 130), { type: 'metadata-written', id: 2, now: 140 });
    expect(afterMetadata(t)).toEqual([
      { type: 'notify-complete', id: 2 },
      { type: 'job-stopping', id: 2, mode: 'suspend' },
    ]);
    expect(t.state.halted).toBe(true);
  });

  it('a final checkpoint that is also the stop-after one finishes the job: it ran to its end', () => {
    let t = run(initialCoordinatorState<string>(1, 0, 1), { type: 'end-of-input', now: 0 });
    expect(triggers(t)).toEqual([{ type: 'trigger', id: 1, timestamp: 0, stop: undefined, final: true }]);
    t = run(t.state, ...acks(1, 5), { type: 'metadata-written', id: 1, now: 10 });
    expect(afterMetadata(t)).toEqual([{ type: 'notify-complete', id: 1, final: true }]);
    expect(t.state.halted).toBe(true);
  });

  it('a failed final checkpoint is retried also past the checkpoint the job was to stop after', () => {
    let t = run(initialCoordinatorState<string>(1, 0, 1), { type: 'end-of-input', now: 0 }, { type: 'decline', id: 1, task: '0/0', reason: 'x', now: 5 });
    t = run(t.state, { type: 'tick', now: 100 });
    expect(triggers(t)).toEqual([{ type: 'trigger', id: 2, timestamp: 100, stop: undefined, final: true }]);
  });
});

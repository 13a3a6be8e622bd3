// Deployment B's side of the protocol: every transition, the failures included, in microseconds.
import { describe, expect, it } from 'vitest';
import { initialSuccessor, MAX_PASSED_OVER, type SuccessorEvent, type SuccessorState, stepHandover } from '../../../src/handover/protocol/index.ts';

const LEASE = 3_000;
const run = (state: SuccessorState, ...events: SuccessorEvent[]) => {
  let s = state;
  const effects: unknown[] = [];
  for (const e of events) {
    const step = stepHandover(s, e);
    s = step.state;
    effects.push(...step.effects);
  }
  return { state: s, effects };
};
const whenReady = () => initialSuccessor({ runId: 'run-b', target: 'when-ready', leaseMs: LEASE, at: 0 });
const announced = () => run(whenReady().state, { type: 'stage1-done', at: 100, applied: 3 }, { type: 'caught-up', at: 200, applied: 5 }).state;
const probation = () => run(announced(), { type: 'stop-checkpoint', at: 300, id: 6 }, { type: 'stage2-done', at: 350 }).state;

describe('successor: when-ready', () => {
  it('publishes nothing before it is ready', () => {
    const { state, effects } = whenReady();
    expect(state.phase).toBe('preparing');
    expect(effects).toEqual([]);
    expect(run(state, { type: 'stage1-done', at: 10, applied: 3 })).toEqual({ state: expect.objectContaining({ phase: 'following', applied: 3 }), effects: [] });
  });

  it('announces once caught up, with a lease', () => {
    const s = run(whenReady().state, { type: 'stage1-done', at: 100, applied: 3 });
    const { state, effects } = run(s.state, { type: 'caught-up', at: 200, applied: 5 });
    expect(state).toMatchObject({ phase: 'announced', applied: 5, announcedAfter: 5, leaseExpiresAt: 200 + LEASE });
    expect(effects).toEqual([{ type: 'publish-request', runId: 'run-b', leaseExpiresAt: 200 + LEASE }]);
  });

  it('does not announce before it applied one of A\'s checkpoints (nothing to follow yet)', () => {
    const s = run(whenReady().state, { type: 'stage1-done', at: 100, applied: undefined });
    const idle = run(s.state, { type: 'caught-up', at: 200, applied: undefined });
    expect(idle).toEqual({ state: expect.objectContaining({ phase: 'following', leaseExpiresAt: undefined }), effects: [] });
    const { state, effects } = run(idle.state, { type: 'caught-up', at: 300, applied: 1 });
    expect(state).toMatchObject({ phase: 'announced', announcedAfter: 1, leaseExpiresAt: 300 + LEASE });
    expect(effects).toEqual([{ type: 'publish-request', runId: 'run-b', leaseExpiresAt: 300 + LEASE }]);
  });

  it('times out while still following (A never completed a checkpoint): start-from-latest takes over without a request to withdraw', () => {
    const s = run(whenReady().state, { type: 'stage1-done', at: 100, applied: undefined }, { type: 'caught-up', at: 200, applied: undefined });
    const { state, effects } = run(s.state, { type: 'timed-out', at: 9_000, latest: undefined });
    expect(state).toMatchObject({ phase: 'taking-over', takeoverFrom: undefined });
    expect(effects).toEqual([{ type: 'stage2', checkpointId: undefined }]);
  });

  it('after announcing, passes over the checkpoints before the stop checkpoint (their chunks prefetched, not applied), and takes over at the stop checkpoint', () => {
    const passed = run(announced(), { type: 'checkpoint-seen', at: 250, id: 6, endsJob: false, newBase: false }, { type: 'checkpoint-seen', at: 260, id: 7, endsJob: false, newBase: false });
    expect(passed.state).toMatchObject({ phase: 'announced', applied: 5, passedOver: 2 });
    expect(passed.effects).toEqual([
      { type: 'prefetch', checkpointId: 6 },
      { type: 'prefetch', checkpointId: 7 },
    ]);
    const { state, effects } = run(passed.state, { type: 'checkpoint-seen', at: 300, id: 8, endsJob: true, newBase: false });
    expect(state).toMatchObject({ phase: 'taking-over', takeoverFrom: 8 });
    expect(effects).toEqual([{ type: 'stage2', checkpointId: 8 }]);
  });

  it(`applies the next checkpoint after ${MAX_PASSED_OVER} passed over in a row (a predecessor slow to answer), and counts again from there`, () => {
    let s = announced();
    for (let id = 6; id < 6 + MAX_PASSED_OVER; id++) s = run(s, { type: 'checkpoint-seen', at: 200 + id, id, endsJob: false, newBase: false }).state;
    expect(s).toMatchObject({ phase: 'announced', passedOver: MAX_PASSED_OVER, applied: 5 });
    const id = 6 + MAX_PASSED_OVER;
    const follow = run(s, { type: 'checkpoint-seen', at: 300, id, endsJob: false, newBase: false });
    expect(follow.effects).toEqual([{ type: 'follow', checkpointId: id }]);
    // Counted as applied from the moment B asks for it (stage 2 waits for the follow).
    expect(follow.state).toMatchObject({ phase: 'announced', applied: id, passedOver: 0, announcedAfter: 5 });
    const next = run(follow.state, { type: 'checkpoint-seen', at: 305, id: id + 1, endsJob: false, newBase: false });
    expect(next.effects).toEqual([{ type: 'prefetch', checkpointId: id + 1 }]);
    // The follow's report comes after B passed over the next one: the count after it stays.
    const applied = run(next.state, { type: 'caught-up', at: 310, applied: id });
    expect(applied.state).toMatchObject({ phase: 'announced', applied: id, passedOver: 1, announcedAfter: 5 });
  });

  it('applies a checkpoint with a new base at once (stage 2 would reload that range from the base inside the downtime)', () => {
    const passed = run(announced(), { type: 'checkpoint-seen', at: 250, id: 6, endsJob: false, newBase: false });
    const { state, effects } = run(passed.state, { type: 'checkpoint-seen', at: 260, id: 7, endsJob: false, newBase: true });
    expect(effects).toEqual([{ type: 'follow', checkpointId: 7 }]);
    expect(state).toMatchObject({ phase: 'announced', applied: 7, passedOver: 0 });
    expect(run(state, { type: 'caught-up', at: 270, applied: 7 }).state).toMatchObject({ applied: 7, passedOver: 0 });
  });

  it('a follow still running when the stop checkpoint comes: B takes over (stage 2 waits for the follow), and its late report changes nothing', () => {
    const following = run(announced(), { type: 'checkpoint-seen', at: 250, id: 6, endsJob: false, newBase: true });
    const stop = run(following.state, { type: 'checkpoint-seen', at: 260, id: 7, endsJob: true, newBase: false });
    expect(stop.state).toMatchObject({ phase: 'taking-over', takeoverFrom: 7 });
    expect(stop.effects).toEqual([{ type: 'stage2', checkpointId: 7 }]);
    const late = run(stop.state, { type: 'caught-up', at: 270, applied: 6 });
    expect(late).toEqual({ state: stop.state, effects: [] });
  });

  it('two follows asked for in a row: the first one\'s report does not move `applied` back', () => {
    const s = run(
      announced(),
      { type: 'checkpoint-seen', at: 250, id: 6, endsJob: false, newBase: true },
      { type: 'checkpoint-seen', at: 260, id: 7, endsJob: false, newBase: true },
      { type: 'caught-up', at: 270, applied: 6 },
    );
    expect(s.state).toMatchObject({ phase: 'announced', applied: 7, passedOver: 0 });
    expect(s.effects).toEqual([
      { type: 'follow', checkpointId: 6 },
      { type: 'follow', checkpointId: 7 },
    ]);
  });

  it('a checkpoint seen before announcing, at or before what B applied, or for a fixed target is a shell bug: abort', () => {
    const following = run(whenReady().state, { type: 'stage1-done', at: 100, applied: 3 }).state;
    expect(run(following, { type: 'checkpoint-seen', at: 150, id: 4, endsJob: false, newBase: false }).state.failure).toMatch(/event 'checkpoint-seen' in phase 'following'/);
    expect(run(announced(), { type: 'checkpoint-seen', at: 250, id: 5, endsJob: true, newBase: false }).state.phase).toBe('aborted');
    const fixed = run(initialSuccessor({ runId: 'run-b', target: 9, leaseMs: LEASE, at: 0 }).state, { type: 'stage1-done', at: 10, applied: 4 }).state;
    expect(run(fixed, { type: 'checkpoint-seen', at: 20, id: 5, endsJob: false, newBase: false }).state.phase).toBe('aborted');
  });

  it('still takes a caught-up (and then a stop checkpoint) after announcing', () => {
    const followed = run(announced(), { type: 'caught-up', at: 250, applied: 6 });
    expect(followed.state).toMatchObject({ phase: 'announced', applied: 6 });
    const { state, effects } = run(followed.state, { type: 'stop-checkpoint', at: 300, id: 7 });
    expect(state).toMatchObject({ phase: 'taking-over', takeoverFrom: 7 });
    expect(effects).toEqual([{ type: 'stage2', checkpointId: 7 }]);
  });

  it('ignores a stop checkpoint at or before what it had applied when it announced (an earlier run ended there)', () => {
    const { state, effects } = run(announced(), { type: 'stop-checkpoint', at: 300, id: 5 });
    expect(state.phase).toBe('announced');
    expect(effects).toEqual([]);
  });

  it('starts after stage 2, and is done (withdrawing its request) once its first checkpoint completes', () => {
    const taking = run(announced(), { type: 'stop-checkpoint', at: 300, id: 6 });
    const started = run(taking.state, { type: 'stage2-done', at: 350 });
    expect(started.state).toMatchObject({ phase: 'probation', startedAt: 350 });
    expect(started.effects).toEqual([{ type: 'start' }]);
    const done = run(started.state, { type: 'first-checkpoint', at: 600, id: 7 });
    expect(done.state.phase).toBe('done');
    expect(done.effects).toEqual([{ type: 'withdraw-request', reason: 'done' }]);
  });

  it('renews its lease once a third of it passed, in every phase with a request (probation too)', () => {
    const s = announced();
    expect(run(s, { type: 'tick', at: 200 + LEASE / 3 - 1 }).effects).toEqual([]);
    expect(run(s, { type: 'tick', at: 200 + LEASE / 3 }).effects).toEqual([{ type: 'renew-lease', leaseExpiresAt: 200 + LEASE / 3 + LEASE }]);
    const renewed = run(s, { type: 'lease-renewed', at: 1_300, leaseExpiresAt: 4_300 }).state;
    expect(renewed.leaseExpiresAt).toBe(4_300);
    const p = probation();
    expect(run(p, { type: 'tick', at: 1_300 }).effects).toEqual([{ type: 'renew-lease', leaseExpiresAt: 1_300 + LEASE }]);
  });

  it('gives up when its own lease ran out before it could renew (A may have resumed)', () => {
    const { state, effects } = run(probation(), { type: 'tick', at: 200 + LEASE });
    expect(state.phase).toBe('aborted');
    expect(state.failure).toMatch(/lease expired/);
    expect(effects).toEqual([{ type: 'withdraw-request', reason: 'aborted' }, { type: 'fail', reason: state.failure }]);
  });

  it('aborts when its request is lost (A resumed or another run replaced it)', () => {
    for (const s of [announced(), probation()]) {
      const { state, effects } = run(s, { type: 'lease-lost', at: 500, reason: 'the request is gone' });
      expect(state.phase).toBe('aborted');
      expect(effects.at(-1)).toEqual({ type: 'fail', reason: 'lost its stop request: the request is gone' });
    }
  });

  it('a failure before announcing withdraws nothing; after, it withdraws the request', () => {
    expect(run(whenReady().state, { type: 'failed', at: 5, reason: 'hook threw' }).effects).toEqual([{ type: 'fail', reason: 'hook threw' }]);
    expect(run(announced(), { type: 'failed', at: 5, reason: 'x' }).effects).toEqual([{ type: 'withdraw-request', reason: 'aborted' }, { type: 'fail', reason: 'x' }]);
  });

  it('events out of order abort loudly (a shell bug), and nothing moves after the end', () => {
    const bad = run(whenReady().state, { type: 'stage2-done', at: 5 });
    expect(bad.state.phase).toBe('aborted');
    expect(bad.state.failure).toMatch(/protocol error: event 'stage2-done' in phase 'preparing'/);
    expect(run(whenReady().state, { type: 'caught-up', at: 5, applied: 1 }).state.phase).toBe('aborted');
    expect(run(whenReady().state, { type: 'first-checkpoint', at: 5, id: 1 }).state.phase).toBe('aborted');
    expect(run(announced(), { type: 'stage1-done', at: 5, applied: 1 }).state.phase).toBe('aborted');
    expect(run(bad.state, { type: 'failed', at: 9, reason: 'again' }).effects).toEqual([]);
    const done = run(probation(), { type: 'first-checkpoint', at: 9, id: 7 }).state;
    expect(run(done, { type: 'failed', at: 10, reason: 'late' })).toEqual({ state: done, effects: [] });
  });
});

describe('successor: the predecessor ended before B was ready', () => {
  it('takes over from the checkpoint that ended it, publishing nothing (nobody runs to ask)', () => {
    const following = run(whenReady().state, { type: 'stage1-done', at: 10, applied: 9 }).state;
    const { state, effects } = run(following, { type: 'predecessor-ended', at: 20, id: 9 });
    expect(state).toMatchObject({ phase: 'taking-over', takeoverFrom: 9, leaseExpiresAt: undefined });
    expect(effects).toEqual([{ type: 'stage2', checkpointId: 9 }]);
    expect(run(announced(), { type: 'predecessor-ended', at: 20, id: 9 }).state.phase).toBe('aborted');
  });
});

describe('successor: fixed target', () => {
  it('publishes its request (with the target and a lease) before anything runs', () => {
    const { state, effects } = initialSuccessor({ runId: 'run-b', target: 9, leaseMs: LEASE, at: 50 });
    expect(state).toMatchObject({ phase: 'preparing', leaseExpiresAt: 50 + LEASE });
    expect(effects).toEqual([{ type: 'publish-request', runId: 'run-b', leaseExpiresAt: 50 + LEASE, afterCheckpoint: 9 }]);
  });

  it('waits announced after stage 1 and takes over at the stop checkpoint the shell found', () => {
    const init = initialSuccessor({ runId: 'run-b', target: 9, leaseMs: LEASE, at: 0 }).state;
    const s = run(init, { type: 'stage1-done', at: 10, applied: 4 }, { type: 'caught-up', at: 20, applied: 8 });
    expect(s.state).toMatchObject({ phase: 'announced', applied: 8 });
    expect(s.effects).toEqual([]);
    expect(run(s.state, { type: 'stop-checkpoint', at: 30, id: 9 }).effects).toEqual([{ type: 'stage2', checkpointId: 9 }]);
  });
});

describe('successor: timeout', () => {
  it("start-from-latest after the timeout takes over from the newest completed checkpoint (announced only)", () => {
    const { state, effects } = run(announced(), { type: 'timed-out', at: 9_000, latest: 5 });
    expect(state).toMatchObject({ phase: 'taking-over', takeoverFrom: 5 });
    expect(effects).toEqual([{ type: 'stage2', checkpointId: 5 }]);
    expect(run(whenReady().state, { type: 'timed-out', at: 9_000, latest: 5 }).state.phase).toBe('aborted');
  });
});

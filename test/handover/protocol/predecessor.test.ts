// Deployment A's side of the protocol: leases, stop at once, standby, end and rollback, in microseconds.
import { describe, expect, it } from 'vitest';
import { initialPredecessor, type ObservedRequest, type PredecessorEvent, type PredecessorState, standbyNeedsListing, stepHandover } from '../../../src/handover/protocol/index.ts';

const run = (state: PredecessorState, ...events: PredecessorEvent[]) => {
  let s = state;
  const effects: unknown[] = [];
  for (const e of events) {
    const step = stepHandover(s, e);
    s = step.state;
    effects.push(...step.effects);
  }
  return { state: s, effects };
};
const B = { runId: 'run-b', leaseExpiresAt: 5_000 };
/** One look at the directory; `null`: no request object there. */
const seen = (at: number, request: ObservedRequest | null = B, successorCheckpoint?: number): PredecessorEvent => ({
  type: 'observed',
  at,
  request: request ?? undefined,
  ...(successorCheckpoint === undefined ? {} : { successorCheckpoint }),
});
const stopping = () => run(initialPredecessor(), seen(1_000), { type: 'stop-scheduled', at: 1_001, id: 8 }).state;
const standby = () => run(stopping(), { type: 'stop-completed', at: 1_200, id: 8 }).state;

describe('predecessor: requests', () => {
  it('no request: keeps running', () => {
    expect(run(initialPredecessor(), seen(1, null))).toEqual({ state: initialPredecessor(), effects: [] });
  });

  it('a when-ready request with a live lease: the stop checkpoint goes at once, naming the successor', () => {
    const { state, effects } = run(initialPredecessor(), seen(1_000));
    expect(state).toMatchObject({ phase: 'stopping', request: B });
    expect(effects).toEqual([{ type: 'stop-at-once', nextOwner: 'run-b' }]);
    expect(run(state, { type: 'stop-scheduled', at: 1_001, id: 8 }).state.stopAt).toBe(8);
  });

  it("a run's own request (a successor in probation keeps it up) is not obeyed by itself", () => {
    const self = initialPredecessor('run-b');
    expect(run(self, seen(1_000))).toEqual({ state: self, effects: [] });
    expect(run(self, seen(1_000, { runId: 'run-c', leaseExpiresAt: 5_000 })).effects).toEqual([{ type: 'stop-at-once', nextOwner: 'run-c' }]);
  });

  it("a successor's fixed target: stop after it, naming the successor", () => {
    expect(run(initialPredecessor(), seen(1_000, { ...B, afterCheckpoint: 12 })).effects).toEqual([{ type: 'stop-after', id: 12, nextOwner: 'run-b' }]);
  });

  it("an operator's request (no lease): stop after it, and end without standby", () => {
    const s = run(initialPredecessor(), seen(1_000, { afterCheckpoint: 4 }));
    expect(s.effects).toEqual([{ type: 'stop-after', id: 4 }]);
    const ended = run(s.state, { type: 'stop-completed', at: 2_000, id: 4 });
    expect(ended.state.phase).toBe('ended');
    expect(ended.effects).toEqual([{ type: 'end', successorCheckpoint: 4 }]);
  });

  it('an expired lease (a dead successor) is ignored, reported once', () => {
    const expired = { runId: 'dead-b', leaseExpiresAt: 900 };
    const first = run(initialPredecessor(), seen(1_000, expired));
    expect(first.state.phase).toBe('running');
    expect(first.effects).toEqual([
      { type: 'clear-request', runId: 'dead-b' },
      { type: 'request-ignored', reason: expect.stringMatching(/lease of run dead-b's request expired 100 ms ago/) },
    ]);
    // Still there (its removal failed, or it was written again): removed again, not reported again.
    expect(run(first.state, seen(1_250, expired)).effects).toEqual([{ type: 'clear-request', runId: 'dead-b' }]);
  });

  it('a request naming a run but no lease is ignored', () => {
    expect(run(initialPredecessor(), seen(1, { runId: 'b' })).effects).toEqual([{ type: 'clear-request', runId: 'b' }, { type: 'request-ignored', reason: expect.stringMatching(/has no lease/) }]);
  });
});

describe('predecessor: before the stop checkpoint completes', () => {
  it('a renewed lease keeps the stop', () => {
    const { state, effects } = run(stopping(), seen(4_000, { ...B, leaseExpiresAt: 9_000 }));
    expect(state).toMatchObject({ phase: 'stopping', request: { leaseExpiresAt: 9_000 } });
    expect(effects).toEqual([]);
  });

  it('a withdrawn request withdraws the stop', () => {
    const { state, effects } = run(stopping(), seen(1_100, null));
    expect(state.phase).toBe('running');
    expect(effects).toEqual([{ type: 'withdraw-stop', id: 8 }, { type: 'request-ignored', reason: 'withdrawn' }]);
  });

  it('an expired lease withdraws the stop, removes the leftover and never honours that run again', () => {
    const { state, effects } = run(stopping(), seen(5_000));
    expect(state).toMatchObject({ phase: 'running', revoked: ['run-b'] });
    expect(effects).toEqual([
      { type: 'withdraw-stop', id: 8 },
      { type: 'clear-request', runId: 'run-b' },
      { type: 'request-ignored', reason: expect.stringMatching(/expired/) },
    ]);
    // A late renewal of the same run (its write raced A's removal) does not stop A again: it is removed, so its author aborts.
    expect(run(state, seen(5_100, { ...B, leaseExpiresAt: 99_000 })).effects).toEqual([
      { type: 'clear-request', runId: 'run-b' },
      { type: 'request-ignored', reason: expect.stringMatching(/given up on earlier/) },
    ]);
  });

  it('a request replaced by another run withdraws the stop; the new one is honoured on the next look', () => {
    const other = { runId: 'run-c', leaseExpiresAt: 9_000 };
    const s = run(stopping(), seen(1_100, other));
    expect(s.state.phase).toBe('running');
    expect(run(s.state, seen(1_200, other)).effects).toEqual([{ type: 'stop-at-once', nextOwner: 'run-c' }]);
  });

  it('the stop checkpoint completing after the request was withdrawn (its barrier was out already): resume at once', () => {
    const s = run(stopping(), seen(1_100, null)).state;
    expect(run(s, { type: 'stop-completed', at: 1_200, id: 8 }).effects).toEqual([{ type: 'resume', reason: 'the stop request was withdrawn after its checkpoint was triggered (withdrawn)' }]);
    // The lease ran out while the stop checkpoint was still under way: the resume says so.
    const expired = run(stopping(), seen(5_000)).state;
    expect(run(expired, { type: 'stop-completed', at: 5_100, id: 8 }).effects).toEqual([{ type: 'resume', reason: expect.stringMatching(/withdrawn after its checkpoint was triggered \(the lease of run run-b's request expired 0 ms ago/) }]);
  });
});

describe('predecessor: standby', () => {
  it("the successor's stop checkpoint completing puts A on standby", () => {
    const { state, effects } = run(stopping(), { type: 'stop-completed', at: 1_200, id: 8 });
    expect(state).toMatchObject({ phase: 'standby', stopAt: 8, standbySince: 1_200 });
    expect(effects).toEqual([{ type: 'enter-standby', id: 8 }]);
  });

  it('stays on standby while the lease lives', () => {
    expect(run(standby(), seen(2_000)).effects).toEqual([]);
    expect(run(standby(), seen(2_000)).state.phase).toBe('standby');
  });

  it("the successor's first checkpoint completed: A ends (its request may be gone already)", () => {
    for (const request of [B, null]) {
      const { state, effects } = run(standby(), seen(2_000, request, 9));
      expect(state.phase).toBe('ended');
      expect(effects).toEqual([{ type: 'end', successorCheckpoint: 9 }]);
    }
  });

  it('the lease expired before that: A resumes, clears the request, never honours the run again', () => {
    const { state, effects } = run(standby(), seen(5_000));
    expect(state).toMatchObject({ phase: 'running', stopAt: undefined, revoked: ['run-b'] });
    expect(effects).toEqual([
      { type: 'resume', reason: expect.stringMatching(/lease of run run-b's request expired 0 ms ago/) },
      { type: 'clear-request', runId: 'run-b' },
    ]);
  });

  it('the successor withdrew (reported an abort): A resumes', () => {
    expect(run(standby(), seen(2_000, null)).effects).toEqual([{ type: 'resume', reason: 'the successor withdrew its request (it aborted)' }]);
  });

  it("another run's request replaced it: A resumes, leaving the new request alone", () => {
    expect(run(standby(), seen(2_000, { runId: 'run-c', leaseExpiresAt: 9_000 })).effects).toEqual([{ type: 'resume', reason: 'the request was replaced by another run' }]);
  });

  it('a checkpoint at or before the stop checkpoint is not the successor\'s', () => {
    expect(run(standby(), seen(2_000, B, 8)).state.phase).toBe('standby');
  });

  it('once ended, nothing moves', () => {
    const ended = run(standby(), seen(2_000, B, 9)).state;
    expect(run(ended, seen(9_000, null))).toEqual({ state: ended, effects: [] });
  });
});

describe('predecessor: standby looks', () => {
  it("list for the successor's first checkpoint when the request would otherwise resume A; with B's live request only when due", () => {
    const s = standby();
    expect(standbyNeedsListing(s, B, 1_300, false)).toBe(false);
    expect(standbyNeedsListing(s, B, 1_300, true)).toBe(true);
    // Gone, replaced, expired: B may be done (it removes its request only after its first checkpoint).
    expect(standbyNeedsListing(s, undefined, 1_300, false)).toBe(true);
    expect(standbyNeedsListing(s, { runId: 'run-c', leaseExpiresAt: 5_000 }, 1_300, false)).toBe(true);
    expect(standbyNeedsListing(s, B, 5_000, false)).toBe(true);
    // Only on standby.
    expect(standbyNeedsListing(stopping(), undefined, 1_300, true)).toBe(false);
  });
});

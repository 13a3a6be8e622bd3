// Deployment B in shadow mode, pure: every transition from SHADOW to the cut, the guard's answers, the failures, in microseconds.
import { describe, expect, it } from 'vitest';
import { initialShadow, type ShadowEffect, type ShadowEvent, type ShadowState, stepShadow } from '../../../src/handover/protocol/index.ts';

const LEASE = 3_000;
const start = (over: Partial<Parameters<typeof initialShadow>[0]> = {}) =>
  initialShadow({ runId: 'run-b', leaseMs: LEASE, promoteAfterMs: undefined, timeoutMs: 10_000, onGuardTimeout: 'abort', ...over });

function run(state: ShadowState, ...events: ShadowEvent[]): { state: ShadowState; effects: ShadowEffect[] } {
  let s = state;
  const effects: ShadowEffect[] = [];
  for (const e of events) {
    const step = stepShadow(s, e);
    s = step.state;
    effects.push(...step.effects);
  }
  return { state: s, effects };
}

const seen = (at: number, checkpointId: number, coverage: 'covers' | 'behind' | { problem: string }, endsJob = false, nextOwner?: string): ShadowEvent => ({
  type: 'predecessor-checkpoint',
  at,
  checkpointId,
  coverage,
  endsJob,
  nextOwner,
});
const inShadow = (over: Partial<Parameters<typeof initialShadow>[0]> = {}) => run(start(over), { type: 'bootstrapped', at: 100, checkpointId: 4 }).state;
const holding = () => run(inShadow(), { type: 'promote', at: 200 }, { type: 'guard-answered', at: 210, answer: { kind: 'promote' } }).state;
const converging = () => run(holding(), { type: 'held', at: 220 }).state;
const announced = () => run(converging(), seen(300, 7, 'covers')).state;
const cutting = () => run(announced(), seen(400, 8, 'covers', true, 'run-b')).state;

describe('shadow: start and promotion', () => {
  it('stage 1 done: SHADOW, bootstrapped from the running job’s checkpoint; nothing published, nothing of the directory written', () => {
    const { state, effects } = run(start(), { type: 'bootstrapped', at: 100, checkpointId: 4 });
    expect(state).toMatchObject({ phase: 'shadow', bootstrap: 4, shadowSince: 100, leaseExpiresAt: undefined });
    expect(effects).toEqual([]);
  });

  it('asked to promote: the guard is asked first; a second ask changes nothing', () => {
    const { state, effects } = run(inShadow(), { type: 'promote', at: 200 }, { type: 'promote', at: 201 });
    expect(state.phase).toBe('guarding');
    expect(effects).toEqual([{ type: 'evaluate-guard' }]);
  });

  it('promoteAfterMs: a tick that late asks the guard; a tick before does nothing', () => {
    const s = inShadow({ promoteAfterMs: 1_000 });
    expect(run(s, { type: 'tick', at: 1_099 })).toEqual({ state: s, effects: [] });
    expect(run(s, { type: 'tick', at: 1_100 }).effects).toEqual([{ type: 'evaluate-guard' }]);
  });

  it('manual promotion only (promoteAfterMs undefined): ticks never promote', () => {
    const s = inShadow();
    expect(run(s, { type: 'tick', at: 10_000_000 }).state.phase).toBe('shadow');
  });
});

describe('shadow: the guard', () => {
  const guarding = () => run(inShadow(), { type: 'promote', at: 200 }).state;

  it('promote: the sources hold', () => {
    expect(run(guarding(), { type: 'guard-answered', at: 210, answer: { kind: 'promote' } })).toMatchObject({ state: { phase: 'holding' }, effects: [{ type: 'hold-sources' }] });
  });

  it('refused: B stops with the guard’s reason; nothing was published, so A is untouched', () => {
    const { state, effects } = run(guarding(), { type: 'guard-answered', at: 210, answer: { kind: 'refused', reason: 'counts differ by 3%' } });
    expect(state).toMatchObject({ phase: 'refused', reason: 'counts differ by 3%' });
    expect(effects).toEqual([{ type: 'refuse', reason: 'counts differ by 3%' }]);
  });

  it("timeout under onGuardTimeout 'abort': refused, the reason says so", () => {
    const { effects } = run(guarding(), { type: 'guard-answered', at: 210, answer: { kind: 'timeout', timeoutMs: 500 } });
    expect(effects).toEqual([{ type: 'refuse', reason: "the promotion guard did not answer within 500 ms (onGuardTimeout: 'abort')" }]);
  });

  it("timeout under onGuardTimeout 'promote': promoted", () => {
    const s = run(inShadow({ onGuardTimeout: 'promote' }), { type: 'promote', at: 200 }).state;
    expect(run(s, { type: 'guard-answered', at: 210, answer: { kind: 'timeout', timeoutMs: 500 } }).effects).toEqual([{ type: 'hold-sources' }]);
  });

  it('an answer outside guarding (late, after a failure) is ignored', () => {
    const aborted = run(inShadow(), { type: 'failed', at: 150, reason: 'worker died' }).state;
    expect(run(aborted, { type: 'guard-answered', at: 210, answer: { kind: 'promote' } })).toEqual({ state: aborted, effects: [] });
  });
});

describe('shadow: converging on a cut', () => {
  it('held: B watches the running job’s checkpoints, with a deadline', () => {
    expect(run(holding(), { type: 'held', at: 220 })).toMatchObject({ state: { phase: 'converging', deadline: 10_220 }, effects: [{ type: 'watch-predecessor' }] });
  });

  it('a checkpoint of A behind B’s positions: wait; one at or after them: publish the leased request', () => {
    const behind = run(converging(), seen(250, 6, 'behind'));
    expect(behind).toEqual({ state: converging(), effects: [] });
    const { state, effects } = run(converging(), seen(300, 7, 'covers'));
    expect(state).toMatchObject({ phase: 'announced', leaseExpiresAt: 300 + LEASE });
    expect(effects).toEqual([{ type: 'publish-request', runId: 'run-b', leaseExpiresAt: 300 + LEASE }]);
  });

  it('A ended on its own at or after B’s positions: that checkpoint is the cut, nobody to ask', () => {
    expect(run(converging(), seen(300, 9, 'covers', true))).toMatchObject({ state: { phase: 'cutting', cutFrom: 9 }, effects: [{ type: 'cut', checkpointId: 9 }] });
  });

  it('A ended before B’s positions: B already processed input nobody would commit; it stops', () => {
    const { state, effects } = run(converging(), seen(300, 9, 'behind', true));
    expect(state.phase).toBe('aborted');
    expect(effects).toEqual([{ type: 'fail', reason: 'the running job ended at chk-9, before the positions the shadow already processed' }]);
  });

  it('positions that cannot be compared: stops, naming the checkpoint and the problem', () => {
    expect(run(converging(), seen(300, 7, { problem: "source 'x' cannot be cut" })).effects).toEqual([{ type: 'fail', reason: "chk-7 cannot be the cut: source 'x' cannot be cut" }]);
  });

  it('A never gets there: at the deadline B stops (nothing published yet, A untouched)', () => {
    const { state, effects } = run(converging(), { type: 'tick', at: 10_220 });
    expect(state.phase).toBe('aborted');
    expect(effects).toEqual([{ type: 'fail', reason: "waited 10000 ms for the running job's checkpoints to pass the shadow's positions" }]);
  });
});

describe('shadow: announced, the cut, done', () => {
  it('the checkpoint A had in flight passes; A’s stop checkpoint naming B is the cut', () => {
    expect(run(announced(), seen(350, 8, 'covers'))).toEqual({ state: announced(), effects: [] });
    expect(run(announced(), seen(400, 8, 'covers', true, 'run-b'))).toMatchObject({ state: { phase: 'cutting', cutFrom: 8 }, effects: [{ type: 'cut', checkpointId: 8 }] });
  });

  it('a stop checkpoint naming another run: B stops and withdraws its request', () => {
    const { state, effects } = run(announced(), seen(400, 8, 'covers', true, 'run-c'));
    expect(state.phase).toBe('aborted');
    expect(effects).toEqual([
      { type: 'withdraw-request', reason: 'aborted' },
      { type: 'fail', reason: 'the running job stopped at chk-8 for run run-c, not this one' },
    ]);
  });

  it('the lease is renewed when a third is left, until the cut checkpoint completes', () => {
    const renew = run(announced(), { type: 'tick', at: 300 + LEASE / 3 });
    expect(renew.effects).toEqual([{ type: 'renew-lease', leaseExpiresAt: 300 + LEASE / 3 + LEASE }]);
    expect(run(cutting(), { type: 'tick', at: 300 + LEASE / 3 }).effects).toEqual([{ type: 'renew-lease', leaseExpiresAt: 300 + LEASE / 3 + LEASE }]);
    expect(run(announced(), { type: 'lease-renewed', at: 400, leaseExpiresAt: 9_000 }).state.leaseExpiresAt).toBe(9_000);
  });

  it('a lease that ran out (the store refused renewals): B gives up before A resumes', () => {
    const { state, effects } = run(cutting(), { type: 'tick', at: 300 + LEASE });
    expect(state.phase).toBe('aborted');
    expect(effects[0]).toEqual({ type: 'withdraw-request', reason: 'aborted' });
  });

  it('lease lost (A gave up on the request): B stops', () => {
    expect(run(cutting(), { type: 'lease-lost', at: 500, reason: 'gone' }).effects).toEqual([
      { type: 'withdraw-request', reason: 'aborted' },
      { type: 'fail', reason: 'lost its stop request: gone' },
    ]);
  });

  it('the cut checkpoint completed: done, the request withdrawn (the directory is B’s); later events change nothing', () => {
    const { state, effects } = run(cutting(), { type: 'first-checkpoint', at: 600, id: 9 });
    expect(state.phase).toBe('done');
    expect(effects).toEqual([{ type: 'withdraw-request', reason: 'done' }]);
    expect(run(state, { type: 'failed', at: 700, reason: 'x' }, { type: 'tick', at: 1e9 })).toEqual({ state, effects: [] });
  });

  it('the attempt failed while cutting: the request is withdrawn (A resumes), no second failure', () => {
    expect(run(cutting(), { type: 'failed', at: 500, reason: 'worker died' })).toMatchObject({ state: { phase: 'aborted' }, effects: [{ type: 'withdraw-request', reason: 'aborted' }] });
  });

  it('killed (failed) in shadow: nothing to withdraw, nothing to fail', () => {
    expect(run(inShadow(), { type: 'failed', at: 500, reason: 'canceled' })).toMatchObject({ state: { phase: 'aborted' }, effects: [] });
  });

  it('an event out of order is a shell bug: reported as a failure', () => {
    expect(run(inShadow(), { type: 'held', at: 1 }).effects).toEqual([{ type: 'fail', reason: "the shadow got 'held' while shadow" }]);
  });
});

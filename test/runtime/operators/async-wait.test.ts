// AsyncWaitOperator on its own: snapshots (a copy of every element not emitted), restore at another
// parallelism (which old queues a subtask takes, which watermark follows), hostile state, timeouts.
import { describe, expect, it } from 'vitest';
import { AsyncWaitOperator, asyncMapSettings } from '../../../src/runtime/operators/async-wait.ts';
import type { AsyncWaitSnapshot } from '../../../src/runtime/operators/async-wait.ts';
import { ManualProcessingTime } from '../../../src/runtime/time/manual-processing-time.ts';
import { operatorContext, RecordingOutput } from '../fixtures.ts';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** An operator whose requests resolve when the test says; `issued` lists the values asked for. */
function create(options: { parallelism?: number; subtaskIndex?: number; ordered?: boolean; capacity?: number; clock?: ManualProcessingTime } = {}) {
  const issued: unknown[] = [];
  const resolvers = new Map<unknown, (r: string) => void>();
  const base = operatorContext({ keyed: false, subtaskIndex: options.subtaskIndex, processingTime: options.clock });
  const ctx = { ...base, parallelism: options.parallelism ?? 1, pauseInput: () => paused.push(true), resumeInput: () => paused.push(false) };
  const paused: boolean[] = [];
  const op = new AsyncWaitOperator<{ n: number }, string>(
    ctx,
    (v) => {
      issued.push(v.n);
      return new Promise<string>((resolve) => resolvers.set(v.n, resolve));
    },
    asyncMapSettings({ ordered: options.ordered ?? true, capacity: options.capacity ?? 10, timeoutMs: 1_000 }),
  );
  const out = new RecordingOutput();
  return { op, out, issued, paused, ctx: base, resolve: (n: number) => resolvers.get(n)!(`${n}!`) };
}

const rec = (n: number, timestamp = n) => ({ kind: 'record' as const, value: { n }, timestamp });
const wm = (watermark: number) => ({ kind: 'watermark' as const, watermark });

describe('AsyncWaitOperator', () => {
  it('snapshots a copy of every element not emitted (in flight, done and waiting, backlog), in input order', async () => {
    const t = create({ capacity: 2 });
    t.op.open(t.out);
    const first = { n: 1 };
    t.op.processElement(first, 1);
    t.op.processElement({ n: 2 }, 2);
    t.op.processWatermark(2);
    t.op.processElement({ n: 3 }, 3);
    expect(t.issued).toEqual([1, 2]);
    expect(t.paused).toEqual([true]);
    t.resolve(2);
    await settle();
    const snapshot = t.op.snapshotState() as AsyncWaitSnapshot<{ n: number }>;
    expect(snapshot).toEqual({ v: 1, elements: [rec(1), rec(2), wm(2), rec(3)] });
    // A copy: the function changing its input afterwards does not change the checkpoint.
    first.n = 99;
    expect(snapshot.elements[0]).toEqual(rec(1));
    t.resolve(1);
    await settle();
    expect(t.out.events).toEqual([
      { record: '1!', timestamp: 1 },
      { record: '2!', timestamp: 2 },
      { watermark: 2 },
    ]);
    expect(t.issued).toEqual([1, 2, 3]);
    expect(t.paused).toEqual([true, false]);
    t.resolve(3);
    await settle();
    expect(t.op.snapshotState()).toBeUndefined();
    expect(t.op.isIdle()).toBe(true);
  });

  it('restores at the same parallelism: its own queue, watermarks in place, issued again at open', () => {
    const t = create({ parallelism: 2, subtaskIndex: 1 });
    const states: Array<AsyncWaitSnapshot<{ n: number }> | undefined> = [{ v: 1, elements: [rec(1)] }, { v: 1, elements: [rec(2), wm(5), rec(6)] }];
    t.op.initializeState(states);
    t.op.open(t.out);
    expect(t.issued).toEqual([2, 6]);
    expect((t.op.snapshotState() as AsyncWaitSnapshot<unknown>).elements).toEqual([rec(2), wm(5), rec(6)]);
  });

  it('restores at a lower parallelism: old subtask j goes to j % p; merged queues keep only the lowest last watermark, after all records', () => {
    const states = [
      { v: 1, elements: [rec(1), wm(3), rec(4)] },
      { v: 1, elements: [rec(2)] },
      { v: 1, elements: [rec(5), wm(7), rec(8), wm(9)] },
    ] as const;
    const zero = create({ parallelism: 2, subtaskIndex: 0 });
    zero.op.initializeState(states);
    zero.op.open(zero.out);
    expect(zero.issued).toEqual([1, 4, 5, 8]);
    expect((zero.op.snapshotState() as AsyncWaitSnapshot<unknown>).elements).toEqual([rec(1), rec(4), rec(5), rec(8), wm(3)]);
    const one = create({ parallelism: 2, subtaskIndex: 1 });
    one.op.initializeState(states);
    one.op.open(one.out);
    expect(one.issued).toEqual([2]);
    // A merged queue without any watermark gives none.
    const all = create({ parallelism: 1 });
    all.op.initializeState(states);
    all.op.open(all.out);
    expect((all.op.snapshotState() as AsyncWaitSnapshot<unknown>).elements.filter((e) => e.kind === 'watermark')).toEqual([]);
  });

  it('restored beyond capacity: the rest waits in the backlog and the input is held', () => {
    const t = create({ capacity: 2 });
    t.op.initializeState([{ v: 1, elements: [rec(1), rec(2), rec(3)] }]);
    t.op.open(t.out);
    expect(t.issued).toEqual([1, 2]);
    expect(t.paused).toEqual([true]);
  });

  it('refuses state that is not an asyncMap snapshot (storage is hostile input)', () => {
    for (const bad of [42, { v: 2, elements: [] }, { v: 1, elements: [{ kind: 'record' }] }, { v: 1, elements: [{ kind: 'other', watermark: 1 }] }]) {
      expect(() => create().op.initializeState([bad])).toThrow(/asyncMap 'op': restored state of subtask 0 is not an asyncMap snapshot/);
    }
  });

  it('one timer covers the requests in flight: each times out at its own deadline', async () => {
    const clock = new ManualProcessingTime(0);
    const t = create({ clock });
    const op = new AsyncWaitOperator<{ n: number }, string>(
      t.ctx,
      () => new Promise<string>(() => {}),
      asyncMapSettings({ timeoutMs: 100, onTimeout: (v: { n: number }) => `${v.n}?` }),
    );
    op.open(t.out);
    op.processElement({ n: 1 }, 1);
    clock.advanceTo(50);
    op.processElement({ n: 2 }, 2);
    expect(t.ctx.scheduled.filter((s) => !s.canceled)).toHaveLength(1);
    clock.advanceTo(100);
    expect(t.out.records.map((r) => r.record)).toEqual(['1?']);
    clock.advanceTo(149);
    expect(t.out.records.map((r) => r.record)).toEqual(['1?']);
    clock.advanceTo(150);
    expect(t.out.records.map((r) => r.record)).toEqual(['1?', '2?']);
    expect(op.isIdle()).toBe(true);
    expect(t.ctx.scheduled.filter((s) => !s.canceled)).toHaveLength(0);
  });
});

// upgradeTest: A to a cut, the real handover to B, B on; continuity against B's own run and the state report.
import { describe, expect, it } from 'vitest';
import {
  type Collector,
  defineJob,
  KeyedProcessFunction,
  type KeyedProcessContext,
  type KeyedRuntimeContext,
  type MapState,
  type OnTimerContext,
  Sinks,
  Sources,
  TumblingEventTimeWindows,
  type ValueState,
  WatermarkStrategy,
} from '../../src/index.ts';
import { assertContinuous, UpgradeNotContinuousError, upgradeTest } from '../../src/testing/index.ts';
import { JobConfigError, UnknownOptionError } from '../../src/errors/index.ts';

/** A running count per word: every output depends on every earlier record of its key, so a lost or repeated one shows. */
class RunningCount extends KeyedProcessFunction<string, string, string> {
  private count!: ValueState<number>;
  constructor(private readonly format: (key: string, n: number) => string) {
    super();
  }
  override open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.valueState<number>('count');
  }
  processElement(_word: string, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    out.collect(this.format(ctx.key, n));
  }
}

/** The same count kept in a map state of the same name: a changed state kind. */
class MapCount extends KeyedProcessFunction<string, string, string> {
  private count!: MapState<string, number>;
  override open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.mapState<string, number>('count');
  }
  processElement(word: string, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const n = (this.count.get(word) ?? 0) + 1;
    this.count.put(word, n);
    out.collect(`${ctx.key}#${n}`);
  }
}

/** The count as `{ n }` in the same value state: a changed value shape that reads A's numbers as nothing. */
class ObjectCount extends KeyedProcessFunction<string, string, string> {
  private count!: ValueState<{ n: number }>;
  override open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.valueState<{ n: number }>('count');
  }
  processElement(_word: string, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const n = (this.count.value()?.n ?? 0) + 1;
    this.count.update({ n });
    out.collect(`${ctx.key}#${n}`);
  }
}

// A factory: every subtask builds its own function instance, as on threads.
const counting = (process: () => KeyedProcessFunction<string, string, string>) =>
  defineJob((env) => {
    env.enableCheckpointing({ intervalMs: 1_000 });
    env.fromSource(Sources.elements<string>([]), 'words').uid('words').keyBy((w) => w).process(process()).uid('count').sinkTo(Sinks.collect()).uid('out');
  });

const v1 = counting(() => new RunningCount((k, n) => `v1:${k}#${n}`));
const v2 = counting(() => new RunningCount((k, n) => `v2 ${k} #${n}`));

/** B without the counting operator: a stateless formatter under a new uid. */
const stateless = defineJob((env) => {
  env.enableCheckpointing({ intervalMs: 1_000 });
  env.fromSource(Sources.elements<string>([]), 'words').uid('words').map((w) => `${w}!`).uid('shout').sinkTo(Sinks.collect()).uid('out');
});

const words = ['x', 'y', 'x', 'z', 'y', 'x', 'w', 'x', 'z', 'y', 'x', 'v'];

/** The uninterrupted running count of `input`, as `key#n`. */
function runningCounts(input: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return input.map((w) => {
    const n = (seen.get(w) ?? 0) + 1;
    seen.set(w, n);
    return `${w}#${n}`;
  });
}

describe('upgradeTest', () => {
  it('a compatible upgrade (same state, new output format) is continuous: every record committed once, A before the cut and B after', async () => {
    const report = await upgradeTest({ from: v1, to: v2, input: { words }, parallelism: 2, handoverAfter: 7, checkpointAfter: 3 });
    expect(report.problems).toEqual([]);
    expect(report.continuous).toBe(true);
    assertContinuous(report, { state: true });
    expect(report.handover.outcome).toBe('completed');
    expect(report.handover.fromStatus).toBe('SUSPENDED');
    // Stage 1 restored A's checkpoint after 3 words; the stop checkpoint after 7 was B's target, applied in stage 2.
    const metrics = report.handover.metrics!;
    expect(metrics.stage1Checkpoint).toBe(report.handover.checkpointBefore);
    expect(metrics.targetCheckpoint).toBe(report.state.fromCheckpoint);
    expect(metrics.targetCheckpoint).toBeGreaterThan(report.handover.checkpointBefore);
    expect(metrics.stage2Bytes).toBeGreaterThan(0);
    expect(report.handover.predecessor.map((s) => s.phase)).toEqual(expect.arrayContaining(['stop-requested', 'standby', 'ended']));

    const out = report.outputs.out;
    expect(out.committed).toEqual([...out.fromA, ...out.fromB]);
    expect(out.fromA.every((v) => String(v).startsWith('v1:'))).toBe(true);
    expect(out.fromB.every((v) => String(v).startsWith('v2 '))).toBe(true);
    // Each input record's output exactly once, numbered as one uninterrupted run would.
    const unformatted = [...out.fromA.map((v) => String(v).slice(3)), ...out.fromB.map((v) => String(v).slice(3).replace(' #', '#'))];
    expect(unformatted.sort()).toEqual(runningCounts(words).sort());
    expect(out.fromA.map((v) => String(v).slice(3)).sort()).toEqual(runningCounts(words).slice(0, 7).sort());

    expect(report.state.compatible).toBe(true);
    expect(report.state.operators.count).toMatchObject({ status: 'kept', states: { count: { status: 'kept', from: { kind: 'value', shapes: ['number'] }, to: { kind: 'value', shapes: ['number'] } } } });
    expect(report.state.operators.count.states.count.from?.entries).toBe(4); // x, y, z, w by the cut
  });

  it('reads the heap backend\'s checkpoints as well: kinds, entries and shapes', async () => {
    const report = await upgradeTest({ from: v1, to: counting(() => new MapCount()), input: { words }, stateBackend: 'heap' });
    expect(report.state.operators.count.states.count).toMatchObject({ status: 'kind-changed', from: { kind: 'value', entries: 3, shapes: ['number'] }, to: { kind: 'map', entries: 5, shapes: ['string => number'] } });
  });

  it('an upgrade that drops a stateful operator is refused by the real restore, and with allowNonRestoredState goes through with the state reported dropped', async () => {
    const refused = await upgradeTest({ from: v1, to: stateless, input: { words }, parallelism: 2 });
    expect(refused.handover.outcome).toBe('refused');
    expect(refused.handover.error?.name).toBe('RestorePlanError');
    expect(refused.handover.error?.message).toContain("'count'");
    // A was never asked to stop: it went on running.
    expect(refused.handover.fromStatus).toBe('RUNNING');
    expect(refused.continuous).toBe(false);
    expect(refused.problems[0]).toMatch(/^the handover was refused/);
    expect(refused.outputs.out.fromB).toEqual([]);
    expect(refused.outputs.out.fromA).toHaveLength(6);
    expect(refused.state.droppedOperators).toEqual(['count']);
    expect(refused.state.operators.count).toMatchObject({ status: 'dropped', states: { count: { status: 'dropped', from: { kind: 'value', entries: 3 } } } });
    expect(refused.state.operators.shout.status).toBe('new');
    expect(refused.state.compatible).toBe(false);
    expect(() => assertContinuous(refused)).toThrow(UpgradeNotContinuousError);

    const allowed = await upgradeTest({ from: v1, to: stateless, input: { words }, parallelism: 2, allowNonRestoredState: true });
    expect(allowed.handover.outcome).toBe('completed');
    // Nothing B writes depends on the dropped state, so the output is continuous; the state report still says what was lost.
    expect(allowed.continuous).toBe(true);
    expect(allowed.outputs.out.fromB.sort()).toEqual(words.slice(6).map((w) => `${w}!`).sort());
    expect(allowed.state.issues).toEqual([expect.stringMatching(/operator 'count' of A is gone in B: its state \('count'\) is dropped/)]);
    expect(() => assertContinuous(allowed, { state: true })).toThrow(/operator 'count' of A is gone/);
  });

  it('a changed state kind (value -> map) is reported, and B failing to open it makes A roll back', async () => {
    const report = await upgradeTest({ from: v1, to: counting(() => new MapCount()), input: { words }, parallelism: 2 });
    expect(report.state.operators.count.states.count).toMatchObject({ status: 'kind-changed', from: { kind: 'value' }, to: { kind: 'map', shapes: ['string => number'] } });
    expect(report.state.issues).toEqual(["state 'count' of 'count' changed kind: value in A, map in B"]);
    expect(report.handover.outcome).toBe('rolled-back');
    expect(report.handover.error?.message).toContain('already registered as value state');
    expect(report.handover.predecessor.map((s) => s.phase)).toContain('rollback');
    expect(report.handover.fromStatus).toBe('RUNNING');
    expect(report.continuous).toBe(false);
  });

  it('a changed value shape (number -> { n }) is reported, and the counts B restarts show as a discontinuity', async () => {
    // endInputs false: B is stopped after its first checkpoint instead of finishing (unbounded inputs stay open).
    const report = await upgradeTest({ from: v1, to: counting(() => new ObjectCount()), input: { words }, parallelism: 2, endInputs: false });
    expect(report.handover.outcome).toBe('completed');
    expect(report.handover.metrics?.targetCheckpoint).toBe(report.state.fromCheckpoint);
    expect(report.state.operators.count.states.count).toMatchObject({ status: 'shape-changed', from: { shapes: ['number'] }, to: { shapes: ['{n: number}'] } });
    expect(report.continuous).toBe(false);
    // 'x' was counted 3 times by A: B alone goes on with x#4, the upgraded B starts again at x#1.
    expect(report.problems).toEqual([expect.stringContaining("'x#4'"), expect.stringContaining("'x#1'")]);
  });

  it('rescales A at parallelism 2 to B at 3 with an event-time window open across the cut', async () => {
    interface Click {
      readonly user: string;
      readonly at: number;
    }
    const perMinute = (format: (user: string, start: number, n: number) => string) =>
      defineJob((env) => {
        env.enableCheckpointing({ intervalMs: 1_000 });
        env
          .fromSource(Sources.elements<Click>([]), 'clicks')
          .uid('clicks')
          .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Click>(1_000).withTimestampAssigner((c) => c.at))
          .uid('event-time')
          .keyBy((c) => c.user)
          .window(TumblingEventTimeWindows.of(60_000))
          .aggregate({ createAccumulator: () => 0, add: (_c: Click, n: number) => n + 1, getResult: (n: number) => n }, (user, window, n) => format(user, window.start, n))
          .uid('per-minute')
          .sinkTo(Sinks.collect())
          .uid('out');
      });
    const users = ['ann', 'bob', 'cid', 'dan', 'eve'];
    const clicks = Array.from({ length: 40 }, (_, i) => ({ user: users[i % users.length], at: i * 4_000 }));
    const report = await upgradeTest({
      from: { job: perMinute((u, s, n) => `${u}@${s}=${n}`), parallelism: 2 },
      to: { job: perMinute((u, s, n) => `${u}@${s / 60_000}min:${n}`), parallelism: 3 },
      // The cut at 70 s is inside the second minute: its windows hold A's clicks when B takes over.
      input: { clicks },
      handoverAfter: 18,
    });
    expect(report.problems).toEqual([]);
    expect(report.state.compatible).toBe(true);
    const out = report.outputs.out;
    // Minute 0 fired in A; minutes 1 and 2 fired in B, counting A's clicks of minute 1 too.
    const expected = new Map<string, number>();
    for (const c of clicks) expected.set(`${c.user}@${Math.floor(c.at / 60_000)}`, (expected.get(`${c.user}@${Math.floor(c.at / 60_000)}`) ?? 0) + 1);
    const seen = [
      ...out.fromA.map((v) => String(v).replace(/@(\d+)=/, (_, s) => `@${Number(s) / 60_000}=`)),
      ...out.fromB.map((v) => String(v).replace('min:', '=')),
    ];
    expect(seen.sort()).toEqual([...expected].map(([k, n]) => `${k}=${n}`).sort());
    expect(out.fromA.length).toBeGreaterThan(0);
    expect(out.fromB.some((v) => String(v).includes('@1min'))).toBe(true);
    expect(report.handover.metrics?.stage1Checkpoint).toBe(report.handover.checkpointBefore);
  });

  it('timed input with source watermarks: event-time timers pending at the cut fire in B', async () => {
    interface Order {
      readonly user: string;
      readonly at: number;
    }
    /** A reminder 5 s of event time after each order. */
    class Reminder extends KeyedProcessFunction<string, Order, string> {
      constructor(private readonly tag: string) {
        super();
      }
      processElement(o: Order, ctx: KeyedProcessContext<string>): void {
        ctx.timerService.registerEventTimeTimer(o.at + 5_000);
      }
      override onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
        out.collect(`${this.tag}:${ctx.key}@${timestamp}`);
      }
    }
    const reminders = (tag: string) =>
      defineJob((env) => {
        env.enableCheckpointing({ intervalMs: 1_000 });
        env.fromSource(Sources.elements<Order>([]), 'orders').uid('orders').keyBy((o) => o.user).process(new Reminder(tag)).uid('remind').sinkTo(Sinks.collect()).uid('out');
      });
    const order = (user: string, at: number) => ({ value: { user, at }, timestamp: at });
    const report = await upgradeTest({
      from: { job: reminders('v1'), parallelism: 1 },
      to: { job: reminders('v2'), parallelism: 2 },
      input: { orders: { timed: [order('ann', 1_000), order('bob', 2_000), { watermark: 6_000 }, order('cid', 7_000), { watermark: 8_000 }, order('dan', 9_000), { watermark: 20_000 }] } },
      handoverAfter: 4,
      checkpointAfter: 2,
    });
    expect(report.problems).toEqual([]);
    expect(report.outputs.out.fromA).toEqual(['v1:ann@6000']);
    // Bob's and cid's timers were set by A and fire in B.
    expect(report.outputs.out.fromB.sort()).toEqual(['v2:bob@7000', 'v2:cid@12000', 'v2:dan@14000']);
  });

  it('refuses a cut beyond the input and unknown options, with typed errors, before any job runs', async () => {
    await expect(upgradeTest({ from: v1, to: v2, input: { words }, handoverAfter: 13 })).rejects.toThrow(JobConfigError);
    await expect(upgradeTest({ from: v1, to: v2, input: { words }, handoverAfter: 4, checkpointAfter: 5 })).rejects.toThrow(/must not come after the handover/);
    await expect(upgradeTest({ from: v1, to: v2, input: { words }, handover: 3 } as never)).rejects.toThrow(UnknownOptionError);
  });
});

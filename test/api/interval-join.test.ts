// Interval join in testJob: the pairs equal a brute-force join, bounds (inclusive and exclusive),
// late records, buffer cleanup as the watermark passes, and a restore at another parallelism.
import { describe, expect, it } from 'vitest';
import { type Collector, defineJob, OutputTag, type ProcessJoinContext, ProcessJoinFunction, Sinks, Sources } from '../../src/index.ts';
import { LEFT_BUFFER, RIGHT_BUFFER } from '../../src/runtime/operators/interval-join.ts';
import { testJob } from '../../src/testing/index.ts';

interface Ev {
  readonly key: string;
  readonly id: number;
}

class Pair extends ProcessJoinFunction<Ev, Ev, string, string> {
  processElement(l: Ev, r: Ev, ctx: ProcessJoinContext<string>, out: Collector<string>): void {
    out.collect(`${ctx.key}:${l.id}-${r.id}@${ctx.timestamp}(${ctx.leftTimestamp},${ctx.rightTimestamp})`);
  }
}

const lateLeft = new OutputTag<Ev>('late-left');
const lateRight = new OutputTag<Ev>('late-right');

function joinJob(lower: number, upper: number, exclusive: { lower?: boolean; upper?: boolean } = {}) {
  return defineJob((env) => {
    env.enableCheckpointing({ intervalMs: 1_000 });
    const left = env.fromSource(Sources.elements<Ev>([]), 'left').uid('left');
    const right = env.fromSource(Sources.elements<Ev>([]), 'right').uid('right');
    let between = left
      .keyBy((e) => e.key)
      .intervalJoin(right.keyBy((e) => e.key))
      .between(lower, upper)
      .sideOutputLeftLateData(lateLeft)
      .sideOutputRightLateData(lateRight);
    if (exclusive.lower) between = between.lowerBoundExclusive();
    if (exclusive.upper) between = between.upperBoundExclusive();
    const joined = between.process(new Pair()).uid('join');
    joined.sinkTo(Sinks.collect()).uid('out');
    joined.getSideOutput(lateLeft).map((e) => `L${e.id}`).uid('late-l').sinkTo(Sinks.collect()).uid('late');
    joined.getSideOutput(lateRight).map((e) => `R${e.id}`).uid('late-r').sinkTo(Sinks.collect()).uid('late-2');
  });
}

/** A deterministic spread of records: keys k0..k3, times 0..199 (some negative offsets too). */
function records(seed: number, n: number): Array<{ value: Ev; timestamp: number }> {
  let s = seed;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 8;
  };
  return Array.from({ length: n }, (_, id) => ({ value: { key: `k${next() % 4}`, id: seed * 1_000 + id }, timestamp: (next() % 200) - 20 }));
}

function bruteForce(left: ReturnType<typeof records>, right: ReturnType<typeof records>, lower: number, upper: number): string[] {
  const pairs: string[] = [];
  for (const l of left) {
    for (const r of right) {
      const d = r.timestamp - l.timestamp;
      if (l.value.key !== r.value.key || d < lower || d > upper) continue;
      const ts = Math.max(l.timestamp, r.timestamp);
      pairs.push(`${l.value.key}:${l.value.id}-${r.value.id}@${ts}(${l.timestamp},${r.timestamp})`);
    }
  }
  return pairs.sort();
}

describe('intervalJoin', () => {
  for (const [lower, upper] of [
    [-2, 1],
    [0, 15],
    [-30, -10],
    [5, 5],
  ] as const) {
    it(`between(${lower}, ${upper}) joins exactly the pairs of a brute-force join, at parallelism 3`, async () => {
      const left = records(1, 120);
      const right = records(2, 120);
      const driver = await testJob(joinJob(lower, upper), { parallelism: 3 });
      // Interleaved, in halves, without watermarks: nothing is late, every pair meets.
      await driver.input<Ev>('left').pushTimed(left.slice(0, 60));
      await driver.input<Ev>('right').pushTimed(right.slice(0, 60));
      await driver.input<Ev>('left').pushTimed(left.slice(60));
      await driver.input<Ev>('right').pushTimed(right.slice(60));
      const expected = bruteForce(left, right, lower, upper);
      expect(expected.length).toBeGreaterThan(10);
      expect(driver.output<string>('out').written.sort()).toEqual(expected);
      await driver.close();
    });
  }

  it('exclusive bounds move in by one millisecond', async () => {
    const left = records(3, 100);
    const right = records(4, 100);
    const driver = await testJob(joinJob(-3, 3, { lower: true, upper: true }), { parallelism: 2 });
    await driver.input<Ev>('left').pushTimed(left);
    await driver.input<Ev>('right').pushTimed(right);
    expect(driver.output<string>('out').written.sort()).toEqual(bruteForce(left, right, -2, 2));
    await driver.close();
  });

  it('buffers go when the watermark (the minimum of both inputs) passes their cleanup time; late records go to side outputs', async () => {
    // between(-5, 10): a left record at t waits until t + 10, a right one at t until t + 5.
    const driver = await testJob(joinJob(-5, 10), { parallelism: 2 });
    const L = driver.input<Ev>('left');
    const R = driver.input<Ev>('right');
    await L.push({ key: 'a', id: 1 }, { timestamp: 100 });
    await R.push({ key: 'a', id: 2 }, { timestamp: 100 });
    expect(await driver.mapState('join', LEFT_BUFFER, 'a')).toEqual([[100, [{ key: 'a', id: 1 }]]]);
    await L.advanceWatermark(200);
    await R.advanceWatermark(104);
    expect((await driver.mapState('join', RIGHT_BUFFER, 'a')).length).toBe(1);
    await R.advanceWatermark(105);
    expect(await driver.mapState('join', RIGHT_BUFFER, 'a')).toEqual([]);
    expect((await driver.mapState('join', LEFT_BUFFER, 'a')).length).toBe(1);
    // Still joins: the left record waits for right records up to 110.
    await R.push({ key: 'a', id: 3 }, { timestamp: 110 });
    await R.advanceWatermark(110);
    expect(await driver.mapState('join', LEFT_BUFFER, 'a')).toEqual([]);
    // Before the watermark (110): late on either side, never joined.
    await L.push({ key: 'a', id: 4 }, { timestamp: 109 });
    await R.push({ key: 'a', id: 5 }, { timestamp: 105 });
    await L.push({ key: 'a', id: 6 }, { timestamp: 110 });
    expect(driver.output<string>('out').written.sort()).toEqual(['a:1-2@100(100,100)', 'a:1-3@110(100,110)', 'a:6-3@110(110,110)']);
    expect(driver.output<string>('late').written).toEqual(['L4']);
    expect(driver.output<string>('late-2').written).toEqual(['R5']);
    await driver.close();
  });

  it('buffered records and their cleanup timers are restored at another parallelism', async () => {
    const a = await testJob(joinJob(0, 50), { parallelism: 2 });
    await a.input<Ev>('left').pushTimed(['a', 'b', 'c', 'd'].map((key, i) => ({ value: { key, id: i }, timestamp: 1_000 })));
    const cp = await a.checkpoint();
    await a.crash();
    for (const parallelism of [3, 1]) {
      const b = await testJob(joinJob(0, 50), { parallelism, restoreFrom: cp });
      await b.input<Ev>('right').pushTimed(['a', 'b', 'c', 'd'].map((key, i) => ({ value: { key, id: 10 + i }, timestamp: 1_050 })));
      await b.input<Ev>('left').advanceWatermark(1_050);
      await b.input<Ev>('right').advanceWatermark(1_050);
      for (const key of ['a', 'b', 'c', 'd']) expect(await b.mapState('join', LEFT_BUFFER, key)).toEqual([]);
      // Right records at 1050 were buffered until 1050 too (lower bound 0): gone as well.
      for (const key of ['a', 'b', 'c', 'd']) expect(await b.mapState('join', RIGHT_BUFFER, key)).toEqual([]);
      await b.input<Ev>('right').push({ key: 'a', id: 99 }, { timestamp: 1_051 });
      expect(b.output<string>('out').written.sort()).toEqual(['a:0-10@1050(1000,1050)', 'b:1-11@1050(1000,1050)', 'c:2-12@1050(1000,1050)', 'd:3-13@1050(1000,1050)']);
      await b.close();
    }
  });

  it('refuses bad bounds and records without event time', async () => {
    const build = (lower: number, upper: number, ex: { lower?: boolean; upper?: boolean } = {}) => () => joinJob(lower, upper, ex).buildGraph({ parallelism: 1, maxParallelism: 128, params: {} });
    expect(build(5, 1)).toThrow(/lower bound \(5\) must not be after the upper bound \(1\)/);
    expect(build(1, 1, { upper: true })).toThrow(/must not be after/);
    expect(build(0.5, 1)).toThrow(/integer number of milliseconds/);
    const driver = await testJob(joinJob(0, 1));
    await expect(driver.input<Ev>('left').push({ key: 'a', id: 1 })).rejects.toThrow(/BATON_ERR_INTERVAL_JOIN_NO_TIMESTAMP/);
    await driver.close();
  });
});

// testJob semantics of issue 14's state package: TTL on processing time across checkpoints and a
// restore at another parallelism, full-snapshot cleanup, reducing/aggregating state, operator list
// state redistributed on rescale, rich functions with counters, non-keyed process, rolling
// aggregations, and declared params.
import { describe, expect, it } from 'vitest';
import {
  type AggregatingState,
  type Collector,
  type Counter,
  defineJob,
  JobParamError,
  KeyedProcessFunction,
  type KeyedProcessContext,
  type KeyedRuntimeContext,
  type ListState,
  OutputTag,
  param,
  type ProcessContext,
  ProcessFunction,
  type ReducingState,
  RichFlatMapFunction,
  RichMapFunction,
  type RichRuntimeContext,
  Sinks,
  Sources,
  type StateOptions,
  type ValueState,
} from '../../src/index.ts';
import { testJob } from '../../src/testing/index.ts';

interface Click {
  readonly user: string;
  readonly amount: number;
}

/** Per user: clicks in a TTL'd count, the largest amount (reducing) and the average (aggregating), sharing one TTL. */
class ClickStats extends KeyedProcessFunction<string, Click, string> {
  private count!: ValueState<number>;
  private largest!: ReducingState<number>;
  private average!: AggregatingState<number, number>;
  constructor(private readonly options: StateOptions) {
    super();
  }
  override open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.valueState<number>('count', this.options);
    this.largest = ctx.reducingState<number>('largest', (a, b) => Math.max(a, b), this.options);
    this.average = ctx.aggregatingState(
      'average',
      {
        createAccumulator: () => [0, 0] as [number, number],
        add: (v: number, [sum, n]: [number, number]) => [sum + v, n + 1] as [number, number],
        getResult: ([sum, n]: [number, number]) => sum / n,
      },
      this.options,
    );
  }
  processElement(c: Click, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    this.largest.add(c.amount);
    this.average.add(c.amount);
    out.collect(`${ctx.key}:${n}:max=${this.largest.get()}:avg=${this.average.get()}`);
  }
}

const statsJob = (options: StateOptions) =>
  defineJob((env) => {
    env.enableCheckpointing({ intervalMs: 1_000 });
    env.fromSource(Sources.elements<Click>([]), 'clicks').uid('clicks').keyBy((c) => c.user).process(new ClickStats(options)).uid('stats').sinkTo(Sinks.collect()).uid('out');
  });

describe.each(['lmdb', 'heap'] as const)('TTL state in a job (%s backend)', (stateBackend) => {
  it('expires on the manual clock; a restore at another parallelism keeps each value’s timestamp', async () => {
    const job = statsJob({ ttl: { ms: 10_000 } });
    const a = await testJob(job, { parallelism: 2, stateBackend, startTime: 0 });
    const clicks = a.input<Click>('clicks');
    await clicks.pushAll([{ user: 'ann', amount: 5 }, { user: 'bob', amount: 1 }]);
    await a.advanceProcessingTime(4_000);
    await clicks.push({ user: 'ann', amount: 7 });
    expect(a.output<string>('out').written.sort()).toEqual(['ann:1:max=5:avg=5', 'ann:2:max=7:avg=6', 'bob:1:max=1:avg=1']);
    await a.advanceProcessingTime(1_000);
    const cp = await a.checkpoint();
    expect(cp.processingTime).toBe(5_000);
    await a.crash();

    // Restored at 5 000 on three subtasks. At 12 000 ann (written at 4 000) lives on, bob (written at 0) has expired:
    // had the restore stamped values with its own time, bob would live until 15 000.
    const b = await testJob(job, { parallelism: 3, stateBackend, restoreFrom: cp });
    expect(b.processingTime).toBe(5_000);
    await b.setProcessingTime(12_000);
    await b.input<Click>('clicks').pushAll([{ user: 'ann', amount: 1 }, { user: 'bob', amount: 3 }]);
    expect(b.output<string>('out').written.sort()).toEqual(['ann:3:max=7:avg=4.333333333333333', 'bob:1:max=3:avg=3']);
    // The state as stored: the value and its last write.
    expect(await b.valueState('stats', 'count', 'ann')).toEqual([3, 12_000]);
    await b.setProcessingTime(22_000);
    await b.input<Click>('clicks').push({ user: 'ann', amount: 2 });
    expect(b.output<string>('out').written.at(-1)).toBe('ann:1:max=2:avg=2');
    const result = await b.finish();
    expect(result.status).toBe('FINISHED');
  });

  it('full snapshots leave expired values out: after a restore an expired value is gone even where visibility would still return it', async () => {
    const job = statsJob({ ttl: { ms: 1_000, visibility: 'return-expired-if-not-cleaned' } });
    // Without a restore the expired value is returned once (not cleaned up yet) …
    const plain = await testJob(job, { stateBackend, startTime: 0 });
    await plain.input<Click>('clicks').push({ user: 'ann', amount: 4 });
    await plain.advanceProcessingTime(5_000);
    await plain.input<Click>('clicks').push({ user: 'ann', amount: 4 });
    expect(plain.output<string>('out').written).toEqual(['ann:1:max=4:avg=4', 'ann:2:max=4:avg=4']);
    await plain.close();
    // … but a checkpoint taken after it expired (its first: a full snapshot) does not hold it.
    const a = await testJob(job, { stateBackend, startTime: 0 });
    await a.input<Click>('clicks').push({ user: 'ann', amount: 4 });
    await a.advanceProcessingTime(5_000);
    const cp = await a.checkpoint();
    await a.crash();
    const b = await testJob(job, { parallelism: 2, stateBackend, restoreFrom: cp });
    expect(await b.valueState('stats', 'count', 'ann')).toBeUndefined();
    await b.input<Click>('clicks').push({ user: 'ann', amount: 4 });
    expect(b.output<string>('out').written).toEqual(['ann:1:max=4:avg=4']);
    await b.close();
  });
});

/**
 * Buffers numbers in operator list state (`buffer`) and notes every subtask that opened in a union
 * list (`opened`); on 'report' emits both. Emits `subtask:n` per number, so a test knows where each went.
 */
class Buffering extends RichFlatMapFunction<number | 'report', string> {
  private buffer!: ListState<number>;
  private opened!: ListState<number>;
  private numbers!: Counter;
  private subtask = -1;
  override open(ctx: RichRuntimeContext): void {
    this.subtask = ctx.subtaskIndex;
    this.buffer = ctx.operatorState.listState<number>('buffer');
    this.opened = ctx.operatorState.unionListState<number>('opened');
    this.opened.add(ctx.subtaskIndex);
    this.numbers = ctx.metrics.counter('numbers');
  }
  flatMap(value: number | 'report', out: Collector<string>): void {
    if (value === 'report') {
      out.collect(`${this.subtask} buffer=${this.buffer.get().join(',')} opened=${[...this.opened.get()].sort().join(',')}`);
      return;
    }
    this.numbers.inc();
    this.buffer.add(value);
    out.collect(`${this.subtask}:${value}`);
  }
}

const bufferingJob = defineJob((env) => {
  env.enableCheckpointing({ intervalMs: 1_000 });
  const numbers = env.fromSource(Sources.elements<number | 'report'>([]), 'numbers').uid('numbers');
  const reports = env.fromSource(Sources.elements<number | 'report'>([]), 'reports').uid('reports');
  numbers.rebalance().union(reports.broadcast()).flatMap(new Buffering()).uid('buffering').sinkTo(Sinks.collect()).uid('out');
});

describe('operator list state of a rich function', () => {
  it('is checkpointed per subtask; a restore splits lists evenly at another parallelism and gives union lists whole', async () => {
    const a = await testJob(bufferingJob, { parallelism: 2 });
    await a.input<number>('numbers').pushAll([1, 2, 3, 4, 5, 6, 7]);
    // Where each number went (rebalance), by subtask: the checkpointed lists in old subtask order.
    const bySubtask: number[][] = [[], []];
    for (const line of a.output<string>('out').written) {
      const [s, n] = line.split(':').map(Number);
      bySubtask[s].push(n);
    }
    expect(bySubtask.flat().sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const cp = await a.checkpoint();
    await a.crash();
    const all = bySubtask.flat();

    const report = async (parallelism: number) => {
      const driver = await testJob(bufferingJob, { parallelism, restoreFrom: cp });
      const before = driver.output<string>('out').written.length;
      await driver.input<string>('reports').push('report');
      const lines = driver.output<string>('out').written.slice(before).sort();
      await driver.crash();
      return lines;
    };
    // Same parallelism: each subtask keeps its own list; the union list has both openers, plus itself again.
    expect(await report(2)).toEqual([`0 buffer=${bySubtask[0].join(',')} opened=0,0,1`, `1 buffer=${bySubtask[1].join(',')} opened=0,1,1`]);
    // Three subtasks: 7 elements cut 2, 2, 3 in old subtask order.
    expect(await report(3)).toEqual([
      `0 buffer=${all.slice(0, 2).join(',')} opened=0,0,1`,
      `1 buffer=${all.slice(2, 4).join(',')} opened=0,1,1`,
      `2 buffer=${all.slice(4).join(',')} opened=0,1,2`,
    ]);
    expect(await report(1)).toEqual([`0 buffer=${all.join(',')} opened=0,0,1`]);
  });

  it('counts into the job result: counters summed over subtasks', async () => {
    const driver = await testJob(bufferingJob, { parallelism: 2 });
    await driver.input<number>('numbers').pushAll([1, 2, 3]);
    const result = await driver.finish();
    expect(result.operators.buffering.counters).toEqual({ numbers: 3 });
    expect(result.operators.numbers.counters).toBeUndefined();
  });
});

const negative = new OutputTag<number>('negative');

/** Non-keyed process: positives out with their timestamp and the watermark seen, negatives to a side output. */
class Split extends ProcessFunction<number, string> {
  private label = '';
  override open(ctx: RichRuntimeContext): void {
    this.label = `${ctx.uid}/${ctx.subtaskIndex}of${ctx.parallelism}`;
  }
  processElement(n: number, ctx: ProcessContext, out: Collector<string>): void {
    if (n < 0) ctx.output(negative, n);
    else out.collect(`${this.label} ${n}@${ctx.timestamp} wm=${ctx.currentWatermark()} pt=${ctx.currentProcessingTime()}`);
  }
}

class Label extends RichMapFunction<number, string> {
  private prefix = '';
  override open(ctx: RichRuntimeContext): void {
    this.prefix = `${ctx.uid}@${ctx.subtaskIndex}`;
  }
  map(n: number): string {
    return `${this.prefix}:${n}`;
  }
}

describe('non-keyed process and rich map', () => {
  it('process sees timestamps, the watermark and processing time, and emits side outputs', async () => {
    const job = defineJob((env) => {
      const split = env.fromSource(Sources.elements<number>([]), 'numbers').uid('numbers').process(new Split()).uid('split');
      split.sinkTo(Sinks.collect()).uid('out');
      split.getSideOutput(negative).map(new Label()).uid('label').sinkTo(Sinks.collect()).uid('negatives');
    });
    const driver = await testJob(job, { startTime: 777 });
    const input = driver.input<number>('numbers');
    await input.pushTimed([{ value: 1, timestamp: 10 }, { value: -2, timestamp: 20 }]);
    await input.advanceWatermark(25);
    await input.push(3, { timestamp: 30 });
    await input.push(4);
    expect(driver.output<string>('out').written).toEqual(['split/0of1 1@10 wm=-Infinity pt=777', 'split/0of1 3@30 wm=25 pt=777', 'split/0of1 4@undefined wm=25 pt=777']);
    expect(driver.output<string>('negatives').written).toEqual(['label@0:-2']);
    expect(driver.output('negatives').committedRecords).toEqual([]);
    await driver.finish();
    expect(driver.output('negatives').committedRecords.map((r) => r.timestamp)).toEqual([20]);
  });
});

class Sign extends ProcessFunction<number, number> {
  processElement(n: number, ctx: ProcessContext, out: Collector<number>): void {
    if (n < 0) ctx.output(negative, n);
    else out.collect(n);
  }
}

describe('a side output keyed downstream', () => {
  it('gets only the side output records (keyBy keeps the side output it reads)', async () => {
    const job = defineJob((env) => {
      const split = env.fromSource(Sources.elements<number>([]), 'numbers').uid('numbers').process(new Sign()).uid('split');
      split.keyBy((n) => n % 3).reduce((a, b) => a + b).uid('sums').sinkTo(Sinks.collect()).uid('out');
      split.getSideOutput(negative).keyBy((n) => n % 2).reduce((a, b) => a + b).uid('negative-sums').sinkTo(Sinks.collect()).uid('negatives');
    });
    const driver = await testJob(job, { parallelism: 2 });
    await driver.input<number>('numbers').pushAll([1, -1, 2, -2, -3]);
    await driver.finish();
    expect(driver.output<number>('negatives').committed.sort((a, b) => a - b)).toEqual([-4, -2, -1]);
  });
});

interface Reading {
  readonly sensor: string;
  readonly celsius: number;
  readonly at: number;
}

describe('rolling aggregations on a keyed stream', () => {
  const job = defineJob((env) => {
    env.enableCheckpointing({ intervalMs: 1_000 });
    const keyed = env.fromSource(Sources.elements<Reading>([]), 'readings').uid('readings').keyBy((r) => r.sensor);
    keyed.sum('celsius').uid('sum').map((r) => `sum ${r.sensor} ${r.celsius} ${r.at}`).sinkTo(Sinks.collect()).uid('sums');
    keyed.min('celsius').uid('min').map((r) => `min ${r.sensor} ${r.celsius} ${r.at}`).sinkTo(Sinks.collect()).uid('mins');
    keyed.maxBy('celsius').uid('max-by').map((r) => `maxBy ${r.sensor} ${r.celsius} ${r.at}`).sinkTo(Sinks.collect()).uid('max-bys');
  });
  const readings = (from: number, celsius: number[]): Reading[] => celsius.map((c, i) => ({ sensor: i % 2 === 0 ? 'a' : 'b', celsius: c, at: from + i }));

  it('continue per key across a checkpoint and a restore at another parallelism, exactly once', async () => {
    const a = await testJob(job, { parallelism: 2 });
    await a.input<Reading>('readings').pushAll(readings(0, [10, 5, 30, 1]));
    const cp = await a.checkpoint();
    await a.input<Reading>('readings').pushAll(readings(4, [99, 99]));
    await a.crash();
    const b = await testJob(job, { parallelism: 3, restoreFrom: cp });
    await b.input<Reading>('readings').pushAll(readings(6, [20, 0]));
    await b.finish();
    const committed = (uid: string) => b.output<string>(uid).committed.slice().sort();
    // Replayed after the restore: 99 and 99 (pushed after the checkpoint), then 20 and 0.
    expect(committed('sums')).toEqual(['sum a 10 0', 'sum a 139 0', 'sum a 159 0', 'sum a 40 0', 'sum b 105 1', 'sum b 105 1', 'sum b 5 1', 'sum b 6 1'].sort());
    expect(committed('mins')).toEqual(['min a 10 0', 'min a 10 0', 'min a 10 0', 'min a 10 0', 'min b 0 1', 'min b 1 1', 'min b 1 1', 'min b 5 1'].sort());
    expect(committed('max-bys')).toEqual(['maxBy a 10 0', 'maxBy a 30 2', 'maxBy a 99 4', 'maxBy a 99 4', 'maxBy b 5 1', 'maxBy b 5 1', 'maxBy b 99 5', 'maxBy b 99 5'].sort());
  });

  it('a field of the wrong type fails the job naming the operator', async () => {
    const driver = await testJob(job);
    await driver.input<Reading>('readings').pushAll([{ sensor: 'a', celsius: 1, at: 0 }, { sensor: 'a', celsius: 'hot' as never, at: 1 }]).catch(() => {});
    const error = await driver.handle.done.catch((e: unknown) => e);
    expect(String(error)).toMatch(/operator 'sum' \(subtask 0\) failed: sum: field 'celsius' is string, not a number/);
  });
});

describe('declared params under testJob', () => {
  const job = defineJob({ params: { limit: param.number({ required: true }) } }, (env, { limit }) => {
    env.fromSource(Sources.elements<number>([]), 'numbers').uid('numbers').filter((n) => n <= limit).sinkTo(Sinks.collect()).uid('out');
  });

  it('are converted and checked before the job starts', async () => {
    await expect(testJob(job)).rejects.toBeInstanceOf(JobParamError);
    const driver = await testJob(job, { params: { limit: '2' } });
    await driver.input<number>('numbers').pushAll([1, 2, 3]);
    expect(driver.output('out').written).toEqual([1, 2]);
    await driver.close();
  });
});

// asyncMap (async I/O) in testJob: ordered and unordered results, watermarks, capacity, timeouts,
// failures, checkpoints with requests in flight, crash and restore (exactly once, rescaled).
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  AsyncTimeoutError,
  type AsyncFunctionContext,
  type Collector,
  type DataStream,
  defineJob,
  JobConfigError,
  KeyedProcessFunction,
  type KeyedProcessContext,
  Sinks,
  Sources,
  UnknownOptionError,
  UserFunctionError,
} from '../../src/index.ts';
import type { AsyncMapOptions } from '../../src/index.ts';
import { type TestDriver, testJob } from '../../src/testing/index.ts';

/** One request the job made: the test completes or fails it when it wants. */
interface Call {
  readonly value: number;
  readonly ctx: AsyncFunctionContext | undefined;
  resolve(result: string): void;
  reject(error: unknown): void;
  settled: boolean;
}

/**
 * The job's async function talks to this: in `manual` mode each call waits until the test
 * completes it; in `auto` mode it answers after `turns(value)` turns of the event loop (a latency
 * that ends by itself, deterministic in order).
 */
class Service {
  readonly calls: Call[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    readonly mode: 'manual' | 'auto',
    private readonly turns: (value: number) => number = () => 1,
  ) {}

  call(value: number, ctx?: AsyncFunctionContext): Promise<string> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise<string>((resolve, reject) => {
      const call: Call = {
        value,
        ctx,
        settled: false,
        resolve: (r) => {
          if (call.settled) return;
          call.settled = true;
          this.inFlight--;
          resolve(r);
        },
        reject: (e) => {
          if (call.settled) return;
          call.settled = true;
          this.inFlight--;
          reject(e);
        },
      };
      this.calls.push(call);
      if (this.mode === 'auto') afterTurns(this.turns(value), () => call.resolve(answer(value)));
    });
  }

  /** Completes the pending calls of `values` (in that order) with their answers. */
  complete(...values: number[]): void {
    for (const v of values) {
      const call = this.calls.find((c) => c.value === v && !c.settled);
      if (!call) throw new Error(`no pending call for ${v}`);
      call.resolve(answer(v));
    }
  }

  pending(): number[] {
    return this.calls.filter((c) => !c.settled).map((c) => c.value);
  }

  completeAll(): void {
    for (const c of this.calls) c.resolve(answer(c.value));
  }
}

const answer = (n: number) => `${n}!`;

function afterTurns(turns: number, then: () => void): void {
  if (turns <= 0) then();
  else setImmediate(() => afterTurns(turns - 1, then));
}

/** The service the jobs below call (each test sets its own). */
let service = new Service('auto');

/**
 * `numbers` → asyncMap (chained to the source, or behind a rebalance: a network edge) → `out`.
 * Parallelism of the asyncMap and sink: the job's.
 */
const asyncJob = (options: AsyncMapOptions<number, string> = {}, shape: { networkEdge?: boolean; mode?: 'aligned' | 'unaligned'; withContext?: boolean } = {}) =>
  defineJob((env) => {
    env.enableCheckpointing({ intervalMs: 1_000, mode: shape.mode ?? 'aligned' });
    let numbers: DataStream<number> = env.fromSource(Sources.elements<number>([]), 'numbers').uid('numbers');
    if (shape.networkEdge) numbers = numbers.rebalance();
    numbers
      .asyncMap(shape.withContext ? (n: number, ctx: AsyncFunctionContext) => service.call(n, ctx) : (n: number) => service.call(n), options)
      .uid('lookup')
      .sinkTo(Sinks.collect())
      .uid('out');
  });

/**
 * Lets the job process what it can without waiting for requests in flight: the driver's clock
 * steps do not wait for them (they may be waiting for processing time), input steps do.
 */
const processQueued = (driver: TestDriver) => driver.advanceProcessingTime(0);

describe('asyncMap: result order', () => {
  it('ordered (default): results leave in input order; a completed one waits for those before it', async () => {
    service = new Service('manual');
    const driver = await testJob(asyncJob());
    const pushed = driver.input<number>('numbers').pushAll([1, 2, 3]);
    await processQueued(driver);
    expect(service.pending()).toEqual([1, 2, 3]);
    service.complete(3, 2);
    await processQueued(driver);
    expect(driver.output('out').written).toEqual([]);
    service.complete(1);
    await pushed;
    expect(driver.output('out').written).toEqual(['1!', '2!', '3!']);
    await driver.close();
  });

  it('unordered: results leave as they complete', async () => {
    service = new Service('manual');
    const driver = await testJob(asyncJob({ ordered: false }));
    const pushed = driver.input<number>('numbers').pushAll([1, 2, 3]);
    await processQueued(driver);
    service.complete(3);
    await processQueued(driver);
    expect(driver.output('out').written).toEqual(['3!']);
    service.complete(1, 2);
    await pushed;
    expect(driver.output('out').written).toEqual(['3!', '1!', '2!']);
    await driver.close();
  });

  it('await push() resolves once the results of requests with latency are out', async () => {
    // Latency that ends by itself: 5, 1 and 3 turns of the event loop.
    service = new Service('auto', (n) => n);
    const ordered = await testJob(asyncJob(), { parallelism: 2 });
    await ordered.input<number>('numbers').pushAll([5, 1, 3]);
    expect(ordered.output<string>('out').written.sort()).toEqual(['1!', '3!', '5!']);
    await ordered.close();

    service = new Service('auto', (n) => n);
    const unordered = await testJob(asyncJob({ ordered: false }));
    await unordered.input<number>('numbers').pushAll([5, 1, 3]);
    expect(unordered.output('out').written).toEqual(['1!', '3!', '5!']);
    await unordered.close();
  });
});

/** Emits each record with the watermark its operator had seen when it arrived. */
class SeenWatermark extends KeyedProcessFunction<number, string, string> {
  processElement(value: string, ctx: KeyedProcessContext<number>, out: Collector<string>): void {
    out.collect(`${value}@${ctx.timerService.currentWatermark()}`);
  }
}

const watermarkJob = (ordered: boolean) =>
  defineJob((env) => {
    env.fromSource(Sources.elements<number>([]), 'numbers').uid('numbers').asyncMap((n: number) => service.call(n), { ordered }).uid('lookup').keyBy(() => 0).process(new SeenWatermark()).uid('seen').sinkTo(Sinks.collect()).uid('out');
  });

describe('asyncMap: watermarks', () => {
  for (const ordered of [false, true]) {
    it(`${ordered ? 'ordered' : 'unordered'}: a result never overtakes a watermark, and the watermark waits for the records before it`, async () => {
      service = new Service('manual');
      const driver = await testJob(watermarkJob(ordered));
      const input = driver.input<number>('numbers');
      const steps = [input.pushTimed([{ value: 1, timestamp: 10 }]), input.advanceWatermark(15), input.pushTimed([{ value: 2, timestamp: 20 }])];
      await processQueued(driver);
      expect(service.pending()).toEqual([1, 2]);
      // 2 is after the watermark: it waits for it, and the watermark waits for 1.
      service.complete(2);
      await processQueued(driver);
      expect(driver.output('out').written).toEqual([]);
      service.complete(1);
      await Promise.all(steps);
      expect(driver.output('out').written).toEqual(['1!@-Infinity', '2!@15']);
      await driver.close();
    });
  }

  it('unordered: records between the same two watermarks still leave as they complete', async () => {
    service = new Service('manual');
    const driver = await testJob(watermarkJob(false));
    const input = driver.input<number>('numbers');
    const steps = [input.advanceWatermark(5), input.pushTimed([{ value: 1, timestamp: 10 }, { value: 2, timestamp: 11 }])];
    await processQueued(driver);
    service.complete(2);
    await processQueued(driver);
    expect(driver.output('out').written).toEqual(['2!@5']);
    service.complete(1);
    await Promise.all(steps);
    expect(driver.output('out').written).toEqual(['2!@5', '1!@5']);
    await driver.close();
  });
});

describe('asyncMap: capacity', () => {
  for (const networkEdge of [false, true]) {
    it(`at capacity the subtask stops taking input until a request completes (${networkEdge ? 'behind a network edge' : 'chained to the source'})`, async () => {
      service = new Service('manual');
      const driver = await testJob(asyncJob({ capacity: 2, ordered: false }, { networkEdge }));
      const pushed = driver.input<number>('numbers').pushAll([1, 2, 3, 4, 5]);
      await processQueued(driver);
      expect(service.pending()).toEqual([1, 2]);
      service.complete(2);
      await processQueued(driver);
      expect(service.pending()).toEqual([1, 3]);
      expect(driver.output('out').written).toEqual(['2!']);
      service.complete(1, 3);
      await processQueued(driver);
      expect(service.pending()).toEqual([4, 5]);
      service.complete(5, 4);
      await pushed;
      expect(driver.output('out').written).toEqual(['2!', '1!', '3!', '5!', '4!']);
      expect(service.maxInFlight).toBe(2);
      await driver.close();
    });
  }

  it('ordered: a completed result waiting for an earlier one keeps its slot', async () => {
    service = new Service('manual');
    const driver = await testJob(asyncJob({ capacity: 2 }));
    const pushed = driver.input<number>('numbers').pushAll([1, 2, 3]);
    await processQueued(driver);
    service.complete(2);
    await processQueued(driver);
    // 2 is done but waits for 1: the queue is still full, 3 is not issued.
    expect(service.calls.map((c) => c.value)).toEqual([1, 2]);
    service.complete(1);
    await processQueued(driver);
    expect(service.pending()).toEqual([3]);
    service.complete(3);
    await pushed;
    expect(driver.output('out').written).toEqual(['1!', '2!', '3!']);
    await driver.close();
  });

  it('a chained producer emitting several records per input fills a backlog, issued as capacity frees up', async () => {
    service = new Service('manual');
    const job = defineJob((env) => {
      env
        .fromSource(Sources.elements<number>([]), 'numbers')
        .uid('numbers')
        .flatMap((n: number, out: Collector<number>) => {
          for (let i = 0; i < 4; i++) out.collect(n * 10 + i);
        })
        .uid('fan-out')
        .asyncMap((n: number) => service.call(n), { capacity: 2 })
        .uid('lookup')
        .sinkTo(Sinks.collect())
        .uid('out');
    });
    const driver = await testJob(job);
    const pushed = driver.input<number>('numbers').pushAll([1, 2]);
    await processQueued(driver);
    expect(service.pending()).toEqual([10, 11]);
    for (let round = 0; round < 3; round++) {
      service.completeAll();
      await processQueued(driver);
    }
    service.completeAll();
    await pushed;
    expect(driver.output('out').written).toEqual(['10!', '11!', '12!', '13!', '20!', '21!', '22!', '23!']);
    expect(service.maxInFlight).toBe(2);
    await driver.close();
  });
});

describe('asyncMap: timeouts and failures', () => {
  it("fails the job with AsyncTimeoutError naming the operator once a request exceeds timeoutMs (processing time)", async () => {
    service = new Service('manual');
    const driver = await testJob(asyncJob({ timeoutMs: 1_000 }, { withContext: true }), { startTime: 0 });
    void driver.input<number>('numbers').push(1).catch(() => {});
    await driver.advanceProcessingTime(999);
    const signal = service.calls[0].ctx!.signal;
    expect(signal.aborted).toBe(false);
    const failure = await driver.advanceProcessingTime(1).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(AsyncTimeoutError);
    expect(failure).toMatchObject({ code: 'BATON_ERR_ASYNC_TIMEOUT', operatorUid: 'lookup', subtaskIndex: 0, timeoutMs: 1_000 });
    expect(signal.aborted).toBe(true);
    await driver.close();
  });

  it('onTimeout: the fallback is the result (undefined: none); a late completion is ignored; the timer covers each request', async () => {
    service = new Service('manual');
    const driver = await testJob(asyncJob({ timeoutMs: 1_000, onTimeout: (n) => (n % 2 === 0 ? undefined : `${n}?`) }), { startTime: 0 });
    const input = driver.input<number>('numbers');
    const first = input.pushAll([1, 2]);
    await driver.advanceProcessingTime(500);
    const second = input.pushAll([3]);
    await processQueued(driver);
    await driver.advanceProcessingTime(500);
    // 1 and 2 timed out at 1 000 (2 dropped), 3 is due at 1 500.
    expect(driver.output('out').written).toEqual(['1?']);
    service.complete(1, 2);
    await driver.advanceProcessingTime(499);
    expect(driver.output('out').written).toEqual(['1?']);
    await driver.advanceProcessingTime(1);
    await Promise.all([first, second]);
    expect(driver.output('out').written).toEqual(['1?', '3?']);
    await driver.close();
  });

  it('a rejected request fails the job with a UserFunctionError naming the operator', async () => {
    service = new Service('manual');
    const driver = await testJob(asyncJob());
    const pushed = driver.input<number>('numbers').push(1).then(
      () => undefined,
      (e: unknown) => e,
    );
    await processQueued(driver);
    service.calls[0].reject(new Error('lookup service down'));
    const failure = await pushed;
    expect(failure).toBeInstanceOf(UserFunctionError);
    expect(failure).toMatchObject({ operatorUid: 'lookup', originalMessage: 'lookup service down' });
    await driver.close();
  });

  it('the context names the subtask and carries the record time', async () => {
    service = new Service('auto');
    const driver = await testJob(asyncJob({}, { withContext: true, networkEdge: true }), { parallelism: 2 });
    await driver.input<number>('numbers').pushTimed([
      { value: 1, timestamp: 100 },
      { value: 2, timestamp: 200 },
    ]);
    // Rebalanced: one record to each subtask.
    const seen = service.calls.map((c) => [c.value, c.ctx!.parallelism, c.ctx!.uid, c.ctx!.timestamp]).sort();
    expect(seen).toEqual([
      [1, 2, 'lookup', 100],
      [2, 2, 'lookup', 200],
    ]);
    expect(service.calls.map((c) => c.ctx!.subtaskIndex).sort()).toEqual([0, 1]);
    await driver.close();
  });

  it('is typed end to end: the result type comes from the promise, onTimeout must give the same', () => {
    const job = defineJob((env) => {
      const numbers = env.fromSource(Sources.elements<number>([]), 'numbers');
      const looked = numbers.asyncMap(async (n) => ({ n, label: `#${n}` }), { onTimeout: (n) => ({ n, label: '?' }) });
      expectTypeOf(looked).toEqualTypeOf<DataStream<{ n: number; label: string }>>();
      const withContext = numbers.asyncMap((n, ctx) => Promise.resolve(ctx.subtaskIndex + n));
      expectTypeOf(withContext).toEqualTypeOf<DataStream<number>>();
      // @ts-expect-error a fallback of another type than the result
      numbers.asyncMap(async (n) => `${n}`, { onTimeout: (n) => n });
      looked.sinkTo(Sinks.collect());
    });
    expect(job.buildGraph({ parallelism: 1, maxParallelism: 128, params: {} }).nodes.map((n) => n.type)).toContain('asyncMap');
  });

  it('options are checked when the job is built', () => {
    const build = (options: object) => () => asyncJob(options as AsyncMapOptions<number, string>).buildGraph({ parallelism: 1, maxParallelism: 128, params: {} });
    expect(build({ capacity: 0 })).toThrow(JobConfigError);
    expect(build({ capacity: 1.5 })).toThrow(/asyncMap capacity/);
    expect(build({ timeoutMs: -1 })).toThrow(/asyncMap timeoutMs/);
    expect(build({ onTimeout: 'ignore' })).toThrow(/asyncMap onTimeout/);
    expect(build({ timeout: 5 })).toThrow(UnknownOptionError);
    expect(build({ timeoutMs: Number.POSITIVE_INFINITY, ordered: false })).not.toThrow();
  });
});

describe('asyncMap: checkpoints', () => {
  /** Everything an uninterrupted run of `values` commits (auto service), sorted. */
  async function uninterrupted(job: ReturnType<typeof asyncJob>, values: number[], parallelism: number): Promise<string[]> {
    service = new Service('auto');
    const driver = await testJob(job, { parallelism });
    await driver.input<number>('numbers').pushAll(values);
    await driver.finish();
    return driver.output<string>('out').committed.sort();
  }

  // Aligned: below capacity (a held subtask behind a network edge takes an aligned barrier only
  // once capacity frees up, see below). Unaligned: at capacity, input held; the barrier overtakes it.
  const cases = [
    { ordered: true, mode: 'aligned', capacity: 100, from: 2, to: 3 },
    { ordered: false, mode: 'aligned', capacity: 100, from: 2, to: 1 },
    { ordered: true, mode: 'unaligned', capacity: 4, from: 2, to: 2 },
    { ordered: false, mode: 'unaligned', capacity: 4, from: 1, to: 1 },
  ] as const;
  for (const { ordered, mode, capacity, from, to } of cases) {
    it(`${ordered ? 'ordered' : 'unordered'}, ${mode}, capacity ${capacity}: requests in flight at a checkpoint are issued again after a crash and restore (parallelism ${from} -> ${to}); output exactly once`, async () => {
      const values = Array.from({ length: 30 }, (_, i) => i + 1);
      const job = asyncJob({ ordered, capacity }, { networkEdge: true, mode });
      const expected = await uninterrupted(job, values, from);
      expect(expected).toEqual(values.map(answer).sort());

      service = new Service('manual');
      const first = await testJob(job, { parallelism: from });
      const input = first.input<number>('numbers');
      void input.pushAll(values.slice(0, 12)).catch(() => {});
      await processQueued(first);
      // Some requests complete, the rest stay in flight (and the input behind them waits).
      service.complete(...service.pending().filter((v) => v % 3 === 0));
      await processQueued(first);
      const inFlight = service.pending();
      expect(inFlight.length).toBeGreaterThan(0);
      const cp = await first.checkpoint();
      // Everything emitted so far is committed; nothing of what is in flight.
      const committed = first.output<string>('out').committed;
      for (const v of inFlight) expect(committed).not.toContain(answer(v));
      // After the checkpoint: more completes and is emitted (uncommitted), then the crash loses it.
      service.complete(...inFlight.slice(0, 1));
      await processQueued(first);
      await first.crash();

      service = new Service('auto');
      const second = await testJob(job, { parallelism: to, restoreFrom: cp });
      await second.input<number>('numbers').pushAll(values.slice(12));
      await second.finish();
      expect(second.output<string>('out').committed.sort()).toEqual(expected);
      // The requests in flight at the checkpoint were issued again.
      for (const v of inFlight) expect(service.calls.map((c) => c.value)).toContain(v);
    });
  }

  it('a checkpoint reaches a subtask held at capacity (chained to the source): its requests in flight are in it', async () => {
    service = new Service('manual');
    const job = asyncJob({ capacity: 2 });
    const driver = await testJob(job);
    void driver.input<number>('numbers').pushAll([1, 2, 3, 4]).catch(() => {});
    await processQueued(driver);
    expect(service.pending()).toEqual([1, 2]);
    const cp = await driver.checkpoint();
    await driver.crash();
    service = new Service('auto');
    const restored = await testJob(job, { restoreFrom: cp });
    await restored.finish();
    expect(restored.output('out').committed).toEqual(['1!', '2!', '3!', '4!']);
  });

  it('aligned, behind a network edge: the barrier waits behind the held input until capacity frees up (as in Flink)', async () => {
    service = new Service('manual');
    const driver = await testJob(asyncJob({ capacity: 1 }, { networkEdge: true }));
    void driver.input<number>('numbers').pushAll([1, 2, 3]).catch(() => {});
    await processQueued(driver);
    let taken = false;
    const checkpoint = driver.checkpoint().then((cp) => {
      taken = true;
      return cp;
    });
    await processQueued(driver);
    expect(taken).toBe(false);
    for (const v of [1, 2, 3]) {
      await processQueued(driver);
      if (service.pending().includes(v)) service.complete(v);
    }
    const cp = await checkpoint;
    expect(taken).toBe(true);
    await driver.crash();
    service = new Service('auto');
    const restored = await testJob(asyncJob({ capacity: 1 }, { networkEdge: true }), { restoreFrom: cp });
    await restored.finish();
    expect(restored.output('out').committed).toEqual(['1!', '2!', '3!']);
  });

  it('unaligned, behind a network edge: the barrier overtakes the held input; the checkpoint completes with requests in flight', async () => {
    service = new Service('manual');
    const job = asyncJob({ capacity: 1 }, { networkEdge: true, mode: 'unaligned' });
    const driver = await testJob(job);
    void driver.input<number>('numbers').pushAll([1, 2, 3]).catch(() => {});
    await processQueued(driver);
    expect(service.pending()).toEqual([1]);
    const cp = await driver.checkpoint();
    expect(service.pending()).toEqual([1]);
    await driver.crash();
    service = new Service('auto');
    const restored = await testJob(job, { restoreFrom: cp });
    await restored.finish();
    expect(restored.output('out').committed).toEqual(['1!', '2!', '3!']);
  });

  it('the end of input waits for requests in flight before the final checkpoint', async () => {
    service = new Service('manual');
    const driver = await testJob(asyncJob({}, { networkEdge: true }), { parallelism: 2 });
    void driver.input<number>('numbers').pushAll([1, 2, 3, 4]).catch(() => {});
    await processQueued(driver);
    const finished = driver.finish();
    await processQueued(driver);
    expect(driver.handle.status).toBe('RUNNING');
    expect(driver.output('out').committed).toEqual([]);
    service.completeAll();
    const result = await finished;
    expect(result.status).toBe('FINISHED');
    expect(driver.output<string>('out').committed.sort()).toEqual(['1!', '2!', '3!', '4!']);
  });
});

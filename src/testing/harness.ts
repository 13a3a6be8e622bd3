// harness: one keyed function (process, window or reduce) under test. It is not a model of an
// operator: the harness defines a three-node job (test input → keyBy → the function → a recording
// sink) and drives it with testJob, so state, timers, watermarks, key groups and checkpoints are
// those of a real job.
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { checkpointDir, SHARED_DIR } from '../checkpoint/index.ts';
import { TEMP_MARKER } from '../checkpoint/storage/storage-key.ts';
import { defineJob } from '../api/index.ts';
import { Sources } from '../api/index.ts';
import type { DataStream } from '../api/index.ts';
import type { WindowedStream } from '../api/index.ts';
import type { TumblingEventTimeWindows } from '../api/index.ts';
import type { KeyedStream } from '../api/index.ts';
import { JobConfigError } from '../runtime/index.ts';
import { isTerminal } from '../runtime/lifecycle/job-status.ts';
import type { WindowResultFunction } from '../runtime/operators/window/types.ts';
import type { AggregateFunction, KeyedProcessFunctionLike, TimeWindow } from '../runtime/operators/types.ts';
import { parseOptions } from '../runtime/coordinator/run-options.ts';
import { NO_TIMESTAMP, type Sink, type SinkContext, type SinkWriter } from '../runtime/types.ts';
import type { KeyValue } from '../state/index.ts';
import { TestDriverStateError } from './errors.ts';
import type { SinkRecord } from './sink-log.ts';
import { InputLog } from './test-input.ts';
import { TestCheckpoint, type TestDriver, type TestInput, testJob } from './test-job.ts';

/** uids of the harness job's nodes (state and checkpoints are keyed by them). */
const INPUT_UID = 'harness-input';
const FUNCTION_UID = 'function';
const OUTPUT_UID = 'harness-output';

/** What the harness wraps: decides how its snapshots may be restored. */
type HarnessKind = 'process' | 'window' | 'reduce';

const HarnessOptionsSchema = z
  .object({
    key: z.custom<(value: never) => KeyValue>((v) => typeof v === 'function', 'must be a key selector function (value) => key'),
    parallelism: z.number().int().min(1).max(256).default(1),
    maxParallelism: z.number().int().min(1).optional(),
    stateBackend: z.enum(['lmdb', 'heap']).default('lmdb'),
    startTime: z.number().int().optional(),
    restoreFrom: z.custom<HarnessSnapshot>((v) => v instanceof HarnessSnapshot, 'must be a snapshot from harness.snapshot()').optional(),
  })
  .strict();

/** Options of {@link harness}'s entry points. */
export interface HarnessOptions<T, K extends KeyValue> {
  /** The key selector, as given to `keyBy`: elements with equal keys share state and timers. */
  readonly key: (value: T) => K;
  /**
   * Subtasks of the function (default 1). Keys spread over them by key group as in a job; above 1
   * a process function must be given as a factory (each subtask needs its own instance).
   */
  readonly parallelism?: number;
  readonly maxParallelism?: number;
  /** Keyed state backend (default `'lmdb'`, as runJob). */
  readonly stateBackend?: 'lmdb' | 'heap';
  /** Processing time at the start (ms; default 0, or the snapshot's when restoring). */
  readonly startTime?: number;
  /** Starts from a snapshot of an earlier harness of the same kind: its state and pending timers carry on. */
  readonly restoreFrom?: HarnessSnapshot;
}

/** One element for {@link KeyedHarness.processElements}: a value and its event time (none if omitted). */
export interface HarnessElement<T> {
  readonly value: T;
  readonly timestamp?: number;
}

/**
 * A snapshot of a harness (a completed checkpoint of its job). Restore it with
 * `harness.process(fn, { key, restoreFrom: snapshot })` (or `.window` / `.reduce`, whichever took
 * it): the new harness starts with the state, pending event- and processing-time timers and
 * processing time of the moment it was taken, and nothing pushed after it. The watermark is not
 * part of it (as in a job, a restored operator waits for a new watermark).
 */
export class HarnessSnapshot {
  /** @internal */
  constructor(
    /** @internal */
    readonly kind: HarnessKind,
    /** @internal The checkpoint, with an input log cut at the snapshot (nothing after it is replayed). */
    readonly checkpoint: TestCheckpoint,
  ) {}

  /** The checkpoint id behind it. */
  get id(): number {
    return this.checkpoint.id;
  }

  /** Processing time when it was taken: a harness restored from it starts there. */
  get processingTime(): number {
    return this.checkpoint.processingTime;
  }
}

/**
 * One keyed function running as it would in a job, stepped by the test. Every step resolves once
 * the function has processed all it can (timers due included): read output and state right after.
 * If the function throws, that step rejects with the job's error (a UserFunctionError naming the
 * operator) and the harness has ended.
 */
export class KeyedHarness<K extends KeyValue, I, O> {
  readonly #records: SinkRecord<O>[];
  readonly #input: TestInput<I>;

  /** @internal */
  constructor(
    /** The testJob driver underneath (uids: input `harness-input`, function `function`, sink `harness-output`). */
    readonly driver: TestDriver,
    private readonly kind: HarnessKind,
    records: SinkRecord<O>[],
  ) {
    this.#records = records;
    this.#input = driver.input<I>(INPUT_UID);
  }

  /**
   * Values the function emitted so far, in arrival order (per key in emission order; across
   * subtasks, as the sink received them). Not cleared by reading.
   *
   * @example
   * await h.processElement({ user: 'ann' }, 1_000);
   * expect(h.output).toEqual(['ann:1']);
   */
  get output(): O[] {
    return this.#records.map((r) => r.value);
  }

  /**
   * Emitted records with their event time (`undefined`: none, e.g. from a processing-time timer)
   * and the subtask that emitted them.
   *
   * @example expect(h.outputRecords[0]).toMatchObject({ value: 'ann:1', timestamp: 1_000 });
   */
  get outputRecords(): ReadonlyArray<SinkRecord<O>> {
    return this.#records;
  }

  /**
   * Current processing time of the harness (ms); it only moves when the test moves it.
   *
   * @example expect(h.processingTime).toBe(0);
   */
  get processingTime(): number {
    return this.driver.processingTime;
  }

  /**
   * Feeds one element with its event time (`timestamp`; omitted: the element has none, as from a
   * source without event time). Records keep the timestamp given: the harness job has no
   * watermark assigner, so the watermark moves only with {@link processWatermark}.
   *
   * @example await h.processElement({ user: 'ann', amount: 3 }, 1_000);
   */
  async processElement(value: I, timestamp?: number): Promise<void> {
    await this.processElements([{ value, ...(timestamp === undefined ? {} : { timestamp }) }]);
  }

  /**
   * Feeds several elements, each with its own event time, in order.
   *
   * @example await h.processElements([{ value: a, timestamp: 1_000 }, { value: b, timestamp: 2_000 }]);
   */
  async processElements(elements: ReadonlyArray<HarnessElement<I>>): Promise<void> {
    await this.step(() => this.#input.pushTimed(elements.map((e) => ({ value: e.value, timestamp: e.timestamp ?? NO_TIMESTAMP }))));
  }

  /**
   * Advances the event-time watermark to `watermark`: event-time timers (and windows) at or before
   * it fire, in time order. A watermark not above the current one changes nothing, as in a job.
   *
   * @example await h.processWatermark(59_999); // fires the window [0, 60 000)
   */
  async processWatermark(watermark: number): Promise<void> {
    await this.step(() => this.#input.advanceWatermark(watermark));
  }

  /**
   * Moves processing time to `at` (never backwards): processing-time timers due by then fire, in
   * time order.
   *
   * @example await h.setProcessingTime(60_000);
   */
  async setProcessingTime(at: number): Promise<void> {
    await this.step(() => this.driver.setProcessingTime(at));
  }

  /**
   * Moves processing time forward by `ms` (see {@link setProcessingTime}).
   *
   * @example await h.advanceProcessingTime(10_000);
   */
  async advanceProcessingTime(ms: number): Promise<void> {
    await this.step(() => this.driver.advanceProcessingTime(ms));
  }

  /**
   * The function's value state `name` for `key`, as the function would read it now.
   *
   * @example expect(await h.valueState<number>('count', 'ann')).toBe(2);
   */
  async valueState<T>(name: string, key: K): Promise<T | undefined> {
    return this.driver.valueState<T>(FUNCTION_UID, name, key);
  }

  /**
   * The function's map state `name` for `key`, as entries.
   *
   * @example expect(await h.mapState<string, number>('per-page', 'ann')).toEqual([['/home', 2]]);
   */
  async mapState<UK, UV>(name: string, key: K): Promise<Array<[UK, UV]>> {
    return this.driver.mapState<UK, UV>(FUNCTION_UID, name, key);
  }

  /**
   * The function's list state `name` for `key`.
   *
   * @example expect(await h.listState<string>('seen', 'ann')).toEqual(['/home']);
   */
  async listState<T>(name: string, key: K): Promise<T[]> {
    return this.driver.listState<T>(FUNCTION_UID, name, key);
  }

  /**
   * Takes a snapshot (a checkpoint of the harness job) of everything processed so far. The harness
   * goes on running; restore the snapshot into new harnesses of the same kind with `restoreFrom`,
   * as many as wanted, while this one runs or after: each restore gets a copy of its own.
   *
   * @example
   * const snap = await h.snapshot();
   * await h.close();
   * const h2 = await harness.process(() => new CountPerKey(), { key: (c: Click) => c.user, restoreFrom: snap });
   */
  async snapshot(): Promise<HarnessSnapshot> {
    const cp = await this.step(() => this.driver.checkpoint());
    // testJob restores read the input log on from the checkpoint, replaying what was pushed after
    // it, as a broker would. A harness restore starts from the snapshot alone (as Flink's
    // initializeState): give it the log as it stands now, which ends where the checkpoint's offset is.
    const log = new InputLog<unknown>(INPUT_UID, 1);
    log.partitions[0].push(...(cp.inputs.get(INPUT_UID)?.partitions[0] ?? []));
    const checkpoint = new TestCheckpoint(cp.id, cp.jobId, cp.storage, cp.processingTime, new Map([[INPUT_UID, log]]), new Map());
    return new HarnessSnapshot(this.kind, checkpoint);
  }

  /**
   * Ends the harness (its job is canceled; the state goes with it). Snapshots stay restorable.
   *
   * @example await h.close();
   */
  async close(): Promise<void> {
    await this.driver.close();
  }

  /** Runs a step; if the job ended meanwhile (the function threw), rejects with why. */
  private async step<R>(run: () => Promise<R>): Promise<R> {
    const result = await run();
    const handle = this.driver.handle;
    if (isTerminal(handle.status)) {
      // A failure rejects `done` with the job's error (a UserFunctionError for a throwing function).
      const ended = await handle.done;
      throw new TestDriverStateError(`the harness's job ended (${ended.status})`);
    }
    return result;
  }
}

/** A harness around a tumbling event-time window aggregate. */
export class WindowHarness<K extends KeyValue, T, ACC, O> extends KeyedHarness<K, T, O> {
  /** @internal */
  constructor(
    driver: TestDriver,
    kind: HarnessKind,
    records: SinkRecord<O>[],
    private readonly sizeMs: number,
  ) {
    super(driver, kind, records);
  }

  /**
   * The windows of `key` not fired yet, with their accumulators, oldest first.
   *
   * @example expect(await h.pendingWindows('ann')).toEqual([{ window: { start: 0, end: 60_000 }, accumulator: 2 }]);
   */
  async pendingWindows(key: K): Promise<Array<{ window: TimeWindow; accumulator: ACC }>> {
    const entries = await this.driver.mapState<number, ACC>(FUNCTION_UID, 'window-accumulators', key);
    return entries.sort(([a], [b]) => a - b).map(([start, accumulator]) => ({ window: { start, end: start + this.sizeMs }, accumulator }));
  }
}

/** A harness around a rolling reduce. */
export class ReduceHarness<K extends KeyValue, T> extends KeyedHarness<K, T, T> {
  /**
   * The reduced value of `key` so far (undefined: no element of that key yet).
   *
   * @example expect(await h.reduced('ann')).toBe(7);
   */
  async reduced(key: K): Promise<T | undefined> {
    return this.driver.valueState<T>(FUNCTION_UID, 'reduce', key);
  }
}

/** A process function, or a factory that makes one per subtask (needed at parallelism above 1). */
export type ProcessFunctionSource<K extends KeyValue, I, O> = KeyedProcessFunctionLike<K, I, O> | (() => KeyedProcessFunctionLike<K, I, O>);

/** An aggregate function, or a factory that makes one per subtask. */
export type AggregateFunctionSource<T, ACC, R> = AggregateFunction<T, ACC, R> | (() => AggregateFunction<T, ACC, R>);

/** Process function instances of running harnesses: an instance opened twice would serve two jobs' state. */
const instancesInUse = new WeakMap<object, TestDriver>();

/** The job around the function, run by testJob; `records` receives the function's output. */
async function start<T, K extends KeyValue, O, H extends KeyedHarness<K, T, O>>(
  kind: HarnessKind,
  options: HarnessOptions<T, K>,
  apply: (keyed: KeyedStream<T, K>) => DataStream<O>,
  make: (driver: TestDriver, records: SinkRecord<O>[]) => H,
  instance?: object,
): Promise<H> {
  const o = parseOptions(HarnessOptionsSchema, options);
  if (o.restoreFrom && o.restoreFrom.kind !== kind) {
    throw new JobConfigError('harness restoreFrom', `a snapshot of a ${o.restoreFrom.kind} harness cannot be restored into a ${kind} harness (the function's state would not match)`);
  }
  if (instance !== undefined) {
    // testJob builds the graph per subtask, as worker threads do; one instance (its state handles
    // set in open) cannot be two subtasks, nor the function of two running harnesses.
    if (o.parallelism > 1) {
      throw new JobConfigError('harness.process fn', `an instance serves one subtask: at parallelism ${o.parallelism} pass a factory, e.g. () => new MyFunction()`);
    }
    const owner = instancesInUse.get(instance);
    if (owner && !isTerminal(owner.handle.status)) {
      throw new JobConfigError('harness.process fn', 'this instance runs in another harness that is not closed: close it first, or pass a new instance or a factory');
    }
  }
  const key = o.key as unknown as (value: T) => K;
  const records: SinkRecord<O>[] = [];
  const job = defineJob((env) => {
    apply(env.fromSource(Sources.elements<T>([]), 'harness input').uid(INPUT_UID).keyBy(key))
      .uid(FUNCTION_UID)
      .sinkTo(recordingSink(records))
      .uid(OUTPUT_UID);
  });
  const driver = await testJob(job, {
    parallelism: o.parallelism,
    ...(o.maxParallelism === undefined ? {} : { maxParallelism: o.maxParallelism }),
    stateBackend: o.stateBackend,
    ...(o.startTime === undefined ? {} : { startTime: o.startTime }),
    ...(o.restoreFrom ? { restoreFrom: privateCopy(o.restoreFrom.checkpoint) } : {}),
  });
  if (instance !== undefined) instancesInUse.set(instance, driver);
  return make(driver, records);
}

/**
 * A harness for a KeyedProcessFunction. `fn` is an instance (parallelism 1 only, and one running
 * harness at a time: the subtask opens it and keeps its state handles) or a factory `() => fn`,
 * called for every build of the job graph (testJob builds one per subtask, as threads do, plus
 * one for the coordinator; only the subtasks' instances are opened).
 *
 * @example
 * const h = await harness.process(new CountPerKey(), { key: (c: Click) => c.user });
 * await h.processElement({ user: 'ann' }, 1_000);
 * expect(h.output).toEqual(['ann:1']);
 * expect(await h.valueState<number>('count', 'ann')).toBe(1);
 * await h.close();
 */
async function processHarness<K extends KeyValue, I, O>(fn: ProcessFunctionSource<K, I, O>, options: HarnessOptions<I, K>): Promise<KeyedHarness<K, I, O>> {
  const isFactory = typeof fn === 'function';
  if (!isFactory && (typeof fn !== 'object' || fn === null || typeof fn.processElement !== 'function')) {
    throw new JobConfigError('harness.process fn', 'expected a KeyedProcessFunction (an object with processElement) or a factory () => function');
  }
  const make = isFactory ? fn : () => fn;
  return start<I, K, O, KeyedHarness<K, I, O>>(
    'process',
    options,
    (keyed) => keyed.process(make()),
    (driver, records) => new KeyedHarness(driver, 'process', records),
    isFactory ? undefined : fn,
  );
}

/**
 * A harness for a tumbling event-time window with an incremental aggregate (and an optional
 * result function of key, window and result), as `keyBy(key).window(assigner).aggregate(...)`. A
 * window fires when the watermark reaches its last millisecond; a record whose window has already
 * fired is dropped (late), as the operator does. `aggregate` may be an instance at any
 * parallelism (the operator only calls it, it must keep nothing between calls) or a factory.
 *
 * @example
 * const count = { createAccumulator: () => 0, add: (_c: Click, n: number) => n + 1, getResult: (n: number) => n };
 * const h = await harness.window(TumblingEventTimeWindows.of(60_000), count, (user, w, n) => `${user}@${w.start}=${n}`, { key: (c: Click) => c.user });
 * await h.processElement({ user: 'ann' }, 1_000);
 * await h.processWatermark(59_999);
 * expect(h.output).toEqual(['ann@0=1']);
 */
function windowHarness<K extends KeyValue, T, ACC, R>(
  assigner: TumblingEventTimeWindows,
  aggregate: AggregateFunctionSource<T, ACC, R>,
  options: HarnessOptions<T, K>,
): Promise<WindowHarness<K, T, ACC, R>>;
function windowHarness<K extends KeyValue, T, ACC, R, O>(
  assigner: TumblingEventTimeWindows,
  aggregate: AggregateFunctionSource<T, ACC, R>,
  resultFn: WindowResultFunction<K, R, O>,
  options: HarnessOptions<T, K>,
): Promise<WindowHarness<K, T, ACC, O>>;
async function windowHarness<K extends KeyValue, T, ACC, R, O>(
  assigner: TumblingEventTimeWindows,
  aggregate: AggregateFunctionSource<T, ACC, R>,
  resultOrOptions: WindowResultFunction<K, R, O> | HarnessOptions<T, K>,
  maybeOptions?: HarnessOptions<T, K>,
): Promise<WindowHarness<K, T, ACC, O>> {
  const resultFn = typeof resultOrOptions === 'function' ? resultOrOptions : undefined;
  const options = typeof resultOrOptions === 'function' ? maybeOptions : resultOrOptions;
  if (options === undefined) throw new JobConfigError('harness.window options', 'expected { key, ... } after the result function');
  const make = typeof aggregate === 'function' ? aggregate : () => aggregate;
  const window = (keyed: KeyedStream<T, K>): WindowedStream<T, K> => keyed.window(assigner);
  return start<T, K, O, WindowHarness<K, T, ACC, O>>(
    'window',
    options,
    // Without a result function the output is R (O is then R, by the overloads).
    (keyed) => (resultFn ? window(keyed).aggregate(make(), resultFn) : (window(keyed).aggregate(make()) as DataStream<unknown> as DataStream<O>)),
    (driver, records) => new WindowHarness(driver, 'window', records, assigner.sizeMs),
  );
}

/**
 * A harness for a rolling reduce per key, as `keyBy(key).reduce(fn)`: every element emits the
 * key's reduced value so far.
 *
 * @example
 * const h = await harness.reduce((a: Sale, b: Sale) => ({ ...a, amount: a.amount + b.amount }), { key: (s: Sale) => s.shop });
 * await h.processElement({ shop: 'x', amount: 3 });
 * await h.processElement({ shop: 'x', amount: 4 });
 * expect((await h.reduced('x'))?.amount).toBe(7);
 */
async function reduceHarness<K extends KeyValue, T>(fn: (accumulated: T, value: T) => T, options: HarnessOptions<T, K>): Promise<ReduceHarness<K, T>> {
  return start<T, K, T, ReduceHarness<K, T>>(
    'reduce',
    options,
    (keyed) => keyed.reduce(fn),
    (driver, records) => new ReduceHarness(driver, 'reduce', records),
  );
}

/**
 * Test one keyed function — a KeyedProcessFunction, a window aggregate or a reduce — with
 * controlled time: push elements with event times, advance the watermark and processing time,
 * read output and keyed state, snapshot and restore. Underneath is a real job run by testJob
 * (test input → keyBy → the function → a recording sink), so the semantics are a job's.
 *
 * @example
 * const h = await harness.process(() => new CountPerKey(), { key: (c: Click) => c.user });
 * await h.processElement({ user: 'ann' }, 1_000);
 * await h.processWatermark(5_000);
 * await h.advanceProcessingTime(60_000);
 * const snap = await h.snapshot();
 * await h.close();
 * const h2 = await harness.process(() => new CountPerKey(), { key: (c: Click) => c.user, restoreFrom: snap });
 */
export const harness: {
  readonly process: typeof processHarness;
  readonly window: typeof windowHarness;
  readonly reduce: typeof reduceHarness;
} = { process: processHarness, window: windowHarness, reduce: reduceHarness };

/**
 * The checkpoint copied into a job directory of its own, for one restored harness. A job's
 * directory has one writer at a time (a second run's checkpoint fences the first), and harnesses
 * restored from one snapshot, or a harness and its restored copy, run side by side: each gets its
 * own lineage, as Flink's harness snapshots are independent. Keys are relative to the job
 * directory, so the copy restores as the original would.
 */
function privateCopy(cp: TestCheckpoint): TestCheckpoint {
  const root = fileURLToPath(cp.storage);
  const from = join(root, cp.jobId);
  const jobId = `harness-${randomUUID().slice(0, 8)}`;
  const to = join(root, jobId);
  cpSync(join(from, checkpointDir(cp.id)), join(to, checkpointDir(cp.id)), { recursive: true });
  // Every finished chunk (a write in progress elsewhere is a temporary file until it is renamed).
  if (existsSync(join(from, SHARED_DIR))) cpSync(join(from, SHARED_DIR), join(to, SHARED_DIR), { recursive: true, filter: (path) => !basename(path).includes(TEMP_MARKER) });
  return new TestCheckpoint(cp.id, jobId, cp.storage, cp.processingTime, cp.inputs, cp.sinks);
}

/** A sink that records what the function emitted, with event time and subtask, into `records`. */
function recordingSink<O>(records: SinkRecord<O>[]): Sink<O> {
  return {
    kind: 'harness',
    validate(): void {},
    createWriter(ctx: SinkContext): SinkWriter<O> {
      return {
        write: (value, timestamp) => {
          records.push({ value, timestamp: timestamp === NO_TIMESTAMP ? undefined : timestamp, subtaskIndex: ctx.subtaskIndex });
        },
        finish(): void {},
        abort(): void {},
      };
    },
  };
}

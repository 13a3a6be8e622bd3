// Interval join of two keyed streams (Flink's IntervalJoinOperator): a left record at time t joins
// every right record of its key at time in [t + lower, t + upper]. Both sides wait in keyed state,
// bucketed by timestamp, until the watermark says no partner can come any more.
import type { KeyValue, MapState, ValueState } from '../../state/index.ts';
import { JobConfigError } from '../errors.ts';
import { type KeySelector, NO_TIMESTAMP, type OperatorContext, type OperatorFactory, type Output } from '../types.ts';
import { plainRuntimeContext } from './co-process.ts';
import type { TimerDomain } from './keyed-timers.ts';
import { KeyedTwoInputOperator } from './keyed-co-process.ts';
import { userFailure } from './operator-failure.ts';
import { IntervalJoinTimestampError } from './two-input-errors.ts';
import type { ProcessJoinContext, ProcessJoinFunctionLike } from './two-input-types.ts';
import type { Collector } from './types.ts';

/** An interval join's bounds, inclusive, relative to the left record's time. */
export interface IntervalJoinBounds {
  readonly lowerMs: number;
  readonly upperMs: number;
}

export interface IntervalJoinSpec extends IntervalJoinBounds {
  /** Side-output tag ids for left / right records that came after the watermark passed them. */
  readonly leftLateTag?: string;
  readonly rightLateTag?: string;
}

/**
 * The inclusive bounds of `between(lower, upper)`: an exclusive bound moves in by 1 ms (like
 * Flink). Throws a JobConfigError naming the bound when they are not integers or leave no interval.
 *
 * @example intervalBounds(-2_000, 1_000, { lowerExclusive: true }) // { lowerMs: -1999, upperMs: 1000 }
 */
export function intervalBounds(lowerMs: number, upperMs: number, options: { lowerExclusive?: boolean; upperExclusive?: boolean } = {}): IntervalJoinBounds {
  for (const [what, v] of [['lower', lowerMs], ['upper', upperMs]] as const) {
    if (!Number.isSafeInteger(v)) throw new JobConfigError(`intervalJoin between ${what} bound`, `must be an integer number of milliseconds, got ${String(v)}`);
  }
  const lower = options.lowerExclusive ? lowerMs + 1 : lowerMs;
  const upper = options.upperExclusive ? upperMs - 1 : upperMs;
  if (lower > upper) {
    throw new JobConfigError('intervalJoin between', `the lower bound (${lowerMs}${options.lowerExclusive ? ', exclusive' : ''}) must not be after the upper bound (${upperMs}${options.upperExclusive ? ', exclusive' : ''})`);
  }
  return { lowerMs: lower, upperMs: upper };
}

/**
 * When a buffered record can go: once the watermark reaches this, no record of the other side it
 * could join may arrive (a later one would be late). `relativeUpper` is the far end of its partners'
 * interval relative to its own time: `upper` for a left record, `-lower` for a right one.
 */
export function cleanupTime(timestamp: number, relativeUpper: number): number {
  return relativeUpper > 0 ? timestamp + relativeUpper : timestamp;
}

/**
 * The bucket times a cleanup timer at `timer` removes: left records at `timer - upper` (or `timer`),
 * right records at `timer + lower` (or `timer`). Both sides share one timer per key and time
 * (timers have no namespace here); that is safe because a bucket is only ever removed by the timer
 * its own records registered (cleanupTime is one-to-one on each side).
 */
export function cleanedBuckets(timer: number, bounds: IntervalJoinBounds): { left: number; right: number } {
  return {
    left: bounds.upperMs > 0 ? timer - bounds.upperMs : timer,
    right: bounds.lowerMs < 0 ? timer + bounds.lowerMs : timer,
  };
}

/** Left-side buffer name in keyed state (right: `interval-join-right`), per key: timestamp → records. */
export const LEFT_BUFFER = 'interval-join-left';
export const RIGHT_BUFFER = 'interval-join-right';
/** Per key and side, the buffer's timestamps, sorted (value state `<buffer>-times`). */
export const TIMES_SUFFIX = '-times';

/** One side's buffer: records by timestamp, and the sorted timestamps it holds. */
interface Side {
  readonly buffer: MapState<number, unknown[]>;
  /**
   * Why an index next to the map: finding the partners' buckets by point reads of the few times in
   * range is much cheaper than iterating the map per record on LMDB (a merged scan of overlay and
   * database), and the list stays short (the buckets of one interval's span).
   */
  readonly times: ValueState<number[]>;
}

/** `times` (sorted) with `t` inserted. */
export function insertSorted(times: readonly number[], t: number): number[] {
  let i = times.length;
  while (i > 0 && times[i - 1] > t) i--;
  return [...times.slice(0, i), t, ...times.slice(i)];
}

export class IntervalJoinOperator<K extends KeyValue, L, R, O> extends KeyedTwoInputOperator<K> {
  private left!: Side;
  private right!: Side;
  private readonly joinContext: { key: K; leftTimestamp: number; rightTimestamp: number; timestamp: number; output: ProcessJoinContext<K>['output'] };

  constructor(
    ctx: OperatorContext,
    private readonly spec: IntervalJoinSpec,
    private readonly fn: ProcessJoinFunctionLike<K, L, R, O>,
    private readonly leftKey: KeySelector<L>,
    private readonly rightKey: KeySelector<R>,
  ) {
    super(ctx);
    this.joinContext = { key: undefined as unknown as K, leftTimestamp: 0, rightTimestamp: 0, timestamp: 0, output: this.context.output };
  }

  override async open(output: Output): Promise<void> {
    this.left = { buffer: this.state.mapState(LEFT_BUFFER), times: this.state.valueState(LEFT_BUFFER + TIMES_SUFFIX) };
    this.right = { buffer: this.state.mapState(RIGHT_BUFFER), times: this.state.valueState(RIGHT_BUFFER + TIMES_SUFFIX) };
    this.out = output;
    try {
      // A join function gets no keyed state of its own (its key's state holds the buffers).
      await this.fn.open?.(plainRuntimeContext(this.ctx));
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  processElement(value: unknown, timestamp: number): void {
    this.add(value, timestamp, true);
  }

  processElement2(value: unknown, timestamp: number): void {
    this.add(value, timestamp, false);
  }

  /** Buffers one record, joins it with the other side's buffered records in range, schedules its cleanup. */
  private add(value: unknown, timestamp: number, isLeft: boolean): void {
    if (timestamp === NO_TIMESTAMP) throw userFailure(new IntervalJoinTimestampError(this.ctx.uid, isLeft ? 'left' : 'right'), this.ctx);
    let key: K;
    try {
      key = (isLeft ? this.leftKey(value as L) : this.rightKey(value as R)) as K;
      this.enter(key, timestamp);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    // Flink's rule: late when strictly before the watermark.
    if (timestamp < this.timers.currentWatermark()) {
      const tag = isLeft ? this.spec.leftLateTag : this.spec.rightLateTag;
      if (tag !== undefined) this.out.side?.(tag, value, timestamp);
      return;
    }
    const own = isLeft ? this.left : this.right;
    const other = isLeft ? this.right : this.left;
    const bucket = own.buffer.get(timestamp);
    own.buffer.put(timestamp, bucket === undefined ? [value] : [...bucket, value]);
    if (bucket === undefined) own.times.update(insertSorted(own.times.value() ?? [], timestamp));
    const { lowerMs, upperMs } = this.spec;
    // The other side's times that pair with this one.
    const from = isLeft ? timestamp + lowerMs : timestamp - upperMs;
    const to = isLeft ? timestamp + upperMs : timestamp - lowerMs;
    for (const otherTime of other.times.value() ?? []) {
      if (otherTime < from) continue;
      if (otherTime > to) break;
      for (const record of other.buffer.get(otherTime) ?? []) {
        if (isLeft) this.emit(key, value as L, record as R, timestamp, otherTime);
        else this.emit(key, record as L, value as R, otherTime, timestamp);
      }
    }
    this.timers.registerEventTime(key, cleanupTime(timestamp, isLeft ? upperMs : -lowerMs));
  }

  private emit(key: K, left: L, right: R, leftTimestamp: number, rightTimestamp: number): void {
    const c = this.joinContext;
    c.key = key;
    c.leftTimestamp = leftTimestamp;
    c.rightTimestamp = rightTimestamp;
    c.timestamp = Math.max(leftTimestamp, rightTimestamp);
    this.outTimestamp = c.timestamp;
    try {
      this.fn.processElement(left, right, c, this as Collector<O>);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  protected fireTimer(key: KeyValue, timestamp: number, domain: TimerDomain): void {
    if (domain !== 'event-time') return;
    this.state.setCurrentKey(key);
    const { left, right } = cleanedBuckets(timestamp, this.spec);
    removeBucket(this.left, left);
    removeBucket(this.right, right);
  }

  override close(): Promise<unknown> {
    return this.closeFunction(this.fn);
  }
}

function removeBucket(side: Side, t: number): void {
  if (side.buffer.get(t) === undefined) return;
  side.buffer.remove(t);
  const times = (side.times.value() ?? []).filter((x) => x !== t);
  if (times.length > 0) side.times.update(times);
  else side.times.clear();
}

export function intervalJoinOperator<K extends KeyValue, L, R, O>(
  spec: IntervalJoinSpec,
  fn: ProcessJoinFunctionLike<K, L, R, O>,
  leftKey: KeySelector<L>,
  rightKey: KeySelector<R>,
): OperatorFactory {
  return { create: (ctx) => new IntervalJoinOperator(ctx, spec, fn, leftKey, rightKey) };
}

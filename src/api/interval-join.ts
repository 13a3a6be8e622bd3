// Interval join builder: a.keyBy(k).intervalJoin(b.keyBy(k)).between(lower, upper).process(fn).
import { intervalBounds, intervalJoinOperator } from '../runtime/operators/interval-join.ts';
import { OutputTag } from '../runtime/operators/output-tag.ts';
import type { ProcessJoinFunctionLike } from '../runtime/operators/two-input-types.ts';
import { JobConfigError } from '../runtime/index.ts';
import type { GraphInput } from '../runtime/types.ts';
import type { KeyValue } from '../state/index.ts';
import { addTwoInputNode } from './connected-streams.ts';
import type { DataStream } from './data-stream.ts';
import type { StreamContext } from './stream-context.ts';

/** Both sides of an interval join, keyed; waiting for `between`. */
export interface IntervalJoinSides<L, R, K extends KeyValue> {
  readonly context: StreamContext;
  readonly left: readonly GraphInput[];
  readonly right: readonly GraphInput[];
  readonly leftKey: (value: L) => K;
  readonly rightKey: (value: R) => K;
}

/**
 * `left.intervalJoin(right)`: two keyed streams, to be joined on event time.
 *
 * @example
 * clicks.keyBy((c) => c.user).intervalJoin(orders.keyBy((o) => o.user)).between(0, 600_000).process(new Attribute()).uid('attribute');
 */
export class IntervalJoin<L, R, K extends KeyValue> {
  constructor(private readonly sides: IntervalJoinSides<L, R, K>) {}

  /**
   * Joins a left record at time t with each right record of its key at a time in
   * [t + lowerMs, t + upperMs] (inclusive; bounds may be negative).
   */
  between(lowerMs: number, upperMs: number): IntervalJoined<L, R, K> {
    intervalBounds(lowerMs, upperMs);
    return new IntervalJoined(this.sides, lowerMs, upperMs);
  }
}

/**
 * An interval join with its bounds: optionally exclusive bounds and late-data side outputs, then `process`.
 * Flink semantics: event time; a record is late (dropped, or sent to the side output) when its time
 * is before the watermark (the minimum of both inputs'); buffered records are removed once the
 * watermark passes the last time a partner could have.
 *
 * @example
 * const lateClicks = new OutputTag<Click>('late-clicks');
 * const joined = clicks.keyBy((c) => c.user).intervalJoin(orders.keyBy((o) => o.user))
 *   .between(-60_000, 0).upperBoundExclusive().sideOutputLeftLateData(lateClicks)
 *   .process(new Attribute()).uid('attribute');
 */
export class IntervalJoined<L, R, K extends KeyValue> {
  private lowerExclusive = false;
  private upperExclusive = false;
  private leftLateTag: string | undefined;
  private rightLateTag: string | undefined;

  constructor(
    private readonly sides: IntervalJoinSides<L, R, K>,
    private readonly lowerMs: number,
    private readonly upperMs: number,
  ) {}

  /** The lower bound is exclusive: right time > left time + lowerMs. */
  lowerBoundExclusive(): this {
    this.lowerExclusive = true;
    return this;
  }

  /** The upper bound is exclusive: right time < left time + upperMs. */
  upperBoundExclusive(): this {
    this.upperExclusive = true;
    return this;
  }

  /** Late left records go to this side output of the join (read it with getSideOutput) instead of being dropped. */
  sideOutputLeftLateData(tag: OutputTag<L>): this {
    this.leftLateTag = requireTag(tag, 'sideOutputLeftLateData');
    return this;
  }

  /** Late right records go to this side output of the join instead of being dropped. */
  sideOutputRightLateData(tag: OutputTag<R>): this {
    this.rightLateTag = requireTag(tag, 'sideOutputRightLateData');
    return this;
  }

  /** Runs `fn` on every pair in the interval. */
  process<O>(fn: ProcessJoinFunctionLike<K, L, R, O>): DataStream<O> {
    if (!fn || typeof fn.processElement !== 'function') throw new JobConfigError('intervalJoin process', 'expected a ProcessJoinFunction (an object with processElement)');
    const bounds = intervalBounds(this.lowerMs, this.upperMs, { lowerExclusive: this.lowerExclusive, upperExclusive: this.upperExclusive });
    const spec = { ...bounds, leftLateTag: this.leftLateTag, rightLateTag: this.rightLateTag };
    const { context, left, right, leftKey, rightKey } = this.sides;
    const operator = intervalJoinOperator(spec, fn, leftKey as (v: unknown) => KeyValue, rightKey as (v: unknown) => KeyValue);
    return addTwoInputNode<O>(context, 'interval-join', left, right, operator, true);
  }
}

function requireTag(tag: OutputTag<unknown>, what: string): string {
  if (!(tag instanceof OutputTag)) throw new JobConfigError(what, 'expected an OutputTag');
  return tag.id;
}

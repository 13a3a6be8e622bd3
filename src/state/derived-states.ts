// Reducing and aggregating state: one accumulated value per key, kept in a value state.
import type { AggregatingState, ReducingState, ValueState } from './types.ts';

/** The incremental aggregation an AggregatingState applies (structurally the DataStream API's AggregateFunction). */
export interface StateAggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
}

/** ReducingState over a value state: `add` folds the value into the stored one with `reduce`. */
export class ValueReducingState<T> implements ReducingState<T> {
  constructor(
    private readonly inner: ValueState<T>,
    private readonly reduce: (accumulated: T, value: T) => T,
  ) {}

  get(): T | undefined {
    return this.inner.value();
  }

  add(value: T): void {
    const current = this.inner.value();
    this.inner.update(current === undefined ? value : this.reduce(current, value));
  }

  clear(): void {
    this.inner.clear();
  }
}

/** AggregatingState over a value state holding the accumulator. */
export class ValueAggregatingState<IN, ACC, OUT> implements AggregatingState<IN, OUT> {
  constructor(
    private readonly inner: ValueState<ACC>,
    private readonly fn: StateAggregateFunction<IN, ACC, OUT>,
  ) {}

  get(): OUT | undefined {
    const acc = this.inner.value();
    return acc === undefined ? undefined : this.fn.getResult(acc);
  }

  add(value: IN): void {
    const acc = this.inner.value() ?? this.fn.createAccumulator();
    this.inner.update(this.fn.add(value, acc));
  }

  clear(): void {
    this.inner.clear();
  }
}

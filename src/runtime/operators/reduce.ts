// reduce on a keyed stream: a rolling reduction per key, emitting each new value.
import type { KeyedStateBackend, ValueState } from '../../state/index.ts';
import type { KeySelector, OperatorContext, OperatorFactory } from '../types.ts';
import { BaseOperator } from './base-operator.ts';
import { requireKeyedState } from './keyed-process.ts';
import { userFailure } from './operator-failure.ts';

export class ReduceOperator<T> extends BaseOperator {
  private readonly state: KeyedStateBackend;
  private readonly current: ValueState<T>;

  constructor(
    ctx: OperatorContext,
    private readonly fn: (accumulated: T, value: T) => T,
    private readonly keySelector: KeySelector<T>,
  ) {
    super(ctx);
    this.state = requireKeyedState(ctx);
    this.current = this.state.valueState<T>('reduce');
  }

  processElement(value: unknown, timestamp: number): void {
    let next: T;
    try {
      this.state.setCurrentKey(this.keySelector(value as T));
      const previous = this.current.value();
      next = previous === undefined ? (value as T) : this.fn(previous, value as T);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    this.current.update(next);
    this.out.collect(next, timestamp);
  }
}

export function reduceOperator<T>(fn: (accumulated: T, value: T) => T, keySelector: KeySelector<T>): OperatorFactory {
  return { create: (ctx) => new ReduceOperator(ctx, fn, keySelector) };
}

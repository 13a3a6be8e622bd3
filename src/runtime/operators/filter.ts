// filter: keeps the records the predicate accepts.
import type { OperatorContext, OperatorFactory } from '../types.ts';
import { BaseOperator } from './base-operator.ts';
import { userFailure } from './operator-failure.ts';

export class FilterOperator<T> extends BaseOperator {
  constructor(
    ctx: OperatorContext,
    private readonly predicate: (value: T) => boolean,
  ) {
    super(ctx);
  }

  processElement(value: unknown, timestamp: number): void {
    let keep: boolean;
    try {
      keep = this.predicate(value as T);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    if (keep) this.out.collect(value, timestamp);
  }
}

export function filterOperator<T>(predicate: (value: T) => boolean): OperatorFactory {
  return { create: (ctx) => new FilterOperator(ctx, predicate) };
}

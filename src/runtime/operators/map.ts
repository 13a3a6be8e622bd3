// map: one record in, one record out.
import type { OperatorContext, OperatorFactory } from '../types.ts';
import { BaseOperator } from './base-operator.ts';
import { userFailure } from './operator-failure.ts';

export class MapOperator<I, O> extends BaseOperator {
  constructor(
    ctx: OperatorContext,
    private readonly fn: (value: I) => O,
  ) {
    super(ctx);
  }

  processElement(value: unknown, timestamp: number): void {
    let result: O;
    try {
      result = this.fn(value as I);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    this.out.collect(result, timestamp);
  }
}

export function mapOperator<I, O>(fn: (value: I) => O): OperatorFactory {
  return { create: (ctx) => new MapOperator(ctx, fn) };
}

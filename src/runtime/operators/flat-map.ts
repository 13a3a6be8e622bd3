// flatMap: zero or more records out per record in, through a collector.
import type { OperatorContext, OperatorFactory, Output } from '../types.ts';
import { BaseOperator } from './base-operator.ts';
import { userFailure } from './operator-failure.ts';
import type { Collector } from './types.ts';

export class FlatMapOperator<I, O> extends BaseOperator implements Collector<O> {
  private timestamp = 0;

  constructor(
    ctx: OperatorContext,
    private readonly fn: (value: I, out: Collector<O>) => void,
  ) {
    super(ctx);
  }

  override open(output: Output): void {
    this.out = output;
  }

  collect(value: O): void {
    this.out.collect(value, this.timestamp);
  }

  processElement(value: unknown, timestamp: number): void {
    this.timestamp = timestamp;
    try {
      this.fn(value as I, this);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }
}

export function flatMapOperator<I, O>(fn: (value: I, out: Collector<O>) => void): OperatorFactory {
  return { create: (ctx) => new FlatMapOperator(ctx, fn) };
}

// map, filter and flatMap with a rich function: an object with open(ctx)/close() around the call.
import type { OperatorFactory } from '../types.ts';
import { userFailure } from './operator-failure.ts';
import { RichFunctionOperator } from './rich-function.ts';
import type { Collector, RichFilterFunctionLike, RichFlatMapFunctionLike, RichMapFunctionLike } from './types.ts';

export class RichMapOperator<I, O> extends RichFunctionOperator<RichMapFunctionLike<I, O>> {
  processElement(value: unknown, timestamp: number): void {
    let result: O;
    try {
      result = this.fn.map(value as I);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    this.out.collect(result, timestamp);
  }
}

export class RichFilterOperator<T> extends RichFunctionOperator<RichFilterFunctionLike<T>> {
  processElement(value: unknown, timestamp: number): void {
    let keep: boolean;
    try {
      keep = this.fn.filter(value as T);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    if (keep) this.out.collect(value, timestamp);
  }
}

export class RichFlatMapOperator<I, O> extends RichFunctionOperator<RichFlatMapFunctionLike<I, O>> implements Collector<O> {
  private timestamp = 0;

  collect(value: O): void {
    this.out.collect(value, this.timestamp);
  }

  processElement(value: unknown, timestamp: number): void {
    this.timestamp = timestamp;
    try {
      this.fn.flatMap(value as I, this);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }
}

export function richMapOperator<I, O>(fn: RichMapFunctionLike<I, O>): OperatorFactory {
  return { create: (ctx) => new RichMapOperator(ctx, fn) };
}

export function richFilterOperator<T>(fn: RichFilterFunctionLike<T>): OperatorFactory {
  return { create: (ctx) => new RichFilterOperator(ctx, fn) };
}

export function richFlatMapOperator<I, O>(fn: RichFlatMapFunctionLike<I, O>): OperatorFactory {
  return { create: (ctx) => new RichFlatMapOperator(ctx, fn) };
}

// connect(...).process(CoProcessFunction): two inputs, one function, no key (and so no state or timers).
import { referenceData } from '../reference-data.ts';
import { NO_TIMESTAMP, type OperatorContext, type OperatorFactory, type Output } from '../types.ts';
import { BaseOperator } from './base-operator.ts';
import { userFailure } from './operator-failure.ts';
import type { OutputTag } from './output-tag.ts';
import type { CoProcessContext, CoProcessFunctionLike } from './two-input-types.ts';
import type { Collector, RuntimeContext } from './types.ts';

/** The runtime context of a non-keyed user function. */
export function plainRuntimeContext(ctx: OperatorContext): RuntimeContext {
  return { uid: ctx.uid, subtaskIndex: ctx.subtaskIndex, parallelism: ctx.parallelism, referenceData };
}

/**
 * What the non-keyed two-input operators share: the current record's time, the combined watermark
 * (the minimum of both inputs', as the task delivers it) and a context reused for every call.
 */
export abstract class TwoInputOperator extends BaseOperator implements Collector<unknown> {
  protected outTimestamp = NO_TIMESTAMP;
  protected watermark = Number.NEGATIVE_INFINITY;

  /** A context for user calls (reused for every call; the operator sets `timestamp`). */
  protected newContext(): CoProcessContext & { timestamp: number | undefined } {
    return {
      timestamp: undefined,
      output: this.sideOutput,
      currentProcessingTime: () => this.ctx.currentProcessingTime(),
      currentWatermark: () => this.watermark,
    };
  }

  abstract override processElement(value: unknown, timestamp: number): void;
  abstract processElement2(value: unknown, timestamp: number): void;

  collect(value: unknown): void {
    this.out.collect(value, this.outTimestamp);
  }

  /** Emits to a side output with the current record's time. */
  protected readonly sideOutput = <X>(tag: OutputTag<X>, value: X): void => this.out.side?.(tag.id, value, this.outTimestamp);

  override processWatermark(watermark: number): void {
    this.watermark = watermark;
    this.out.emitWatermark(watermark);
  }

  /** Opens the user function with a non-keyed runtime context. */
  protected async openFunction(output: Output, fn: { open?(ctx: RuntimeContext): void | Promise<void> }): Promise<void> {
    this.out = output;
    try {
      await fn.open?.(plainRuntimeContext(this.ctx));
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  protected async closeFunction(fn: { close?(): void | Promise<void> }): Promise<unknown> {
    try {
      await fn.close?.();
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    return undefined;
  }
}

export class CoProcessOperator<I1, I2, O> extends TwoInputOperator {
  private readonly context: CoProcessContext & { timestamp: number | undefined };

  constructor(
    ctx: OperatorContext,
    private readonly fn: CoProcessFunctionLike<I1, I2, O>,
  ) {
    super(ctx);
    this.context = this.newContext();
  }

  override open(output: Output): Promise<void> {
    return this.openFunction(output, this.fn);
  }

  processElement(value: unknown, timestamp: number): void {
    this.context.timestamp = timestamp === NO_TIMESTAMP ? undefined : timestamp;
    this.outTimestamp = timestamp;
    try {
      this.fn.processElement1(value as I1, this.context, this as Collector<O>);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  processElement2(value: unknown, timestamp: number): void {
    this.context.timestamp = timestamp === NO_TIMESTAMP ? undefined : timestamp;
    this.outTimestamp = timestamp;
    try {
      this.fn.processElement2(value as I2, this.context, this as Collector<O>);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  override close(): Promise<unknown> {
    return this.closeFunction(this.fn);
  }
}

export function coProcessOperator<I1, I2, O>(fn: CoProcessFunctionLike<I1, I2, O>): OperatorFactory {
  return { create: (ctx) => new CoProcessOperator(ctx, fn) };
}

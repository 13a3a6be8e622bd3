// process on a (non-keyed) DataStream: a ProcessFunction per record, with side outputs, the
// record's timestamp, processing time and the watermark; operator state but no keyed state or timers.
import { NO_TIMESTAMP, type OperatorContext, type OperatorFactory } from '../types.ts';
import type { OutputTag } from './output-tag.ts';
import { userFailure } from './operator-failure.ts';
import { RichFunctionOperator } from './rich-function.ts';
import type { Collector, ProcessContext, ProcessFunctionLike } from './types.ts';

export class ProcessOperator<I, O> extends RichFunctionOperator<ProcessFunctionLike<I, O>> implements Collector<O> {
  private outTimestamp = NO_TIMESTAMP;
  private watermark = Number.NEGATIVE_INFINITY;
  // One mutable context object reused for every call: no allocation per record.
  private readonly context: { timestamp: number | undefined } & ProcessContext;

  constructor(ctx: OperatorContext, fn: ProcessFunctionLike<I, O>) {
    super(ctx, fn);
    this.context = {
      timestamp: undefined,
      output: <X>(tag: OutputTag<X>, value: X): void => this.out.side?.(tag.id, value, this.outTimestamp),
      currentProcessingTime: () => ctx.currentProcessingTime(),
      currentWatermark: () => this.watermark,
    };
  }

  collect(value: O): void {
    this.out.collect(value, this.outTimestamp);
  }

  processElement(value: unknown, timestamp: number): void {
    this.outTimestamp = timestamp;
    this.context.timestamp = timestamp === NO_TIMESTAMP ? undefined : timestamp;
    try {
      this.fn.processElement(value as I, this.context, this);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  override processWatermark(watermark: number): void {
    this.watermark = watermark;
    this.out.emitWatermark(watermark);
  }
}

export function processOperator<I, O>(fn: ProcessFunctionLike<I, O>): OperatorFactory {
  return { create: (ctx) => new ProcessOperator(ctx, fn) };
}

// sink: hands records to a SinkWriter; its result travels back with the job's result.
import type { OperatorContext, OperatorFactory, Output, Sink, SinkWriter } from '../types.ts';
import { BaseOperator } from './base-operator.ts';
import { userFailure } from './operator-failure.ts';

export class SinkOperator<T> extends BaseOperator {
  private writer: SinkWriter<T>;
  private finished = false;

  constructor(ctx: OperatorContext, sink: Sink<T>) {
    super(ctx);
    this.writer = sink.createWriter({ uid: ctx.uid, subtaskIndex: ctx.subtaskIndex, parallelism: ctx.parallelism });
  }

  override open(output: Output): void {
    this.out = output;
  }

  processElement(value: unknown, timestamp: number): void {
    try {
      this.writer.write(value as T, timestamp);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  override processWatermark(): void {}

  override endInput(): void {
    this.finished = true;
  }

  override async close(): Promise<unknown> {
    if (!this.finished) {
      await this.writer.abort();
      return undefined;
    }
    try {
      await this.writer.finish();
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    return this.writer.result?.();
  }
}

export function sinkOperator<T>(sink: Sink<T>): OperatorFactory {
  return { create: (ctx) => new SinkOperator(ctx, sink) };
}

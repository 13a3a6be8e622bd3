// Defaults shared by operators: forward watermarks, nothing to do at batch or input end.
import type { OperatorContext, Output, StreamOperator } from '../types.ts';

export abstract class BaseOperator implements StreamOperator {
  protected out!: Output;
  constructor(protected readonly ctx: OperatorContext) {}

  open(output: Output): void | Promise<void> {
    this.out = output;
  }

  abstract processElement(value: unknown, timestamp: number): void;

  processWatermark(watermark: number): void {
    this.out.emitWatermark(watermark);
  }

  endOfBatch(): void {}

  endInput(): void {}

  close(): unknown | Promise<unknown> {
    return undefined;
  }
}

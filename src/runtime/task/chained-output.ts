// Hands records from one operator of a chain to the next in the same thread, counting both sides.
import type { OperatorMetrics, Output, StreamOperator } from '../types.ts';

export class ChainedOutput implements Output {
  constructor(
    private readonly from: OperatorMetrics,
    private readonly to: OperatorMetrics,
    private readonly next: StreamOperator,
  ) {}

  collect(value: unknown, timestamp: number): void {
    this.from.recordsOut++;
    this.to.recordsIn++;
    this.next.processElement(value, timestamp);
  }

  emitWatermark(watermark: number): void {
    this.next.processWatermark(watermark);
  }
}

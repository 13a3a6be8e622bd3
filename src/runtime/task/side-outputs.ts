// Side outputs of one chained operator: records it emits with a tag go to the edges that read that tag.
import type { Output } from '../types.ts';

/**
 * The output of an operator that has side-output consumers: main records go on as before (the next
 * operator of the chain, or the task's channels); `side(tag, ...)` goes to that tag's edges; a
 * watermark goes everywhere, as every consumer needs event time to progress. Operators without
 * side-output consumers keep their plain output (no extra call on the record path).
 */
export class SideRoutingOutput implements Output {
  constructor(
    private readonly main: Output,
    private readonly sides: ReadonlyMap<string, Output>,
  ) {}

  collect(value: unknown, timestamp: number): void {
    this.main.collect(value, timestamp);
  }

  emitWatermark(watermark: number): void {
    this.main.emitWatermark(watermark);
    for (const side of this.sides.values()) side.emitWatermark(watermark);
  }

  side(tag: string, value: unknown, timestamp: number): void {
    this.sides.get(tag)?.collect(value, timestamp);
  }
}

// sink: hands records to a SinkWriter; its result travels back with the job's result.
import type { OperatorContext, OperatorFactory, Output, Sink, SinkWriter } from '../types.ts';
import { BaseOperator } from './base-operator.ts';
import { userFailure } from './operator-failure.ts';

export class SinkOperator<T> extends BaseOperator {
  private writer: SinkWriter<T>;
  private finished = false;
  private suspended = false;

  constructor(ctx: OperatorContext, sink: Sink<T>) {
    super(ctx);
    this.writer = sink.createWriter({ uid: ctx.uid, subtaskIndex: ctx.subtaskIndex, parallelism: ctx.parallelism, jobId: ctx.jobId, fail: (error) => ctx.fail(error) });
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

  snapshotState(checkpointId: number): unknown {
    return this.writer.prepareCommit?.(checkpointId);
  }

  async initializeState(states: readonly unknown[]): Promise<void> {
    await this.writer.recover?.(states);
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    await this.writer.commit?.(checkpointId);
  }

  /** Suspending keeps what is staged for completed or in-flight checkpoints; only open files go. */
  async suspend(): Promise<void> {
    this.suspended = true;
    await this.writer.abort();
  }

  /** Only a normal end makes output visible; the end of input alone does not (the final checkpoint must cover it). */
  async finish(): Promise<void> {
    try {
      await this.writer.finish();
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    this.finished = true;
  }

  override async close(): Promise<unknown> {
    if (this.suspended || this.finished) return this.writer.result?.();
    await this.writer.abort();
    return undefined;
  }
}

export function sinkOperator<T>(sink: Sink<T>): OperatorFactory {
  return { create: (ctx) => new SinkOperator(ctx, sink) };
}

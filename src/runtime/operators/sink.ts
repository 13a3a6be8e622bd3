// sink: hands records to a SinkWriter; its result travels back with the job's result.
import type { OperatorContext, OperatorFactory, Output, Sink, SinkWriter } from '../types.ts';
import { BaseOperator } from './base-operator.ts';
import { userFailure } from './operator-failure.ts';
import { ShadowOutput, type ShadowSample } from './shadow-output.ts';

/**
 * A sink of a job that runs in shadow mode: what the worker asks of it before and at the cut.
 * The live writer does not exist until `prepareCut`: before, the job directory's sink state
 * belongs to the running deployment, and a live writer's recovery could discard its pending output.
 */
export interface ShadowSinkOperator {
  readonly uid: string;
  /** What was written in shadow so far; `flush`: the shadow destination is made visible first. */
  shadowSample(flush: boolean): Promise<ShadowSample>;
  /**
   * The running job stopped at the cut: the live writer is created and recovers `states` (the
   * sink's state in that stop checkpoint: what it staged is committed, idempotently). Output
   * becomes live at the barrier of checkpoint `cutId`.
   */
  prepareCut(cutId: number, states: readonly unknown[]): Promise<void>;
}

export class SinkOperator<T> extends BaseOperator implements ShadowSinkOperator {
  /** The live writer; undefined in shadow mode until prepareCut. */
  private writer: SinkWriter<T> | undefined;
  /** Set in shadow mode until the cut's barrier. */
  private shadow: ShadowOutput<T> | undefined;
  /** Shadow mode, after prepareCut: the checkpoint whose barrier switches the output to live. */
  private cutId: number | undefined;
  private finished = false;
  private suspended = false;

  constructor(
    ctx: OperatorContext,
    private readonly sink: Sink<T>,
    shadowSink?: Sink<T>,
  ) {
    super(ctx);
    if (ctx.shadow) this.shadow = new ShadowOutput(ctx, shadowSink, ctx.shadow.sampleSize);
    else this.writer = this.createLiveWriter();
  }

  get uid(): string {
    return this.ctx.uid;
  }

  private createLiveWriter(): SinkWriter<T> {
    const ctx = this.ctx;
    return this.sink.createWriter({ uid: ctx.uid, subtaskIndex: ctx.subtaskIndex, parallelism: ctx.parallelism, jobId: ctx.jobId, fail: (error) => ctx.fail(error) });
  }

  override open(output: Output): void {
    this.out = output;
  }

  processElement(value: unknown, timestamp: number): void {
    try {
      if (this.shadow) this.shadow.write(value as T, timestamp);
      else this.writer!.write(value as T, timestamp);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  override processWatermark(): void {}

  snapshotState(checkpointId: number): unknown {
    if (this.shadow) {
      // Shadow mode takes no checkpoint but the cut's: everything before its barrier went to the shadow side.
      if (this.cutId === undefined || checkpointId < this.cutId) return undefined;
      const shadow = this.shadow;
      this.shadow = undefined;
      shadow.finish().catch((error: unknown) => this.ctx.fail(userFailure(error, this.ctx)));
    }
    return this.writer?.prepareCommit?.(checkpointId);
  }

  async initializeState(states: readonly unknown[]): Promise<void> {
    // In shadow mode the restored sink state is the running deployment's: prepareCut recovers it at the cut.
    if (this.shadow) return;
    await this.writer?.recover?.(states);
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    await this.writer?.commit?.(checkpointId);
  }

  async shadowSample(flush: boolean): Promise<ShadowSample> {
    if (!this.shadow) return { uid: this.ctx.uid, subtaskIndex: this.ctx.subtaskIndex, total: 0, records: [] };
    try {
      return await this.shadow.sample(flush);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  async prepareCut(cutId: number, states: readonly unknown[]): Promise<void> {
    if (!this.shadow || this.writer) return;
    const writer = this.createLiveWriter();
    this.writer = writer;
    try {
      await writer.recover?.(states);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    this.cutId = cutId;
  }

  /** Suspending keeps what is staged for completed or in-flight checkpoints; only open files go. */
  async suspend(): Promise<void> {
    this.suspended = true;
    await this.shadow?.abort();
    await this.writer?.abort();
  }

  /** Only a normal end makes output visible; the end of input alone does not (the final checkpoint must cover it). */
  async finish(): Promise<void> {
    try {
      await this.shadow?.finish();
      await this.writer?.finish();
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    this.finished = true;
  }

  override async close(): Promise<unknown> {
    if (this.suspended || this.finished) return this.writer?.result?.();
    await this.shadow?.abort();
    await this.writer?.abort();
    return undefined;
  }
}

/** Whether an operator of a chain is a sink that can run in shadow mode. @example subtask.operators.filter(isShadowSinkOperator) */
export function isShadowSinkOperator(operator: unknown): operator is ShadowSinkOperator {
  return operator instanceof SinkOperator;
}

/** `shadowSink`: read when each subtask creates its operator (the API sets it after sinkTo). */
export function sinkOperator<T>(sink: Sink<T>, shadowSink?: () => Sink<T> | undefined): OperatorFactory {
  return { create: (ctx) => new SinkOperator(ctx, sink, shadowSink?.()) };
}

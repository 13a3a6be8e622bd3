// Base of operators running a user function with a lifecycle (open/close) and a runtime context:
// rich map, filter, flatMap and non-keyed process. The context carries operator state, which this
// base checkpoints and restores.
import { referenceData } from '../reference-data.ts';
import type { OperatorContext, Output } from '../types.ts';
import { BaseOperator } from './base-operator.ts';
import { userFailure } from './operator-failure.ts';
import { operatorMetricGroup } from './operator-metrics.ts';
import { OperatorStateBackend, type OperatorStateSnapshot } from './operator-state.ts';
import type { RichRuntimeContext } from './types.ts';

/** Builds the runtime context a rich function gets in `open`. */
export function richRuntimeContext(ctx: OperatorContext, operatorState: OperatorStateBackend): RichRuntimeContext {
  return {
    uid: ctx.uid,
    subtaskIndex: ctx.subtaskIndex,
    parallelism: ctx.parallelism,
    maxParallelism: ctx.maxParallelism,
    referenceData,
    metrics: operatorMetricGroup(ctx),
    operatorState,
    currentProcessingTime: () => ctx.currentProcessingTime(),
  };
}

interface Lifecycle {
  open?(ctx: RichRuntimeContext): void | Promise<void>;
  close?(): void | Promise<void>;
}

export abstract class RichFunctionOperator<F extends Lifecycle> extends BaseOperator {
  protected readonly operatorState: OperatorStateBackend;

  constructor(
    ctx: OperatorContext,
    protected readonly fn: F,
  ) {
    super(ctx);
    this.operatorState = new OperatorStateBackend(ctx.uid, ctx.subtaskIndex, ctx.parallelism);
  }

  override async open(output: Output): Promise<void> {
    this.out = output;
    try {
      await this.fn.open?.(richRuntimeContext(this.ctx, this.operatorState));
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  override async close(): Promise<unknown> {
    try {
      await this.fn.close?.();
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    return undefined;
  }

  snapshotState(): OperatorStateSnapshot | undefined {
    return this.operatorState.snapshot();
  }

  /** Before `open`: the function finds its restored lists when it registers them. */
  initializeState(states: readonly unknown[]): void {
    this.operatorState.restore(states);
  }
}

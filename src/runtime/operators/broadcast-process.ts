// connect(broadcastStream).process(...): the first input is processed against broadcast state that
// only the second (broadcast) input writes. Every subtask gets every broadcast record, so every
// subtask's copy of the state is the same; each saves its copy in a checkpoint.
import type { KeyValue } from '../../state/index.ts';
import { type KeySelector, NO_TIMESTAMP, type OperatorContext, type OperatorFactory, type Output } from '../types.ts';
import { type BroadcastStateDescriptor, BroadcastStates, type BroadcastStatesSnapshot } from './broadcast-state.ts';
import { TwoInputOperator } from './co-process.ts';
import { KeyedTwoInputOperator } from './keyed-co-process.ts';
import { restoreTimers, type TimerDomain, type TimersSnapshot } from './keyed-timers.ts';
import { userFailure } from './operator-failure.ts';
import type {
  BroadcastContext,
  BroadcastProcessFunctionLike,
  KeyedBroadcastOnTimerContext,
  KeyedBroadcastProcessFunctionLike,
  KeyedReadOnlyBroadcastContext,
  CoProcessContext,
  ReadOnlyBroadcastContext,
} from './two-input-types.ts';
import type { Collector } from './types.ts';

type Descriptors = readonly BroadcastStateDescriptor<KeyValue, unknown>[];

/** Operator state of a broadcast operator subtask: its copy of the broadcast states (and a keyed one's timers). */
export interface BroadcastOperatorSnapshot extends Partial<TimersSnapshot> {
  readonly broadcast: BroadcastStatesSnapshot;
}

function broadcastCopies(states: readonly unknown[]): Array<BroadcastStatesSnapshot | undefined> {
  return states.map((s) => (s as Partial<BroadcastOperatorSnapshot> | undefined)?.broadcast);
}

/** The broadcast side's context (reused for every call): broadcast state writable, plus time and side outputs. */
function broadcastContext(states: BroadcastStates, base: CoProcessContext & { timestamp: number | undefined }): BroadcastContext & { timestamp: number | undefined } {
  return Object.assign(base, { getBroadcastState: <K extends KeyValue, V>(descriptor: BroadcastStateDescriptor<K, V>) => states.writableState(descriptor) });
}

export class BroadcastProcessOperator<I, B, O> extends TwoInputOperator {
  private readonly broadcastStates: BroadcastStates;
  private readonly readContext: ReadOnlyBroadcastContext & { timestamp: number | undefined };
  private readonly writeContext: BroadcastContext & { timestamp: number | undefined };

  constructor(
    ctx: OperatorContext,
    private readonly fn: BroadcastProcessFunctionLike<I, B, O>,
    descriptors: Descriptors,
  ) {
    super(ctx);
    const states = new BroadcastStates(ctx.uid, descriptors);
    this.broadcastStates = states;
    this.readContext = Object.assign(this.newContext(), { getBroadcastState: <K extends KeyValue, V>(descriptor: BroadcastStateDescriptor<K, V>) => states.readOnlyState(descriptor) });
    this.writeContext = broadcastContext(states, this.newContext());
  }

  override open(output: Output): Promise<void> {
    return this.openFunction(output, this.fn);
  }

  processElement(value: unknown, timestamp: number): void {
    this.readContext.timestamp = timestamp === NO_TIMESTAMP ? undefined : timestamp;
    this.outTimestamp = timestamp;
    try {
      this.fn.processElement(value as I, this.readContext, this as Collector<O>);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  processElement2(value: unknown, timestamp: number): void {
    this.writeContext.timestamp = timestamp === NO_TIMESTAMP ? undefined : timestamp;
    this.outTimestamp = timestamp;
    try {
      this.fn.processBroadcastElement(value as B, this.writeContext, this as Collector<O>);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  snapshotState(): BroadcastOperatorSnapshot {
    return { broadcast: this.broadcastStates.snapshot() };
  }

  initializeState(states: readonly unknown[]): void {
    this.broadcastStates.restore(broadcastCopies(states), this.ctx.subtaskIndex);
  }

  override close(): Promise<unknown> {
    return this.closeFunction(this.fn);
  }
}

export class KeyedBroadcastProcessOperator<K extends KeyValue, I, B, O> extends KeyedTwoInputOperator<K> {
  private readonly broadcastStates: BroadcastStates;
  /** processElement's and onTimer's context: the keyed one, plus broadcast state read only. */
  private readonly keyedContext: KeyedReadOnlyBroadcastContext<K> & KeyedBroadcastOnTimerContext<K>;
  private readonly writeContext: BroadcastContext & { timestamp: number | undefined };

  constructor(
    ctx: OperatorContext,
    private readonly fn: KeyedBroadcastProcessFunctionLike<K, I, B, O>,
    private readonly keySelector: KeySelector<I>,
    descriptors: Descriptors,
  ) {
    super(ctx);
    const states = new BroadcastStates(ctx.uid, descriptors);
    this.broadcastStates = states;
    // The keyed context object itself, extended: the operator keeps it current (key, time, domain).
    this.keyedContext = Object.assign(this.context, { getBroadcastState: states.readOnlyState.bind(states) }) as unknown as KeyedReadOnlyBroadcastContext<K> &
      KeyedBroadcastOnTimerContext<K>;
    const timers = this.timers;
    // No key on the broadcast side, so no keyed state or timers there (as in Flink); time can be read.
    this.writeContext = broadcastContext(states, {
      timestamp: undefined,
      output: this.context.output,
      currentProcessingTime: () => ctx.currentProcessingTime(),
      currentWatermark: () => timers.currentWatermark(),
    });
  }

  override open(output: Output): Promise<void> {
    return this.openFunction(output, this.fn);
  }

  processElement(value: unknown, timestamp: number): void {
    try {
      this.enter(this.keySelector(value as I) as K, timestamp);
      this.fn.processElement(value as I, this.keyedContext, this as Collector<O>);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  processElement2(value: unknown, timestamp: number): void {
    this.writeContext.timestamp = timestamp === NO_TIMESTAMP ? undefined : timestamp;
    this.outTimestamp = timestamp;
    try {
      this.fn.processBroadcastElement(value as B, this.writeContext, this as Collector<O>);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  protected fireTimer(key: KeyValue, timestamp: number, domain: TimerDomain): void {
    if (!this.fn.onTimer) return;
    this.enterTimer(key, timestamp, domain);
    try {
      this.fn.onTimer(timestamp, this.keyedContext, this as Collector<O>);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  override snapshotState(): BroadcastOperatorSnapshot & TimersSnapshot {
    return { timers: this.timers.snapshot(), broadcast: this.broadcastStates.snapshot() };
  }

  override initializeState(states: readonly unknown[]): void {
    restoreTimers(this.timers, this.ctx, states);
    this.broadcastStates.restore(broadcastCopies(states), this.ctx.subtaskIndex);
  }

  override close(): Promise<unknown> {
    return this.closeFunction(this.fn);
  }
}

export function broadcastProcessOperator<I, B, O>(fn: BroadcastProcessFunctionLike<I, B, O>, descriptors: Descriptors): OperatorFactory {
  return { create: (ctx) => new BroadcastProcessOperator(ctx, fn, descriptors) };
}

export function keyedBroadcastProcessOperator<K extends KeyValue, I, B, O>(
  fn: KeyedBroadcastProcessFunctionLike<K, I, B, O>,
  keySelector: KeySelector<I>,
  descriptors: Descriptors,
): OperatorFactory {
  return { create: (ctx) => new KeyedBroadcastProcessOperator(ctx, fn, keySelector, descriptors) };
}

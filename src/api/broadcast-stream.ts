// BroadcastStream: a stream every parallel instance of the next operator receives in full, with
// the broadcast states that operator keeps (rules or configuration updated while the job runs).
import type { BroadcastStateDescriptor } from '../runtime/operators/broadcast-state.ts';
import { broadcastProcessOperator, keyedBroadcastProcessOperator } from '../runtime/operators/broadcast-process.ts';
import type { BroadcastProcessFunctionLike, KeyedBroadcastProcessFunctionLike } from '../runtime/operators/two-input-types.ts';
import { JobConfigError } from '../runtime/index.ts';
import type { GraphInput } from '../runtime/types.ts';
import type { KeyValue } from '../state/index.ts';
import { addTwoInputNode } from './connected-streams.ts';
import type { DataStream } from './data-stream.ts';
import type { StreamContext } from './stream-context.ts';

type AnyDescriptor = BroadcastStateDescriptor<KeyValue, unknown>;

/**
 * The result of `stream.broadcast(descriptor, ...)`: connect a stream (keyed or not) to it and
 * process both with a (Keyed)BroadcastProcessFunction.
 *
 * @example
 * const rules = new BroadcastStateDescriptor<string, Rule>('rules');
 * const ruleStream = env.fromSource(ruleSource, 'rules').uid('rules').broadcast(rules);
 * txs.keyBy((t) => t.account).connect(ruleStream).process(new Alert()).uid('alerts');
 */
export class BroadcastStream<T> {
  declare readonly __type?: T;

  constructor(
    /** @internal */ readonly context: StreamContext,
    /** Inputs partitioned `broadcast`: every subtask of the consumer gets every record. */
    readonly inputs: readonly GraphInput[],
    readonly descriptors: readonly AnyDescriptor[],
  ) {}
}

/**
 * A non-keyed stream connected to a broadcast stream.
 *
 * @example
 * readings.connect(limits.broadcast(thresholds)).process(new Flag()).uid('flag');
 */
export class BroadcastConnectedStream<I, B> {
  constructor(
    private readonly context: StreamContext,
    readonly inputs: readonly GraphInput[],
    readonly broadcast: BroadcastStream<B>,
  ) {}

  /** Runs a BroadcastProcessFunction. */
  process<O>(fn: BroadcastProcessFunctionLike<I, B, O>): DataStream<O> {
    requireBroadcastFunction(fn, 'BroadcastProcessFunction');
    const operator = broadcastProcessOperator(fn, this.broadcast.descriptors);
    return addTwoInputNode<O>(this.context, 'broadcast-process', this.inputs, this.broadcast.inputs, operator, false);
  }
}

/**
 * A keyed stream connected to a broadcast stream.
 *
 * @example
 * txs.keyBy((t) => t.account).connect(ruleStream).process(new Alert()).uid('alerts');
 */
export class KeyedBroadcastConnectedStream<I, B, K extends KeyValue> {
  constructor(
    private readonly context: StreamContext,
    readonly inputs: readonly GraphInput[],
    readonly keySelector: (value: I) => K,
    readonly broadcast: BroadcastStream<B>,
  ) {}

  /** Runs a KeyedBroadcastProcessFunction. */
  process<O>(fn: KeyedBroadcastProcessFunctionLike<K, I, B, O>): DataStream<O> {
    requireBroadcastFunction(fn, 'KeyedBroadcastProcessFunction');
    const operator = keyedBroadcastProcessOperator(fn, this.keySelector as (v: unknown) => KeyValue, this.broadcast.descriptors);
    return addTwoInputNode<O>(this.context, 'keyed-broadcast-process', this.inputs, this.broadcast.inputs, operator, true);
  }
}

function requireBroadcastFunction(fn: { processElement?: unknown; processBroadcastElement?: unknown } | undefined, what: string): void {
  if (!fn || typeof fn.processElement !== 'function' || typeof fn.processBroadcastElement !== 'function') {
    throw new JobConfigError('broadcast process', `expected a ${what} (an object with processElement and processBroadcastElement)`);
  }
}

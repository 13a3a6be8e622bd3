// ConnectedStreams: two streams, possibly of different types, processed by one two-input operator.
import { coProcessOperator } from '../runtime/operators/co-process.ts';
import { keyedCoProcessOperator } from '../runtime/operators/keyed-co-process.ts';
import type { CoProcessFunctionLike, KeyedCoProcessFunctionLike } from '../runtime/operators/two-input-types.ts';
import { JobConfigError } from '../runtime/index.ts';
import type { GraphInput, OperatorFactory } from '../runtime/types.ts';
import type { KeyValue } from '../state/index.ts';
import { DataStream, requireFunction } from './data-stream.ts';
import type { Collector } from './functions.ts';
import type { StreamContext } from './stream-context.ts';

/**
 * Adds a two-input operator node: `first`'s inputs feed processElement, `second`'s (flagged) feed
 * processElement2. Each side may itself be a union of several inputs.
 */
export function addTwoInputNode<O>(
  context: StreamContext,
  type: string,
  first: readonly GraphInput[],
  second: readonly GraphInput[],
  operator: OperatorFactory,
  keyed: boolean,
): DataStream<O> {
  const inputs: GraphInput[] = [...first.map(({ second: _, ...input }) => input), ...second.map((input) => ({ ...input, second: true as const }))];
  const node = context.graph.add({ kind: 'operator', type, inputs, operator, keyed });
  return new DataStream<O>(context, node, [{ nodeId: node.id, partitioning: 'forward' }]);
}

function keyedInputs(inputs: readonly GraphInput[], keySelector: (value: never) => KeyValue): GraphInput[] {
  return inputs.map((input) => ({ nodeId: input.nodeId, partitioning: 'hash', keySelector: keySelector as (value: unknown) => KeyValue, ...(input.sideOutput !== undefined ? { sideOutput: input.sideOutput } : {}) }));
}

/**
 * Two streams connected with `a.connect(b)`: process them with a CoProcessFunction, map or
 * flatMap them with one function per input, or key both for keyed state and timers.
 *
 * @example
 * orders.connect(refunds).map((o) => o.amount, (r) => -r.amount).uid('signed');
 */
export class ConnectedStreams<I1, I2> {
  constructor(
    private readonly context: StreamContext,
    readonly inputs1: readonly GraphInput[],
    readonly inputs2: readonly GraphInput[],
  ) {}

  /** Runs a CoProcessFunction (no key: no keyed state, no timers). */
  process<O>(fn: CoProcessFunctionLike<I1, I2, O>): DataStream<O> {
    if (!fn || typeof fn.processElement1 !== 'function' || typeof fn.processElement2 !== 'function') {
      throw new JobConfigError('connect process', 'expected a CoProcessFunction (an object with processElement1 and processElement2)');
    }
    return addTwoInputNode<O>(this.context, 'co-process', this.inputs1, this.inputs2, coProcessOperator(fn), false);
  }

  /** One map function per input, into one output type. */
  map<O>(map1: (value: I1) => O, map2: (value: I2) => O): DataStream<O> {
    const m1 = requireFunction(map1, 'connect map (first function)');
    const m2 = requireFunction(map2, 'connect map (second function)');
    const fn: CoProcessFunctionLike<I1, I2, O> = {
      processElement1: (v, _ctx, out) => out.collect(m1(v)),
      processElement2: (v, _ctx, out) => out.collect(m2(v)),
    };
    return addTwoInputNode<O>(this.context, 'co-map', this.inputs1, this.inputs2, coProcessOperator(fn), false);
  }

  /** One flatMap function per input, into one output type. */
  flatMap<O>(flatMap1: (value: I1, out: Collector<O>) => void, flatMap2: (value: I2, out: Collector<O>) => void): DataStream<O> {
    const f1 = requireFunction(flatMap1, 'connect flatMap (first function)');
    const f2 = requireFunction(flatMap2, 'connect flatMap (second function)');
    const fn: CoProcessFunctionLike<I1, I2, O> = {
      processElement1: (v, _ctx, out) => f1(v, out),
      processElement2: (v, _ctx, out) => f2(v, out),
    };
    return addTwoInputNode<O>(this.context, 'co-flat-map', this.inputs1, this.inputs2, coProcessOperator(fn), false);
  }

  /**
   * Keys both inputs, each with its own selector, into one key space: records of either input with
   * equal keys go to the same subtask and share that key's state and timers.
   */
  keyBy<K extends KeyValue>(keySelector1: (value: I1) => K, keySelector2: (value: I2) => K): KeyedConnectedStreams<I1, I2, K> {
    requireFunction(keySelector1, 'connect keyBy (first selector)');
    requireFunction(keySelector2, 'connect keyBy (second selector)');
    return new KeyedConnectedStreams<I1, I2, K>(this.context, keyedInputs(this.inputs1, keySelector1), keyedInputs(this.inputs2, keySelector2), keySelector1, keySelector2);
  }
}

/**
 * Two streams connected on one key (`a.keyBy(k1).connect(b.keyBy(k2))`, or `connect(...).keyBy(k1, k2)`).
 *
 * @example
 * orders.keyBy((o) => o.id).connect(payments.keyBy((p) => p.orderId)).process(new Match()).uid('match');
 */
export class KeyedConnectedStreams<I1, I2, K extends KeyValue> {
  constructor(
    private readonly context: StreamContext,
    readonly inputs1: readonly GraphInput[],
    readonly inputs2: readonly GraphInput[],
    readonly keySelector1: (value: I1) => K,
    readonly keySelector2: (value: I2) => K,
  ) {}

  /** Runs a KeyedCoProcessFunction: both inputs share the key's state and timers. */
  process<O>(fn: KeyedCoProcessFunctionLike<K, I1, I2, O>): DataStream<O> {
    if (!fn || typeof fn.processElement1 !== 'function' || typeof fn.processElement2 !== 'function') {
      throw new JobConfigError('connect process', 'expected a KeyedCoProcessFunction (an object with processElement1 and processElement2)');
    }
    const operator = keyedCoProcessOperator(fn, this.keySelector1 as (v: unknown) => KeyValue, this.keySelector2 as (v: unknown) => KeyValue);
    return addTwoInputNode<O>(this.context, 'keyed-co-process', this.inputs1, this.inputs2, operator, true);
  }
}

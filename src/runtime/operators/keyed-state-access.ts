// The keyed state handles a user function gets from its runtime context: plain, with a TTL on the
// operator's processing-time clock, and reducing/aggregating state on top of value state.
import { ValueAggregatingState, ValueReducingState } from '../../state/index.ts';
import { resolveTtl, type StateOptions } from '../../state/index.ts';
import { type TtlStored, TtlListState, TtlMapState, ttlSnapshotFilter, TtlValueState } from '../../state/index.ts';
import type { KeyedStateBackend, ListState, MapState, ValueState } from '../../state/index.ts';
import type { OperatorContext } from '../types.ts';
import type { KeyedRuntimeContext } from './types.ts';

type KeyedStateHandles = Pick<KeyedRuntimeContext, 'valueState' | 'mapState' | 'listState' | 'reducingState' | 'aggregatingState'>;

/**
 * State handles over `state` for the user function of operator `ctx`. A state with `ttl` stores
 * each value with its last-access time and registers a snapshot filter, so full snapshots leave
 * expired values out.
 */
export function keyedStateHandles(ctx: OperatorContext, state: KeyedStateBackend): KeyedStateHandles {
  const clock = () => ctx.currentProcessingTime();
  const valueState = <T>(name: string, options?: StateOptions): ValueState<T> => {
    const ttl = resolveTtl(name, options);
    if (!ttl) return state.valueState<T>(name);
    const inner = state.valueState<TtlStored<T>>(name);
    state.setSnapshotFilter?.(name, ttlSnapshotFilter(ttl, clock));
    return new TtlValueState<T>(name, inner, ttl, clock);
  };
  return {
    valueState,
    mapState: <UK, UV>(name: string, options?: StateOptions): MapState<UK, UV> => {
      const ttl = resolveTtl(name, options);
      if (!ttl) return state.mapState<UK, UV>(name);
      const inner = state.mapState<UK, TtlStored<UV>>(name);
      state.setSnapshotFilter?.(name, ttlSnapshotFilter(ttl, clock));
      return new TtlMapState<UK, UV>(name, inner, ttl, clock);
    },
    listState: <T>(name: string, options?: StateOptions): ListState<T> => {
      const ttl = resolveTtl(name, options);
      if (!ttl) return state.listState<T>(name);
      const inner = state.listState<TtlStored<T>>(name);
      state.setSnapshotFilter?.(name, ttlSnapshotFilter(ttl, clock));
      return new TtlListState<T>(name, inner, ttl, clock);
    },
    reducingState: (name, reduce, options) => new ValueReducingState(valueState(name, options), reduce),
    aggregatingState: (name, fn, options) => new ValueAggregatingState(valueState(name, options), fn),
  };
}

// Per-window state: value, list and map state of one window in one entry, removed at once; reserved names.
import { describe, expect, it } from 'vitest';
import { globalWindowState, PerWindowState, ReservedWindowStateNameError, WINDOW_STATE_NAME } from '../../../../src/runtime/operators/window/window-state.ts';
import { HeapKeyedStateBackend } from '../../../../src/state/heap/heap-keyed-state-backend.ts';
import { keyGroupRangeFor } from '../../../../src/state/key-groups.ts';

function backend() {
  const state = new HeapKeyedStateBackend({ keyGroupRange: keyGroupRangeFor(0, 1, 128), maxParallelism: 128 });
  state.setCurrentKey('k');
  return state;
}

describe('PerWindowState', () => {
  it('keeps each window apart and follows the window being evaluated', () => {
    const state = backend();
    let window = 0;
    const store = new PerWindowState(state, () => window);
    const count = store.valueState<number>('count');
    count.update(1);
    window = 10;
    expect(count.value()).toBeUndefined();
    count.update(5);
    window = 0;
    expect(count.value()).toBe(1);
    expect([...state.mapState(WINDOW_STATE_NAME).keys()].sort()).toEqual([0, 10]);
  });

  it('list and map state of a window', () => {
    const store = new PerWindowState(backend(), () => 7);
    const list = store.listState<string>('seen');
    list.add('a');
    list.addAll(['b', 'c']);
    expect(list.get()).toEqual(['a', 'b', 'c']);
    list.update(['z']);
    expect(list.get()).toEqual(['z']);
    const map = store.mapState<string | number, number>('m');
    map.put('x', 1);
    map.put(2, 2);
    map.put('x', 3);
    expect(map.get('x')).toBe(3);
    expect(map.contains(2)).toBe(true);
    expect(map.contains('2')).toBe(false);
    expect([...map.entries()]).toEqual([
      [2, 2],
      ['x', 3],
    ]);
    map.remove(2);
    expect([...map.keys()]).toEqual(['x']);
    expect([...map.values()]).toEqual([3]);
    expect(map.isEmpty()).toBe(false);
    map.clear();
    expect(map.isEmpty()).toBe(true);
  });

  it('clearWindow removes every state of the window, whatever its names; empty windows leave no entry', () => {
    const state = backend();
    const store = new PerWindowState(state, () => 3);
    store.valueState('a').update(1);
    store.listState('b').add(2);
    store.clearWindow(3);
    expect(state.mapState(WINDOW_STATE_NAME).isEmpty()).toBe(true);
    store.valueState('a').update(1);
    store.valueState('a').clear();
    expect(state.mapState(WINDOW_STATE_NAME).isEmpty()).toBe(true);
    expect(state.keyCount()).toBe(0);
  });
});

describe('globalWindowState', () => {
  it('is the key state under the user names, refusing the operator own prefix', () => {
    const state = backend();
    const global = globalWindowState(state);
    global.valueState<number>('total').update(4);
    expect(state.valueState('total').value()).toBe(4);
    expect(() => global.mapState('window-accumulators')).toThrow(ReservedWindowStateNameError);
    expect(() => global.listState('window-x')).toThrow(expect.objectContaining({ code: 'BATON_ERR_RESERVED_STATE_NAME', stateName: 'window-x' }));
  });
});

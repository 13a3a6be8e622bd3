// BroadcastStates (views, snapshot, restore at any parallelism) and the broadcast operators' snapshot shape.
import { describe, expect, it } from 'vitest';
import { BroadcastProcessOperator, KeyedBroadcastProcessOperator } from '../../../src/runtime/operators/broadcast-process.ts';
import { BroadcastStateDescriptor, BroadcastStates } from '../../../src/runtime/operators/broadcast-state.ts';
import { UserFunctionError } from '../../../src/runtime/errors.ts';
import { ReadOnlyBroadcastStateError, UnknownBroadcastStateError } from '../../../src/runtime/operators/two-input-errors.ts';
import { operatorContext, RecordingOutput } from '../fixtures.ts';

const rules = new BroadcastStateDescriptor<string, { limit: number }>('rules');
const flags = new BroadcastStateDescriptor<number, boolean>('flags');

describe('BroadcastStates', () => {
  it('the writable and the read-only view share one map; the read-only one refuses writes with a typed error', () => {
    const states = new BroadcastStates('op', [rules, flags]);
    const w = states.writableState(rules);
    const r = states.readOnlyState(rules);
    expect(r.isEmpty()).toBe(true);
    w.put('a', { limit: 1 });
    w.put('b', { limit: 2 });
    expect(r.get('a')).toEqual({ limit: 1 });
    expect(r.contains('b')).toBe(true);
    expect(r.size).toBe(2);
    expect([...r.keys()]).toEqual(['a', 'b']);
    expect([...r.entries()]).toEqual([
      ['a', { limit: 1 }],
      ['b', { limit: 2 }],
    ]);
    w.remove('a');
    expect([...r.values()]).toEqual([{ limit: 2 }]);
    expect(states.readOnlyState(flags).isEmpty()).toBe(true);
    const sneaky = r as unknown as { put(k: string, v: unknown): void; clear(): void };
    expect(() => sneaky.put('c', 1)).toThrow(ReadOnlyBroadcastStateError);
    expect(() => sneaky.clear()).toThrow(/BATON_ERR_BROADCAST_STATE_READ_ONLY.*'rules'.*clear/);
    w.clear();
    expect(r.size).toBe(0);
  });

  it('an undeclared state is refused with a typed error naming the declared ones', () => {
    const states = new BroadcastStates('op', [rules]);
    let thrown: unknown;
    try {
      states.readOnlyState(flags);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UnknownBroadcastStateError);
    expect(thrown).toMatchObject({ code: 'BATON_ERR_UNKNOWN_BROADCAST_STATE', stateName: 'flags', operatorUid: 'op' });
    expect((thrown as Error).message).toMatch(/declared: rules/);
  });

  it('a snapshot is a deep copy: values changed in place later do not leak into it', () => {
    const states = new BroadcastStates('op', [rules]);
    const value = { limit: 1 };
    states.writableState(rules).put('a', value);
    const saved = states.snapshot();
    value.limit = 99;
    expect(saved).toEqual({ rules: [['a', { limit: 1 }]] });
  });

  it('restores one copy per new subtask (old subtask i mod n), keeps only declared states, refuses malformed ones', () => {
    const copies = [0, 1, 2].map((i) => {
      const s = new BroadcastStates('op', [rules, flags]);
      s.writableState(rules).put('from', { limit: i });
      s.writableState(flags).put(i, true);
      return s.snapshot();
    });
    for (const [subtask, expected] of [
      [0, 0],
      [1, 1],
      [4, 1],
      [5, 2],
    ] as const) {
      const restored = new BroadcastStates('op', [rules]);
      restored.restore(copies, subtask);
      expect([...restored.readOnlyState(rules).entries()]).toEqual([['from', { limit: expected }]]);
    }
    // Scaled down to one subtask: one copy, not a merge of three.
    const one = new BroadcastStates('op', [rules, flags]);
    one.restore(copies, 0);
    expect([...one.readOnlyState(flags).keys()]).toEqual([0]);
    // A subtask that saved nothing: another copy is used.
    const gap = new BroadcastStates('op', [rules]);
    gap.restore([undefined, copies[2]], 0);
    expect(gap.readOnlyState(rules).get('from')).toEqual({ limit: 2 });
    expect(() => new BroadcastStates('op', [rules]).restore([{ rules: 'x' } as never], 0)).toThrow(/'op'.*'rules' is not a list of \[key, value\] entries/);
    expect(() => new BroadcastStates('op', [rules]).restore([[1, 2] as never], 0)).toThrow(/not a map of states/);
  });
});

describe('broadcast operators', () => {
  it('non-keyed: the snapshot holds the broadcast copy; processElement reads what processBroadcastElement wrote', async () => {
    const ctx = operatorContext({ uid: 'flag', keyed: false });
    const op = new BroadcastProcessOperator<number, number, string>(
      ctx,
      {
        processElement: (n, c, out) => out.collect(`${n}:${c.getBroadcastState(flags).contains(n)}`),
        processBroadcastElement: (n, c) => c.getBroadcastState(flags).put(n, true),
      },
      [flags as never],
    );
    const out = new RecordingOutput();
    await op.open(out);
    op.processElement2(7, 70);
    op.processElement(7, 71);
    op.processElement(8, 72);
    expect(out.records).toEqual([
      { record: '7:true', timestamp: 71 },
      { record: '8:false', timestamp: 72 },
    ]);
    expect(op.snapshotState()).toEqual({ broadcast: { flags: [[7, true]] } });
  });

  it('keyed: the snapshot holds timers and the broadcast copy; a write from processElement fails the operator', async () => {
    const ctx = operatorContext({ uid: 'alert' });
    const op = new KeyedBroadcastProcessOperator<string, string, string, string>(
      ctx,
      {
        processElement: (k, c) => {
          if (k === 'bad') (c.getBroadcastState(rules) as unknown as { remove(k: string): void }).remove('x');
          c.timerService.registerEventTimeTimer(5);
        },
        processBroadcastElement: (k, c) => c.getBroadcastState(rules).put(k, { limit: 1 }),
      },
      (k) => k,
      [rules as never],
    );
    await op.open(new RecordingOutput());
    op.processElement2('r', 1);
    op.processElement('a', 2);
    expect(op.snapshotState()).toEqual({ timers: [['a', 5, 'event-time']], broadcast: { rules: [['r', { limit: 1 }]] } });
    let thrown: unknown;
    try {
      op.processElement('bad', 3);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UserFunctionError);
    expect((thrown as UserFunctionError).original).toBeInstanceOf(ReadOnlyBroadcastStateError);
    // Restored: timers of its key groups, and its copy of the broadcast state.
    const restored = new KeyedBroadcastProcessOperator<string, string, string, string>(operatorContext({ uid: 'alert' }), { processElement() {}, processBroadcastElement() {} }, (k) => k, [rules as never]);
    restored.initializeState([op.snapshotState()]);
    expect(restored.snapshotState()).toEqual({ timers: [['a', 5, 'event-time']], broadcast: { rules: [['r', { limit: 1 }]] } });
  });
});

// Count windows: tumbling fires and purges every `size` records of a key; sliding fires every `slide` with the last `size`.
import { describe, expect, it } from 'vitest';
import { CountWindowOperator } from '../../../../src/runtime/operators/window/count-window-operator.ts';
import type { CountWindow, ProcessWindowContext } from '../../../../src/runtime/operators/window/types.ts';
import { aggregateContents, listContents, reduceContents, type WindowContents } from '../../../../src/runtime/operators/window/window-contents.ts';
import type { WindowFunction } from '../../../../src/runtime/operators/window/window-emitter.ts';
import { MAX_WATERMARK, NO_TIMESTAMP } from '../../../../src/runtime/types.ts';
import { operatorContext, RecordingOutput } from '../../fixtures.ts';

interface Reading {
  sensor: string;
  v: number;
}

function countOp(size: number, slide: number | undefined, contents: WindowContents<Reading, unknown, unknown>, fn: WindowFunction<string, CountWindow> = { kind: 'none' }) {
  const ctx = operatorContext({ uid: 'counts' });
  const op = new CountWindowOperator<string, Reading>(ctx, { size, slide, contents, fn, keySelector: (r) => r.sensor });
  const out = new RecordingOutput();
  void op.open(out);
  return { op, out, ctx };
}

const sumReduce = reduceContents<Reading>((a, b) => ({ sensor: a.sensor, v: a.v + b.v })) as WindowContents<Reading, unknown, unknown>;
const r = (sensor: string, v: number): Reading => ({ sensor, v });

describe('tumbling count windows', () => {
  it('fire every size records per key, carrying the highest timestamp of the window', () => {
    const { op, out } = countOp(3, undefined, sumReduce);
    op.processElement(r('a', 1), 10);
    op.processElement(r('b', 100), 11);
    op.processElement(r('a', 2), 30);
    op.processElement(r('a', 4), 20);
    op.processElement(r('a', 8), 40);
    expect(out.records).toEqual([{ record: r('a', 7), timestamp: 30 }]);
    op.processElement(r('a', 16), 50);
    op.processElement(r('a', 32), NO_TIMESTAMP);
    expect(out.records.slice(1)).toEqual([{ record: r('a', 56), timestamp: 50 }]);
  });

  it('never fire a window not full at the end of input (as Flink), and pass watermarks on', () => {
    const { op, out } = countOp(2, undefined, sumReduce);
    op.processElement(r('a', 1), 1);
    op.processWatermark(MAX_WATERMARK);
    op.endInput();
    expect(out.records).toEqual([]);
    expect(out.watermarks).toEqual([MAX_WATERMARK]);
  });

  it('give a process function the window index and count, and per-window state kept across firings', () => {
    const fn: WindowFunction<string, CountWindow> = {
      kind: 'process',
      fn: {
        process(key, ctx: ProcessWindowContext<CountWindow>, elements, out) {
          const seen = ctx.windowState.valueState<number>('seen');
          seen.update((seen.value() ?? 0) + elements.length);
          out.collect(`${key} #${ctx.window.index} (${ctx.window.count}): ${(elements as Reading[]).map((e) => e.v)} seen ${seen.value()}`);
        },
      },
    };
    const { op, out } = countOp(2, undefined, listContents<Reading>() as WindowContents<Reading, unknown, unknown>, fn);
    for (const v of [1, 2, 3, 4]) op.processElement(r('a', v), v);
    expect(out.records.map((x) => x.record)).toEqual(['a #0 (2): 1,2 seen 2', 'a #1 (2): 3,4 seen 4']);
  });
});

describe('sliding count windows', () => {
  it('fire every slide records with the last size records (fewer at first)', () => {
    const fn: WindowFunction<string, CountWindow> = { kind: 'result', fn: (key, w, result) => `${key}#${w.index}/${w.count}=${(result as Reading).v}` };
    const { op, out } = countOp(3, 2, sumReduce, fn);
    for (const v of [1, 2, 4, 8, 16, 32]) op.processElement(r('a', v), v);
    // after 2: [1,2]; after 4: [2,4,8]; after 6: [8,16,32]
    expect(out.records).toEqual([
      { record: 'a#0/2=3', timestamp: 2 },
      { record: 'a#1/3=14', timestamp: 8 },
      { record: 'a#2/3=56', timestamp: 32 },
    ]);
  });

  it('recompute an aggregate from the kept elements at each firing', () => {
    const count = aggregateContents<Reading, number, number>({ createAccumulator: () => 0, add: (_r, n) => n + 1, getResult: (n) => n });
    const { op, out } = countOp(4, 1, count as WindowContents<Reading, unknown, unknown>);
    for (let v = 0; v < 6; v++) op.processElement(r('a', v), v);
    expect(out.records.map((x) => x.record)).toEqual([1, 2, 3, 4, 4, 4]);
  });

  it('keep at most size elements in state per key', () => {
    const { op, ctx } = countOp(3, 2, sumReduce);
    for (let v = 0; v < 9; v++) op.processElement(r('a', v), v);
    ctx.keyedState!.setCurrentKey('a');
    const state = ctx.keyedState!.valueState<{ elements: unknown[]; sinceFire: number }>('window-count-sliding').value();
    expect(state?.elements).toHaveLength(3);
    expect(state?.sinceFire).toBe(1);
  });
});

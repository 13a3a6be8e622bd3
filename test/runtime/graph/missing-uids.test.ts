// findMissingUids: with checkpointing on, every operator whose checkpointed state hangs on a position-derived uid.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StreamExecutionEnvironment } from '../../../src/api/index.ts';
import { defineJob, Sinks, Sources, TumblingEventTimeWindows, WatermarkStrategy } from '../../../src/index.ts';
import { findMissingUids } from '../../../src/runtime/graph/index.ts';

const out = mkdtempSync(join(tmpdir(), 'baton-missing-uids-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function build(job: (env: StreamExecutionEnvironment) => void) {
  return defineJob(job).buildGraph({ parallelism: 1, maxParallelism: 128, params: {} });
}

function pipeline(env: StreamExecutionEnvironment, uids: boolean): void {
  const uid = <T extends { uid(id: string): T }>(op: T, id: string): T => (uids ? op.uid(id) : op);
  const numbers = uid(env.fromSource(Sources.sequence({ from: 1, to: 10 }), 'numbers'), 'numbers');
  const doubled = numbers.map((n) => n * 2).filter((n) => n > 2);
  uid(doubled.keyBy((n) => n % 3).reduce((a, b) => a + b), 'sums').sinkTo(Sinks.collect());
  const windows = doubled
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<number>(0).withTimestampAssigner((n) => n))
    .keyBy((n) => n % 2)
    .window(TumblingEventTimeWindows.of(5))
    .aggregate({ createAccumulator: () => 0, add: (n: number, acc: number) => acc + n, getResult: (acc: number) => acc });
  uid(uid(windows, 'windows').sinkTo(Sinks.file<number>({ path: out })), 'files');
  windows.sinkTo(Sinks.discard());
}

describe('findMissingUids', () => {
  it('names the source, the keyed operators and the transactional sink, not stateless operators or sinks', () => {
    const missing = findMissingUids(
      build((env) => {
        env.enableCheckpointing({ intervalMs: 100 });
        pipeline(env, false);
      }),
    );
    expect(missing.map((m) => [m.uid, m.state])).toEqual([
      ['source-0', 'source offsets'],
      ['reduce-3', 'keyed state'],
      ['window-6', 'keyed state'],
      ['sink-7', 'staged sink output'],
    ]);
    expect(missing[1].message).toBe(
      "operator 'reduce-3' (reduce) checkpoints keyed state under a uid derived from its position: adding or removing an operator before it loses that state on restore; give it a stable one with .uid('...')",
    );
  });

  it('is satisfied by explicit uids', () => {
    const graph = build((env) => {
      env.enableCheckpointing({ intervalMs: 100 });
      pipeline(env, true);
    });
    expect(findMissingUids(graph)).toEqual([]);
  });

  it('says nothing when checkpointing is off: no state outlives the run', () => {
    expect(findMissingUids(build((env) => pipeline(env, false)))).toEqual([]);
  });
});

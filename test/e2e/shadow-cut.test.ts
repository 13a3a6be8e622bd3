// The cut: A commits the output of input before its stop checkpoint's positions, B (its own code) of input at or after them; together one uninterrupted run, record for record.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jobDirs } from './checkpoint-helpers.ts';
import { SEGMENT, type ScenarioRun, SPLITS, shadowScenario } from './shadow-scenario.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-shadow-cut-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

/** The checks every cut passes, whatever the parallelism and sources. */
function expectExactCut(run: ScenarioRun, versionB: string): void {
  const { a, b, cut, committed, expected } = run;
  expect(a.status).toBe('SUSPENDED');
  expect(a.stoppedAtCheckpoint).toBe(cut.checkpointId);
  expect(cut.endsJob).toBe(true);
  expect(cut.nextOwner).toBe(b.handover?.runId);
  expect(b.status).toBe('FINISHED');
  const shadow = b.handover!.shadow!;
  expect(b.handover!.mode).toBe('shadow');
  expect(shadow.cutCheckpoint).toBe(cut.checkpointId);
  expect(shadow.guard?.verdict).toBe('promote');
  expect(shadow.overlapMs).toBeGreaterThan(0);
  // B's checkpoints continue A's stop checkpoint: its first is the cut's, right after it.
  expect(b.checkpoints.find((c) => c.status === 'COMPLETED')?.id).toBe(cut.checkpointId + 1);
  expect(b.statusHistory.map((e) => e.status)).toEqual(['CREATED', 'INITIALIZING', 'RUNNING_PRE_STATE_HOOKS', 'RESTORING', 'WAITING_FOR_START_SIGNAL', 'SHADOW', 'RUNNING', 'FINISHED']);
  // Each deployment committed only its own code's output, on its own side of the cut.
  expect(committed.a.lines.every((l) => l.startsWith('A|'))).toBe(true);
  expect(committed.b.lines.every((l) => l.startsWith(`${versionB}|`))).toBe(true);
  // Both sides together: the uninterrupted run's output, record for record (no duplicate, no gap).
  expect([...committed.a.lines, ...committed.b.lines].sort()).toEqual(expected.lines);
  expect([...committed.a.windows, ...committed.b.windows].sort()).toEqual(expected.windows);
  // Both sides did commit something: the cut lies inside the input.
  expect(committed.a.lines.length).toBeGreaterThan(0);
  expect(committed.b.lines.length).toBeGreaterThan(0);
}

describe('the cut of a shadow promotion', { timeout: 90_000 }, () => {
  it('A p=2, B p=3 with other code, B behind A at the hold: A’s output before the cut, B’s after, out-of-order event time, windows spanning the cut', async () => {
    const t = fresh('p2-p3');
    const run = await shadowScenario({ ...t, parallelismA: 2, parallelismB: 3, versionB: 'B', lagging: 'B' });
    expectExactCut(run, 'B');
    // B held behind A (at 200 of every split) and read on, one record at a time, exactly to A's stop checkpoint (300, where A stood).
    const positions = run.cut.operators.find((o) => o.uid === 'events')!.subtasks.flatMap((s) => (s.state as { splits: Array<{ offset: number }> }).splits.map((x) => x.offset));
    expect(positions).toEqual(Array(SPLITS).fill(6 * SEGMENT));
    expect(run.committed.b.lines.filter((l) => / ?\|ev:\d+:2\d\d\|/.test(l))).toEqual([]);
    // Windows open across the cut were fired by B alone, in B's code.
    expect(run.committed.b.windows.length).toBeGreaterThan(0);
    console.log(`cut at chk-${run.cut.checkpointId}: A ${run.committed.a.lines.length} lines, B ${run.committed.b.lines.length}; overlap ${run.b.handover!.shadow!.overlapMs} ms, live gap ${run.b.handover!.shadow!.liveGapMs} ms`);
  });

  it('two sources, one idle: A p=4, B p=1, A behind B at the hold (B waits for A to pass it); the idle source neither stalls nor loses the cut', async () => {
    const t = fresh('idle');
    const run = await shadowScenario({ ...t, parallelismA: 4, parallelismB: 1, versionB: 'B2', idleSource: true, lagging: 'A' });
    expectExactCut(run, 'B2');
    // B held at 300 while A stood at 200: the cut is where A's checkpoints had passed B's positions, never before them.
    const positions = run.cut.operators.find((o) => o.uid === 'events')!.subtasks.flatMap((s) => (s.state as { splits: Array<{ offset: number }> }).splits.map((x) => x.offset));
    for (const p of positions) expect(p).toBeGreaterThanOrEqual(6 * SEGMENT);
    const idle = run.cut.operators.find((o) => o.uid === 'idle')!;
    // The idle source stood at the end of what it ever got: the cut is there, on A's side entirely.
    expect(idle.subtasks.flatMap((s) => (s.state as { splits: unknown[] }).splits)).toEqual([{ id: 'idle-0', offset: SEGMENT }]);
    expect(run.committed.a.lines.filter((l) => l.includes('|idle:')).length).toBe(SEGMENT);
    expect(SPLITS).toBe(4);
  });
});

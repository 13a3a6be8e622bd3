// Handover: B preloads while A runs, A stops right after the target, A's output plus B's equals one uninterrupted run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage, readMetadata, runJob } from '../../src/index.ts';
import { checkpointPacer, committedLines, expectedSums, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-handover-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

const TO = 24_000;
// 5 000 keys: a checkpoint's delta holds only the keys that changed since the one before.
const KEYS = 5_000;
// maxDeltas 3: chains get a new base every few checkpoints, so following also reloads replaced ranges.
// The input advances 1 000 numbers per checkpoint ended (pacedBy): it cannot run out before the
// target, however busy the machine.
const params = (output: string, pacedBy: string) => ({ output, to: TO, intervalMs: 150, keys: KEYS, maxDeltas: 3, pacedBy, segment: 1_000 });


describe('handover (in one process)', { timeout: 180_000 }, () => {
  it('B follows every checkpoint of A as a delta and takes over at the target: A + B output equals one uninterrupted run', async () => {
    const t = fresh('same-process');
    // B first: it is certainly ready (WAITING_FOR_START_SIGNAL) before A reaches the target.
    const target = 12;
    const pacer = checkpointPacer(join(t.dir, 'paced'));
    const b = await runJob(jobUrl('checkpointed-sum'), {
      jobId: t.jobId,
      parallelism: 2,
      checkpointStorage: t.storage,
      params: params(join(t.dir, 'out-b'), pacer.dir),
      handover: { targetCheckpoint: target, timeoutMs: 60_000, pollMs: 20 },
    });
    b.on('checkpoint', pacer.ended);
    await new Promise<void>((resolve) => b.on('status', (s) => s.status === 'WAITING_FOR_START_SIGNAL' && resolve()));
    const a = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, params: params(join(t.dir, 'out-a'), pacer.dir) });
    a.on('checkpoint', pacer.ended);
    // Read when B runs, before B's own checkpoints let retention (B's now) discard the target.
    const targetMetaRead = new Promise<Awaited<ReturnType<typeof readMetadata>>>((resolve, reject) => {
      b.on('status', (e) => e.status === 'RUNNING' && readMetadata(openStorage(`${t.storage}/${t.jobId}`), target).then(resolve, reject));
    });
    const resultA = await a.done;
    expect(resultA.status).toBe('SUSPENDED');
    expect(resultA.stoppedAtCheckpoint).toBe(target);
    const resultB = await b.done;
    expect(resultB.status).toBe('FINISHED');
    const h = resultB.handover!;
    expect(h.targetCheckpoint).toBe(target);
    expect(h.stage1Checkpoint).toBeUndefined();
    // Every checkpoint A completed before the target was applied as a delta while A ran.
    expect(h.followedCheckpoints).toBe(resultA.checkpoints.filter((c) => c.status === 'COMPLETED' && c.id < target).length);
    expect(h.followedCheckpoints).toBeGreaterThan(5);
    // A new base every 3 checkpoints, yet no range was reloaded: each came with its delta.
    expect(h.rangesReloaded).toBe(0);
    expect(h.targetReadyBeforeJob).toBe(false);
    expect(h.downtimeMs).toBeGreaterThan(0);
    expect(resultB.restoredFrom).toBe(target);
    // The cutover checkpoint never writes a new base (it is on the critical path): its chains end in deltas.
    const targetMeta = await targetMetaRead;
    expect(targetMeta.endsJob).toBe(true);
    for (const chain of targetMeta.operators.find((o) => o.uid === 'sum')!.keyed) expect(chain.chain.at(-1)!.kind).toBe('delta');
    const combined = [...committedLines(join(t.dir, 'out-a')), ...committedLines(join(t.dir, 'out-b'))].sort();
    expect(combined).toEqual(expectedSums(TO, KEYS));
  });

  it('an unaligned target: B replays the in-flight data A checkpointed, output still exactly once', async () => {
    const t = fresh('unaligned');
    // A slow stage behind the keyed sum keeps channels full: the target holds in-flight data.
    // The input advances 2 000 numbers per checkpoint ended, more than the slow stage works off
    // between two checkpoints: channels stay full, and the input outlasts the target.
    const pacer = checkpointPacer(join(t.dir, 'paced'));
    const p = (output: string) => ({ output, to: 16_000, pacedBy: pacer.dir, segment: 2_000, slowMicros: 150, mode: 'unaligned', intervalMs: 100 });
    // B first, then A: A reads B's stop request before its first checkpoint, so it cannot pass the
    // target however slow the machine is (a target picked from A's progress raced with A).
    const target = 6;
    const b = await runJob(jobUrl('checkpointed-sum'), {
      jobId: t.jobId,
      parallelism: 2,
      checkpointStorage: t.storage,
      params: p(join(t.dir, 'out-b')),
      handover: { targetCheckpoint: target, timeoutMs: 60_000, pollMs: 20 },
    });
    b.on('checkpoint', pacer.ended);
    await new Promise<void>((resolve) => b.on('status', (s) => s.status === 'WAITING_FOR_START_SIGNAL' && resolve()));
    const a = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, params: p(join(t.dir, 'out-a')) });
    a.on('checkpoint', pacer.ended);
    const resultA = await a.done;
    expect(resultA.stoppedAtCheckpoint).toBe(target);
    expect(resultA.checkpoints.find((c) => c.id === target)!.channelStateBytes).toBeGreaterThan(0);
    const resultB = await b.done;
    expect(resultB.status).toBe('FINISHED');
    expect(resultB.restoredFrom).toBe(target);
    const combined = [...committedLines(join(t.dir, 'out-a')), ...committedLines(join(t.dir, 'out-b'))].sort();
    expect(combined).toEqual(expectedSums(16_000));
  });
});

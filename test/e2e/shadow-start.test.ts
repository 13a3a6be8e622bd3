// Shadow start: B bootstraps from A's newest checkpoint and processes the live input itself, its sinks on their shadow side, owning nothing of the job directory.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointNotFoundError, listCheckpoints, openStorage, readMetadata, runJob } from '../../src/index.ts';
import { committedLines, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';
import { checkpointed, expectAWhole, expectedLines, hasRecords, logGate, reached, untilAfter } from './shadow-helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-shadow-start-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

const SEGMENT = 50;
const SPLITS = 4;

describe('shadow start', { timeout: 60_000 }, () => {
  it('B runs in SHADOW beside A: bootstrapped from A’s checkpoint, its own code on the live input, shadow sinks only; canceled, A is untouched', async () => {
    const t = fresh('start');
    const gate = logGate(join(t.dir, 'gate'));
    gate.openThrough(1);
    const params = (version: string, out: string) => ({ version, out, gate: gate.dir, segment: SEGMENT, splits: SPLITS, intervalMs: 50 });
    const common = { checkpointStorage: t.storage, metricsIntervalMs: 50 };
    const a = await runJob(jobUrl('shadow-job'), { ...common, jobId: t.jobId, parallelism: 2, params: params('A', join(t.dir, 'out-a')) });
    await checkpointed(a, 2);
    const b = await runJob(jobUrl('shadow-job'), {
      jobId: t.jobId,
      parallelism: 3,
      ...common,
      params: { ...params('B', join(t.dir, 'out-b')), shadowOut: join(t.dir, 'shadow-b') },
      handover: { mode: 'shadow', pollMs: 20, shadow: { sampleEveryMs: 50, sampleSize: 10 } },
    });
    await reached(b, 'SHADOW');
    gate.openThrough(3);
    // Everything released so far goes through B's shadow sinks (made visible at each sample): up to the last record of every split.
    const shadowDir = join(t.dir, 'shadow-b', 'lines');
    await untilAfter(b, 'shadow-sample', () => hasRecords(committedLines(shadowDir), 'ev', SPLITS, 4 * SEGMENT - 1));
    expect(b.status).toBe('SHADOW');
    const bootstrap = b.statusHistory.map((e) => e.status);
    expect(bootstrap).toEqual(['CREATED', 'INITIALIZING', 'RUNNING_PRE_STATE_HOOKS', 'RESTORING', 'WAITING_FOR_START_SIGNAL', 'SHADOW']);
    // B owns nothing: every checkpoint in the directory is A's, and no stop request is out.
    const storage = openStorage(`${t.storage}/${t.jobId}`);
    for (const c of (await listCheckpoints(storage)).filter((c) => c.status === 'COMPLETED')) {
      // A's retention may discard a listed checkpoint before it is read: gone, it was not B's either.
      const metadata = await readMetadata(storage, c.id).catch((error: unknown) => (error instanceof CheckpointNotFoundError ? undefined : Promise.reject(error)));
      if (metadata) expect(metadata.runId).toBe(a.runId);
    }
    expect(existsSync(join(t.dir, 'checkpoints', t.jobId, 'handover', 'stop-request.json'))).toBe(false);
    // Its live sinks wrote nothing; its shadow sinks did, in B's own code (version B), from A's checkpoint's positions on.
    expect(committedLines(join(t.dir, 'out-b', 'lines'))).toEqual([]);
    const shadowLines = committedLines(shadowDir);
    expect(shadowLines.length).toBeGreaterThan(0);
    expect(shadowLines.every((l) => l.startsWith('B|'))).toBe(true);
    const everything = new Set(expectedLines([{ log: 'ev', splits: SPLITS, records: 4 * SEGMENT }], undefined, 'B').lines);
    for (const line of shadowLines) expect(everything.has(line), line).toBe(true);
    // B bootstrapped from a checkpoint of A (2 or later) and processed from its positions on, not from the start.
    const bootId = (await new Promise<{ metrics: { stage1Checkpoint?: number } }>((resolve) => b.once('handover', resolve))).metrics.stage1Checkpoint!;
    const bootstrapped = (await readMetadata(storage, bootId)).operators.find((o) => o.uid === 'events')!;
    const from = bootstrapped.subtasks.flatMap((s) => (s.state as { splits: Array<{ id: string; offset: number }> }).splits);
    expect(from.length).toBe(SPLITS);
    for (const { id, offset } of from) {
      const s = Number(id.split('-')[1]);
      expect(shadowLines.some((l) => l.includes(`|ev:${s}:${offset}|`)), `B processed ${id} from ${offset}`).toBe(true);
      if (offset > 0) expect(shadowLines.some((l) => l.includes(`|ev:${s}:${offset - 1}|`)), `B did not process ${id} before ${offset}`).toBe(false);
    }
    // Stopped before its cut, B ends at once: there is nothing of its own to checkpoint or commit.
    const rb = await b.stop({ mode: 'suspend' });
    expect(rb.status).toBe('CANCELED');
    expect(rb.handover?.mode).toBe('shadow');
    // A goes on alone: the rest of the input, stop, and its committed output is the whole run's.
    await expectAWhole(t.dir, a, gate, SEGMENT, SPLITS);
  });
});

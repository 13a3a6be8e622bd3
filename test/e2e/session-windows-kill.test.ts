// Session windows with late data on worker threads: a worker killed mid-stream (sessions open, late views
// flowing) is restored from the last checkpoint; the committed sessions and late views equal an
// uninterrupted run's, record for record.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runJob } from '../../src/index.ts';
import { testJob } from '../../src/testing/index.ts';
import { checkpointPacer, committedLines, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';
import job from './jobs/sessions-late.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-session-kill-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

const VIEWS = 30_000;
/** The kill comes once this checkpoint completed and late views (from view 12 000 on) were committed; sessions are always open. */
const KILL_AFTER = 4;
const SEGMENT = 3_000;

describe('session windows with allowed lateness and a late side output, a worker killed', () => {
  it('restores from the last checkpoint and commits exactly the uninterrupted output', async () => {
    const reference = fresh('reference');
    const uninterrupted = await testJob(job, { parallelism: 2, inputs: [], params: { views: VIEWS, output: reference.output } });
    const referenceResult = await uninterrupted.finish();
    // The lines the file sinks write (JSON.stringify), sorted.
    const lines = (uid: string) => uninterrupted.output(uid).committed.map((r) => JSON.stringify(r)).sort();
    const expectedSessions = lines('sessions-out');
    const expectedLate = lines('late-out');
    // Not a trivial run: sessions emitted again for synced views, and views too late for any session.
    const refired = uninterrupted.output<{ synced: number }>('sessions-out').committed.filter((s) => s.synced > 0);
    expect(refired.length).toBeGreaterThan(50);
    expect(expectedLate.length).toBeGreaterThan(50);
    expect(referenceResult.operators.sessions.lateRecordsDropped).toBe(0);

    const t = fresh('killed');
    mkdirSync(t.dir, { recursive: true });
    const crashFile = join(t.dir, 'crash-now');
    const marker = join(t.dir, 'crashed');
    const pacer = checkpointPacer(join(t.dir, 'paced'));
    const handle = await runJob(jobUrl('sessions-late'), {
      jobId: t.jobId,
      parallelism: 2,
      checkpointStorage: t.storage,
      restartStrategy: { type: 'fixedDelay', attempts: 2, delayMs: 10 },
      params: { views: VIEWS, output: t.output, pacedBy: pacer.dir, segment: SEGMENT, crashWhenFile: crashFile, crashMarker: marker },
    });
    let killedAfter: number | undefined;
    handle.on('checkpoint', (c) => {
      pacer.ended();
      if (c.status !== 'COMPLETED' || killedAfter !== undefined || c.id < KILL_AFTER) return;
      // Checked at each checkpoint: the paced input cannot end before several more complete.
      if (committedLines(join(t.output, 'late')).length === 0) return;
      killedAfter = c.id;
      writeFileSync(crashFile, `after checkpoint ${c.id}`);
    });
    const result = await handle.done;
    expect(result.status).toBe('FINISHED');
    expect(result.attempts).toBe(2);
    expect(killedAfter).toBeGreaterThanOrEqual(KILL_AFTER);
    // Restored mid-stream: from the kill's checkpoint or a later one, before the input ended.
    expect(result.restoredFrom).toBeGreaterThanOrEqual(killedAfter!);
    expect(committedLines(join(t.output, 'sessions'))).toEqual(expectedSessions);
    expect(committedLines(join(t.output, 'late'))).toEqual(expectedLate);
  });
});

// Rollback before the cut: B killed (SIGKILL, a process) in SHADOW, or after the cut began but before its cut checkpoint completed; A's committed output stays one uninterrupted run.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { listCheckpoints, openStorage, readMetadata, runJob } from '../../src/index.ts';
import { committedLines, jobDirs } from './checkpoint-helpers.ts';
import { startDeployment } from './deployment.ts';
import { jobUrl } from './helpers.ts';
import { checkpointed, expectAWhole, logGate } from './shadow-helpers.ts';
import { SEGMENT, SPLITS } from './shadow-scenario.ts';

const JOB = fileURLToPath(jobUrl('shadow-job'));
const root = mkdtempSync(join(tmpdir(), 'baton-shadow-kill-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

/** A in this process on the gated log (segments 0-1 open), once it completed 2 checkpoints. */
async function startA(t: { dir: string; jobId: string; storage: string }) {
  const gate = logGate(join(t.dir, 'gate'));
  gate.openThrough(1);
  const params = { version: 'A', out: join(t.dir, 'out-a'), gate: gate.dir, segment: SEGMENT, splits: SPLITS, intervalMs: 50 };
  const a = await runJob(jobUrl('shadow-job'), { jobId: t.jobId, checkpointStorage: t.storage, parallelism: 2, metricsIntervalMs: 50, params, stopRequestPollMs: 20, handoverPollMs: 10 });
  await checkpointed(a, 2);
  return { a, gate };
}

/** `baton run` of deployment B in shadow mode, its output under the test's directory. */
function startB(t: { dir: string; jobId: string; storage: string }, gate: string, extra: string[]) {
  const param = (k: string, v: string | number) => ['--param', `${k}=${v}`];
  const args = [
    ...['--job-id', t.jobId, '-p', '3', '--checkpoint-storage', t.storage],
    ...param('version', 'B'),
    ...param('out', join(t.dir, 'out-b')),
    ...param('shadowOut', join(t.dir, 'shadow-b')),
    ...param('gate', gate),
    ...param('segment', SEGMENT),
    ...param('splits', SPLITS),
    ...param('intervalMs', 50),
    ...['--handover', '--handover-mode', 'shadow', '--handover-poll', '20', '--shadow-sample-every', '50'],
    ...extra,
  ];
  return startDeployment(JOB, args, join(t.dir, 'b.json'));
}

describe('rollback before the cut', { timeout: 120_000 }, () => {
  it('B killed in SHADOW: A never notices (no request, no standby); its committed output equals an uninterrupted run', async () => {
    const t = fresh('killed-in-shadow');
    const { a, gate } = await startA(t);
    const b = startB(t, gate.dir, []);
    await b.line(/\sSHADOW$/);
    gate.openThrough(3);
    // B processes the live input itself: its shadow output grows (made visible at every sample).
    await b.line(/handover shadow-sample: [1-9]\d* records written in shadow/);
    b.child.kill('SIGKILL');
    const eb = await b.exited;
    expect(eb.result).toBeUndefined();
    expect(committedLines(join(t.dir, 'shadow-b', 'lines')).length).toBeGreaterThan(0);
    // B left no request behind, and every checkpoint in the directory is A's.
    expect(existsSync(join(t.dir, 'checkpoints', t.jobId, 'handover', 'stop-request.json'))).toBe(false);
    const ra = await expectAWhole(t.dir, a, gate, SEGMENT, SPLITS);
    expect(ra.statusHistory.map((e) => e.status)).toEqual(['CREATED', 'INITIALIZING', 'RUNNING_PRE_STATE_HOOKS', 'RESTORING', 'WAITING_FOR_START_SIGNAL', 'RUNNING', 'FINISHED']);
    const storage = openStorage(`${t.storage}/${t.jobId}`);
    for (const c of (await listCheckpoints(storage)).filter((c) => c.status === 'COMPLETED')) expect((await readMetadata(storage, c.id)).runId).toBe(a.runId);
  });

  it('B killed after the cut began, before its cut checkpoint completed: A stands by, then resumes from its stop checkpoint; exactly once', async () => {
    const t = fresh('killed-at-cut');
    const { a, gate } = await startA(t);
    // Promoted at once; it never completes a checkpoint (a 10-minute pause), so it is killed before its cut checkpoint for sure.
    const b = startB(t, gate.dir, ['--shadow-promote-after', '1', '--handover-lease-ms', '1000', '--param', 'minPauseMs=600000']);
    await b.line(/handover cut chk-\d+/);
    await b.line(/\sRUNNING$/);
    b.child.kill('SIGKILL');
    await b.exited;
    const ra = await expectAWhole(t.dir, a, gate, SEGMENT, SPLITS);
    const s = ra.statusHistory.map((e) => e.status);
    expect(s.slice(s.indexOf('STANDBY'), s.indexOf('STANDBY') + 2)).toEqual(['STANDBY', 'RUNNING']);
    expect(ra.rollbacks).toHaveLength(1);
    expect(ra.rollbacks![0].reason).toMatch(/lease of run .* expired/);
    console.log(`rollback after a cut that never completed: A resumed ${ra.rollbacks![0].downtimeMs} ms after its last record (lease 1000 ms)`);
  });
});

// The when-ready handover between processes on a directory: B late, B killed after stage 2 (A rolls back), a dead B's request ignored.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointPacer, committedLines, expectedSums, jobDirs } from './checkpoint-helpers.ts';
import { type Deployment, startDeployment } from './deployment.ts';

const JOB = fileURLToPath(new URL('./jobs/checkpointed-sum.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'baton-when-ready-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

const TO = 8_000;
const LEASE_MS = 1_000;

function args(t: { jobId: string; storage: string; dir: string }, output: string, extra: string[] = []): string[] {
  const paced = ['--param', `pacedBy=${join(t.dir, 'paced')}`, '--param', 'segment=1000'];
  return ['--job-id', t.jobId, '-p', '2', '--checkpoint-storage', t.storage, '--param', `output=${output}`, '--param', `to=${TO}`, '--param', 'intervalMs=100', ...paced, ...extra];
}

/**
 * The input advances 1 000 numbers per checkpoint ended (of A or B), but only while the pacer is
 * open: closed, A keeps checkpointing and cannot run out of input before B is where the test wants
 * it, however slowly B starts on a busy machine.
 */
function pacedDeployments(dir: string) {
  const pacer = checkpointPacer(join(dir, 'paced'));
  let open = true;
  return {
    close: () => {
      open = false;
    },
    open: () => {
      open = true;
      pacer.ended();
    },
    deploy(jobArgs: string[], resultFile: string): Deployment {
      const d = startDeployment(JOB, jobArgs, resultFile);
      d.onLine((line) => {
        if (open && /checkpoint \d+ (COMPLETED|FAILED)/.test(line)) pacer.ended();
      });
      return d;
    },
  };
}

const statuses = (d: { result?: { statusHistory: ReadonlyArray<{ status: string }> } }) => d.result!.statusHistory.map((e) => e.status);

describe('when-ready handover between processes, on a local directory', { timeout: 120_000 }, () => {
  it('B started late (after several of A checkpoints) announces when ready; A stops at once, stands by, ends; output exactly once', async () => {
    const t = fresh('late');
    const p = pacedDeployments(t.dir);
    const a = p.deploy(args(t, join(t.dir, 'out-a')), join(t.dir, 'a.json'));
    await a.line(/checkpoint 3 COMPLETED/);
    p.close();
    const b = p.deploy(args(t, join(t.dir, 'out-b'), ['--handover', '--handover-lease-ms', String(LEASE_MS)]), join(t.dir, 'b.json'));
    await b.line(/handover announced/);
    // Opened once A took the request: A cannot run out of input before it sees it, however long
    // its poll takes on a busy machine, so B has records left to process (and a downtime to report).
    await a.line(/stop request after chk-\d+ accepted/);
    p.open();
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    expect(ea.code, ea.output).toBe(0);
    expect(eb.code, eb.output).toBe(0);
    const h = eb.result!.handover!;
    expect(h.requestedTarget).toBe('when-ready');
    expect(h.outcome).toBe('target');
    // By construction the stop checkpoint comes after B was ready: never complete before it.
    expect(h.targetReadyBeforeJob).toBe(false);
    expect(h.stage1Checkpoint).toBeGreaterThanOrEqual(3);
    expect(ea.result!.stoppedAtCheckpoint).toBe(h.targetCheckpoint);
    expect(statuses(ea)).toEqual(expect.arrayContaining(['RUNNING', 'STANDBY', 'SUSPENDED']));
    expect(statuses(ea).slice(-2)).toEqual(['STANDBY', 'SUSPENDED']);
    expect(ea.output).toMatch(new RegExp(`handover standby chk-${h.targetCheckpoint}`));
    expect(ea.output).toMatch(/handover ended chk-\d+: the successor completed/);
    expect(h.downtimeMs).toBeGreaterThan(0);
    console.log(`when-ready (directory, B late): downtime ${h.downtimeMs} ms, stage 2 ${h.stage2Ms} ms, waited ${h.waitMs} ms`);
    expect(eb.result!.status).toBe('FINISHED');
    // B holds its own request up through its probation: it never obeys it itself.
    expect(statuses(eb)).not.toContain('STANDBY');
    expect(eb.output).not.toMatch(/stop request after chk-\d+ accepted/);
    expect([...committedLines(join(t.dir, 'out-a')), ...committedLines(join(t.dir, 'out-b'))].sort()).toEqual(expectedSums(TO));
    // B's request is gone once its first checkpoint completed: nothing left to stop a later job.
    expect(existsSync(join(t.dir, 'checkpoints', t.jobId, 'handover', 'stop-request.json'))).toBe(false);
  });

  it('B killed after stage 2, before its first checkpoint: A resumes from its stop checkpoint by itself; output equals one uninterrupted run', async () => {
    const t = fresh('rollback');
    const p = pacedDeployments(t.dir);
    const a = p.deploy(args(t, join(t.dir, 'out-a')), join(t.dir, 'a.json'));
    await a.line(/checkpoint 2 COMPLETED/);
    p.close();
    // B never completes a checkpoint (a 10-minute minimum pause): it is killed in probation for sure.
    const b = p.deploy(args(t, join(t.dir, 'out-b'), ['--handover', '--handover-lease-ms', String(LEASE_MS), '--param', 'minPauseMs=600000']), join(t.dir, 'b.json'));
    await b.line(/handover announced/);
    // Opened once A took the request (so A cannot reach the end of input first, however slow its
    // poll): A reads on up to its stop checkpoint, and the rollback's downtime is the handover's, not a starved input's.
    await a.line(/stop request after chk-\d+ accepted/);
    p.open();
    await b.line(/\sRUNNING$/);
    b.child.kill('SIGKILL');
    await b.exited;
    const ea = await a.exited;
    expect(ea.code, ea.output).toBe(0);
    expect(ea.result!.status).toBe('FINISHED');
    const s = statuses(ea);
    expect(s.slice(s.indexOf('STANDBY'), s.indexOf('STANDBY') + 2)).toEqual(['STANDBY', 'RUNNING']);
    const [rollback] = ea.result!.rollbacks!;
    expect(rollback.reason).toMatch(/lease of run .* expired/);
    expect(rollback.downtimeMs).toBeGreaterThan(0);
    expect(ea.output).toMatch(/handover resumed chk-\d+: first record \d+ ms after/);
    console.log(`rollback (directory, B killed in probation): downtime ${rollback.downtimeMs} ms, of which waiting for the lease (${LEASE_MS} ms) to expire`);
    // B's output was never committed (no checkpoint of B's completed); A's is the whole run, record for record.
    expect(committedLines(join(t.dir, 'out-b'))).toEqual([]);
    expect(committedLines(join(t.dir, 'out-a'))).toEqual(expectedSums(TO));
    expect(existsSync(join(t.dir, 'checkpoints', t.jobId, 'handover', 'stop-request.json'))).toBe(false);
  });

  it("a dead B's request (its lease expired) does not stop a later job on the directory", async () => {
    const t = fresh('stale');
    const p = pacedDeployments(t.dir);
    // A's first run completes a checkpoint and dies: B applies it, is caught up, announces, and dies too.
    const a1 = p.deploy(args(t, join(t.dir, 'out-a')), join(t.dir, 'a1.json'));
    await a1.line(/checkpoint 1 COMPLETED/);
    a1.child.kill('SIGKILL');
    await a1.exited;
    const b = p.deploy(args(t, join(t.dir, 'out-b'), ['--handover', '--handover-lease-ms', String(LEASE_MS)]), join(t.dir, 'b.json'));
    await b.line(/handover announced/);
    b.child.kill('SIGKILL');
    await b.exited;
    const requestFile = join(t.dir, 'checkpoints', t.jobId, 'handover', 'stop-request.json');
    const request = JSON.parse(readFileSync(requestFile, 'utf8')) as { runId: string; leaseExpiresAt: number };
    // Its author is dead: wait until the lease it wrote has run out (the clock it names, not a guess).
    while (Date.now() <= request.leaseExpiresAt) await new Promise((r) => setTimeout(r, request.leaseExpiresAt - Date.now() + 1));
    // The later job: A again, from its own latest checkpoint.
    const a = p.deploy(args(t, join(t.dir, 'out-a'), ['--restore-from', 'latest']), join(t.dir, 'a.json'));
    const ea = await a.exited;
    expect(ea.code, ea.output).toBe(0);
    expect(ea.result!.status).toBe('FINISHED');
    expect(statuses(ea)).not.toContain('STANDBY');
    expect(ea.output).toMatch(new RegExp(`stop request rejected: the lease of run ${request.runId}'s request expired`));
    expect(committedLines(join(t.dir, 'out-a'))).toEqual(expectedSums(TO));
    // The later job removed the leftover.
    expect(existsSync(requestFile)).toBe(false);
  });
});

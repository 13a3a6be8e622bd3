// Two-input operators on worker threads with a worker killed mid-run: keyed connect (shared keyed
// state and timers) and the broadcast-state pattern (the fraud-rules engine, rules arriving all
// along). The restarted job restores from its latest checkpoint; what it commits equals, record for
// record, an uninterrupted run of the same job (in this thread) and a plain reference.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Transaction } from '../../examples/fraud-rules.ts';
import type { RuleUpdate } from '../../examples/fraud-rules.ts';
import { referenceAlerts } from '../../examples/testing/fraud-rules-reference.ts';
import { runJob } from '../../src/index.ts';
import { testJob } from '../../src/testing/index.ts';
import { checkpointPacer, committedLines, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';
import fraudRulesKill, { item } from './jobs/fraud-rules-kill.ts';
import keyedConnectKill, { expectedLines } from './jobs/keyed-connect-kill.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-two-inputs-kill-'));
const fresh = jobDirs(root);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TO = 3_000;
/** Records per completed checkpoint: the kill at CRASH_AT comes after at least 7 checkpoints, whatever the machine's speed. */
const SEGMENT = 250;
const CRASH_AT = 1_900;

/**
 * Runs `name` on threads at parallelism 2 with input paced by checkpoints; the worker running the
 * source chain exits at record CRASH_AT; a restart strategy restores the latest checkpoint.
 */
async function killedRun(name: string): Promise<{ lines: string[]; restoredFrom: number | undefined }> {
  const t = fresh(name);
  mkdirSync(t.dir, { recursive: true });
  const pacer = checkpointPacer(join(t.dir, 'paced'));
  const job = await runJob(jobUrl(name), {
    jobId: t.jobId,
    parallelism: 2,
    checkpointStorage: t.storage,
    restartStrategy: { type: 'fixedDelay', attempts: 2, delayMs: 10 },
    params: { output: t.output, to: TO, segment: SEGMENT, pacedBy: pacer.dir, crashAt: CRASH_AT, crashMarker: join(t.dir, 'crashed') },
  });
  job.on('checkpoint', pacer.ended);
  const result = await job.done;
  expect(result.status).toBe('FINISHED');
  expect(result.attempts).toBe(2);
  expect(result.statusHistory.map((e) => e.status)).toContain('RESTARTING');
  return { lines: committedLines(t.output), restoredFrom: result.restoredFrom };
}

/** The same job uninterrupted, in this thread (testJob with its real, here unpaced, source). */
async function uninterruptedRun(job: typeof keyedConnectKill, name: string): Promise<string[]> {
  const t = fresh(`${name}-uninterrupted`);
  const unpaced = join(t.dir, 'unpaced');
  mkdirSync(unpaced, { recursive: true });
  for (let i = 1; i <= Math.ceil(TO / SEGMENT); i++) writeFileSync(join(unpaced, `completed-${i}`), '');
  const driver = await testJob(job, { parallelism: 2, inputs: [], params: { output: t.output, to: TO, segment: SEGMENT, pacedBy: unpaced } });
  await driver.finish();
  return driver.output<string>('out').committed.slice().sort();
}

describe('two-input operators: a worker killed and restored on threads', () => {
  it('keyed connect: orders and payments matched in shared keyed state, unpaid ones by timers, exactly once', async () => {
    const expected = expectedLines(TO);
    expect(expected.some((l) => l.startsWith('unpaid'))).toBe(true);
    const killed = await killedRun('keyed-connect-kill');
    // Restored from a checkpoint taken during the run, not from the start.
    expect(killed.restoredFrom).toBeGreaterThanOrEqual(1);
    expect(killed.lines).toEqual(expected);
    expect(await uninterruptedRun(keyedConnectKill, 'keyed-connect')).toEqual(killed.lines);
  });

  it('broadcast state: rule updates broadcast to the keyed rule engine all along the run, exactly once', async () => {
    const items = Array.from({ length: TO }, (_, i) => item(i + 1, 40));
    const transactions = items.flatMap((i) => ('tx' in i ? [i.tx] : [])) as Transaction[];
    const updates = items.flatMap((i) => ('rule' in i ? [i.rule] : [])) as RuleUpdate[];
    const expected = referenceAlerts(transactions, updates);
    for (const rule of ['big-amount', 'burst', 'sanctions']) expect(expected.some((l) => l.includes(`,${rule},`))).toBe(true);
    const killed = await killedRun('fraud-rules-kill');
    expect(killed.restoredFrom).toBeGreaterThanOrEqual(1);
    expect(killed.lines).toEqual(expected);
    expect(await uninterruptedRun(fraudRulesKill, 'fraud-rules')).toEqual(killed.lines);
  });
});

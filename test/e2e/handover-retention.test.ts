// Handover behind the running job's retention: B lagging behind `retain: 1` takes over exactly once (directory and s3rver); storage stays bounded across A→B→C→D→E.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HANDOVER_REPORTS_KEPT } from '../../src/checkpoint/registry/sweep.ts';
import type { CheckpointStorage } from '../../src/checkpoint/storage/index.ts';
import { type JobHandle, openStorage, runJob } from '../../src/index.ts';
import { censusOfJobDir, type JobDirCensus } from '../support/job-dir-census.ts';
import { type S3rverHandle, startS3rver } from '../support/s3rver.ts';
import { checkpointPacer, committedLines, expectedSums, expectedSumsPrefix, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-handover-retention-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

const TO = 4_000;
const KEYS = 500;
const TARGET = 20;

/**
 * A with `retain: 1` and a checkpoint every 20 ms (a new base every 3 deltas, so old chunks do go);
 * B, started first, reads every chunk 2 checkpoints late (lagging storage, see
 * test/support/lagging-storage.ts): each checkpoint B follows has been superseded twice by the
 * time B downloads it. The input advances 150 numbers per checkpoint ended: it outlasts the target.
 */
async function lagBehindRetention(t: ReturnType<typeof fresh>, storageOf: (scheme: 'plain' | 'lagging') => string, s3?: object, lagging: Record<string, string> = {}) {
  const pacer = checkpointPacer(join(t.dir, 'paced'));
  const params = (out: string) => ({ output: join(t.dir, out), to: TO, intervalMs: 20, retain: 1, keys: KEYS, maxDeltas: 3, pacedBy: pacer.dir, segment: 150 });
  const events: Array<{ phase: string; checkpointId?: number; detail?: string }> = [];
  const b = await runJob(jobUrl('checkpointed-sum'), {
    jobId: t.jobId,
    parallelism: 2,
    checkpointStorage: storageOf('lagging'),
    ...(s3 ? { s3 } : {}),
    params: { ...params('out-b'), lagBy: 2, lagUntil: TARGET, ...lagging },
    handover: { targetCheckpoint: TARGET, timeoutMs: 120_000, pollMs: 20 },
  });
  b.on('checkpoint', pacer.ended);
  b.on('handover', (e) => events.push({ phase: e.phase, checkpointId: e.checkpointId, detail: e.detail }));
  // B's failure (the regression: a checkpoint A discarded under B) is what the test reports first.
  const doneB = b.done.catch((error: unknown) => error as Error);
  // B must not sweep or apply retention before it has taken over.
  const sweepsBeforeTakeover: unknown[] = [];
  b.on('storage-sweep', (s) => {
    if (!events.some((e) => e.phase === 'stage2-done')) sweepsBeforeTakeover.push(s);
  });
  // A starts once B's threads are up (its stop request is written by then): A's threads take as
  // long to start as B's did, so B is ready before A completes its first checkpoint.
  await new Promise<void>((resolve) => b.on('status', (s) => s.status === 'RUNNING_PRE_STATE_HOOKS' && resolve()));
  const a = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 2, checkpointStorage: storageOf('plain'), ...(s3 ? { s3 } : {}), params: params('out-a') });
  a.on('checkpoint', pacer.ended);
  const resultB = await doneB;
  if (resultB instanceof Error) {
    await a.cancel();
    throw resultB;
  }
  // B writes its report after its first record: wait for it, so nothing writes after the test.
  const reportOf = openStorage(`${storageOf('plain')}/${t.jobId}`, s3 ? { s3 } : {});
  while (!(await reportOf.exists(`handover/report-chk-${TARGET}.json`))) await new Promise((resolve) => setTimeout(resolve, 10));
  await reportOf.close();
  expect(resultB.status).toBe('FINISHED');
  const resultA = await a.done;
  expect(resultA.stoppedAtCheckpoint).toBe(TARGET);
  const h = resultB.handover!;
  expect(h.targetCheckpoint).toBe(TARGET);
  expect(h.followedCheckpoints).toBeGreaterThan(0);
  expect(sweepsBeforeTakeover).toEqual([]);
  // B's pin went with the takeover.
  const jobDir = openStorage(`${storageOf('plain')}/${t.jobId}`, s3 ? { s3 } : {});
  expect((await jobDir.list('handover/')).filter((k) => k.includes('/pin-'))).toEqual([]);
  await jobDir.close();
  const combined = [...committedLines(join(t.dir, 'out-a')), ...committedLines(join(t.dir, 'out-b'))].sort();
  expect(combined).toEqual(expectedSums(TO, KEYS));
  return { events, h };
}

describe('handover behind retain: 1', { timeout: 120_000 }, () => {
  it('on a directory: B reads every checkpoint two behind A, still takes over exactly once', async () => {
    const t = fresh('lag-fs');
    const { events, h } = await lagBehindRetention(t, (scheme) => (scheme === 'plain' ? t.storage : t.storage.replace(/^file:/, 'lagfile:')));
    console.log(`directory: followed ${h.followedCheckpoints}, skipped ${events.filter((e) => e.phase === 'follow-skipped').map((e) => e.checkpointId)}`);
  });

  it('without pins (their writes dropped), B skips the checkpoints A discards under it and its state stays exact', async () => {
    const t = fresh('lag-nopin');
    const { events } = await lagBehindRetention(t, (scheme) => (scheme === 'plain' ? t.storage : t.storage.replace(/^file:/, 'lagfile:')), undefined, { lagDropPins: 'true' });
    // Chunks read two checkpoints late with nothing held: A's retention discards under B.
    const skipped = events.filter((e) => e.phase === 'follow-skipped');
    console.log(`without pins: skipped ${skipped.map((e) => `${e.checkpointId} (${e.detail})`).join(', ')}`);
    expect(skipped.length).toBeGreaterThan(0);
  });

  it('on s3rver: the same', async () => {
    let s3: S3rverHandle | undefined;
    try {
      s3 = await startS3rver();
      const t = fresh('lag-s3');
      const s3Options = { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials };
      const bucket = s3.bucket;
      const { events, h } = await lagBehindRetention(t, (scheme) => `${scheme === 'plain' ? 's3' : 'lags3'}://${bucket}/checkpoints`, s3Options);
      console.log(`s3rver: followed ${h.followedCheckpoints}, skipped ${events.filter((e) => e.phase === 'follow-skipped').map((e) => e.checkpointId)}`);
    } finally {
      await s3?.close();
    }
  });
});

/** Bytes and objects under a directory on disk (temp files included). */
function diskFootprint(dir: string): { bytes: number; objects: number } {
  let bytes = 0;
  let objects = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    objects++;
    bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return { bytes, objects };
}

/** Resolves with the id of the next checkpoint `job` completes that is at least `atLeast`. */
function completedAtLeast(job: JobHandle, atLeast: number): Promise<number> {
  return new Promise((resolve) => job.on('checkpoint', (c) => c.status === 'COMPLETED' && c.id >= atLeast && resolve(c.id)));
}

/**
 * Objects (and, once nothing writes any more, bytes) in a job directory through its storage. While
 * a job runs, no object is read: s3rver throws (an uncaught ENOENT in the server) when a GET
 * meets a PUT of the same key still under way.
 */
async function storedFootprint(storage: CheckpointStorage, quiescent: boolean): Promise<{ bytes: number | undefined; objects: number }> {
  const keys = await storage.list('');
  if (!quiescent) return { bytes: undefined, objects: keys.length };
  const sizes = await Promise.all(keys.map(async (key) => (await storage.get(key)).length));
  return { bytes: sizes.reduce((x, y) => x + y, 0), objects: keys.length };
}

/**
 * Deployments `names` take over one after the other on one job directory (`checkpointStorage`,
 * with `s3` options on S3); `footprint` measures it. Returns the figures measured.
 */
async function chainOfHandovers(
  t: ReturnType<typeof fresh>,
  names: readonly string[],
  checkpointStorage: string,
  s3: object | undefined,
  footprint: (storage: CheckpointStorage, quiescent: boolean) => Promise<{ bytes: number | undefined; objects: number }>,
  onDisk?: string,
): Promise<string[]> {
  const retain = 2;
  const to = 200_000;
  const pacer = checkpointPacer(join(t.dir, 'paced'));
  const params = (name: string) => ({ output: join(t.dir, `out-${name}`), to, intervalMs: 100, retain, keys: KEYS, maxDeltas: 3, pacedBy: pacer.dir, segment: 300 });
  const jobDir = onDisk;
  const storage = openStorage(`${checkpointStorage}/${t.jobId}`, s3 ? { s3 } : {});
  const options = { jobId: t.jobId, parallelism: 2, checkpointStorage, ...(s3 ? { s3 } : {}) };
  const figures: string[] = [];
  /**
   * The directory holds the retained checkpoints' `_metadata` and chunks, the newest handover
   * reports and nothing else: no pin, no stop request, no folder of a failed checkpoint. Each
   * chain (2 key-group ranges) holds at most a base and 3 deltas.
   */
  const expectNothingElse = async (census: JobDirCensus, objects: number) => {
    const handover = await storage.list('handover/');
    expect(handover.every((k) => k.startsWith('handover/report-chk-')), handover.join()).toBe(true);
    // Each sweep keeps 3; the newest owner's own report may land after its last sweep.
    expect(handover.length).toBeLessThanOrEqual(HANDOVER_REPORTS_KEPT + 1);
    expect(objects).toBe(census.completed + census.chunks + handover.length);
    expect(census.chunks).toBeLessThanOrEqual(census.completed * 2 * 4);
  };
  const running: JobHandle[] = [];
  try {
    // Each owner is told where it ends (as an orchestrator would), so a successor started on a
    // busy machine can never find its target passed: the owner stops there whether or not the
    // successor's stop request came in time.
    const SPAN = 8;
    let owner = await runJob(jobUrl('checkpointed-sum'), { ...options, params: params(names[0]), stopAfterCheckpoint: SPAN });
    running.push(owner);
    owner.on('checkpoint', pacer.ended);
    let newest = await completedAtLeast(owner, 4);
    let target = SPAN;
    for (const name of names.slice(1)) {
      // What the old owner leaves behind besides retained checkpoints: a failed checkpoint, a
      // chunk nothing references, the pin of a follower that died (its lease long over).
      const old = newest - retain - 1;
      const leftovers = [`chk-${old}/_FAILED`, `shared/sum-0-63-${old}-delta-0badc0de`, 'handover/pin-dead-follower.json'];
      await storage.put(leftovers[0], new TextEncoder().encode(JSON.stringify({ checkpointId: old, reason: 'planted' })));
      await storage.put(leftovers[1], new Uint8Array(8));
      await storage.put(leftovers[2], new TextEncoder().encode(JSON.stringify({ runId: 'dead-follower', checkpoints: [old], renewedAt: 0, expiresAt: 1 })));
      const next = await runJob(jobUrl('checkpointed-sum'), {
        ...options,
        params: params(name),
        ...(name === names.at(-1) ? {} : { stopAfterCheckpoint: target + SPAN }),
        handover: { targetCheckpoint: target, timeoutMs: 120_000, pollMs: 20 },
      });
      running.push(next);
      next.on('checkpoint', pacer.ended);
      // The new owner's first completed checkpoint sweeps the whole directory (its retention now).
      const swept = new Promise<void>((resolve) => next.on('storage-sweep', (s) => 'report' in s && resolve()));
      // A failed handover (e.g. a target gone stale on a machine too busy) ends the test at once, with its error.
      const ended = next.done.then((r) => Promise.reject(new Error(`${name} ended ${r.status} before taking over`)));
      newest = await Promise.race([completedAtLeast(next, target + 1), ended]);
      const taken = target;
      target += SPAN;
      await swept;
      expect((await owner.done).stoppedAtCheckpoint).toBe(taken);
      for (const key of leftovers) expect(await storage.exists(key), key).toBe(false);
      // The new owner keeps checkpointing: what is measured now is a moving picture (a chunk
      // uploaded for its next checkpoint counts as an orphan here, a write under way as a temp
      // file), so only what no running job writes is asserted now (the planted leftovers are
      // gone, no pin, no stop request); the end state below is checked exactly.
      const census = await censusOfJobDir(storage, jobDir);
      const { bytes, objects } = await footprint(storage, false);
      figures.push(`after handover to ${name.toUpperCase()} (target ${taken}): ${objects} objects, ${bytes ?? '(not read while running)'} bytes, ${JSON.stringify(census)}`);
      const handover = await storage.list('handover/');
      expect(handover.every((k) => k.startsWith('handover/report-chk-')), handover.join()).toBe(true);
      owner = next;
    }
    const last = await owner.stop({ mode: 'suspend' });
    // The last owner writes its handover report after its first record: wait for it, so nothing writes after the test.
    while (!(await storage.exists(`handover/report-chk-${target - SPAN}.json`))) await new Promise((resolve) => setTimeout(resolve, 10));
    const census = await censusOfJobDir(storage, jobDir);
    const end = await footprint(storage, true);
    figures.push(`after ${names.at(-1)!.toUpperCase()} stopped (chk ${last.stoppedAtCheckpoint}): ${end.objects} objects, ${end.bytes} bytes, ${JSON.stringify(census)}`);
    console.log(`${checkpointStorage}:\n${figures.join('\n')}`);
    expect(census).toMatchObject({ completed: retain, failed: 0, unfinished: 0, orphans: 0, temps: 0 });
    await expectNothingElse(census, end.objects);
  } finally {
    await Promise.all(running.map((job) => job.cancel().catch(() => undefined)));
  }
  await storage.close();
  const out = names.flatMap((n) => committedLines(join(t.dir, `out-${n}`))).sort();
  expect(out).toEqual(expectedSumsPrefix(out, KEYS));
  return figures;
}

describe('ownership of the job directory passes with each handover', { timeout: 180_000 }, () => {
  it('A→B→C→D→E on a directory: each new owner cleans what the last one left; storage stays bounded, output exactly once', async () => {
    const t = fresh('chain');
    const onDisk = join(t.dir, 'checkpoints', t.jobId);
    await chainOfHandovers(t, ['a', 'b', 'c', 'd', 'e'], t.storage, undefined, async () => diskFootprint(onDisk), onDisk);
  });

  it('A→B→C→D on s3rver: the same', async () => {
    let s3: S3rverHandle | undefined;
    try {
      s3 = await startS3rver();
      const t = fresh('chain-s3');
      const s3Options = { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials };
      await chainOfHandovers(t, ['a', 'b', 'c', 'd'], `s3://${s3.bucket}/checkpoints`, s3Options, storedFootprint);
    } finally {
      await s3?.close();
    }
  });
});

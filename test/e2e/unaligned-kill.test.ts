// A worker killed while an unaligned checkpoint's channel state is being written (held at an S3 proxy): restart, exactly once.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointStatus, readMetadata } from '../../src/checkpoint/status/checkpoint-status.ts';
import { S3Storage } from '../../src/checkpoint/storage/index.ts';
import { type JobHandle, runJob } from '../../src/index.ts';
import { startS3GateProxy } from '../support/s3-gate-proxy.ts';
import type { S3rverHandle } from '../support/s3rver.ts';
import { checkpointPacer, committedLines, expectedSums, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-unaligned-kill-'));
const fresh = jobDirs(root);
let s3: S3rverHandle;

beforeAll(async () => {
  const { startS3rver } = await import('../support/s3rver.ts');
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.close();
  rmSync(root, { recursive: true, force: true });
});

/** The PUT of a channel-state file of a task with inputs (`sum`, `slow`, `out`); group 1 the checkpoint, 2 the file. */
const CHANNEL_STATE_PUT = /\/chk-(\d+)\/(channel-(?:sum|slow|out)-\d+)(?:\?|$)/;

/** A channel-state file without in-flight batches packs to about 20 bytes. */
const EMPTY_CHANNEL_STATE_MAX = 64;

/** `promise`, unless the job ends first: then a failure naming what never happened. */
function whileRunning<T>(job: JobHandle, promise: Promise<T>, what: string): Promise<T> {
  const ended = job.done.then(
    (r) => Promise.reject(new Error(`job ended ${r.status} before ${what}`)),
    (e: unknown) => Promise.reject(new Error(`job failed before ${what}: ${String(e)}`)),
  );
  return Promise.race([promise, ended]);
}

/**
 * Runs checkpointed-sum (parallelism 2, unaligned, a slow stage behind the keyed sum) with
 * checkpoints on S3 through a holding proxy, and kills a worker thread while checkpoint M writes
 * its channel state:
 * 1. arm once a checkpoint C whose tasks with inputs persisted in-flight data has completed;
 * 2. hold every channel-state PUT of the tasks with inputs of the next checkpoint M (> C) whose
 *    channel state is written: M cannot complete, and no later checkpoint can start meanwhile;
 * 3. once one held PUT carries in-flight data and another file of M is stored (M is IN_PROGRESS;
 *    with no file of M stored, the restarted attempt would number its first checkpoint M again),
 *    create the file the job's crash stage (chained to the source, always processing) waits for:
 *    the worker thread ends with process.exit;
 * 4. when the job is RESTARTING, that attempt's threads are gone: fail the held PUTs (a writer
 *    still alive would retry, and the retry would be let through).
 * Every step waits for an event (proxy, checkpoint, status), none for time.
 */
async function killDuringChannelStateWrite(name: string, extraParams: Record<string, string> = {}) {
  const t = fresh(name);
  mkdirSync(t.dir, { recursive: true });
  const proxy = await startS3GateProxy(s3.endpoint);
  const checkpointStorage = `s3://${s3.bucket}/checkpoints`;
  // Reads bypass the proxy.
  const direct = new S3Storage(`${checkpointStorage}/${t.jobId}`, { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials });
  try {
    let armedAfter: number | undefined;
    let heldId: number | undefined;
    const gate = proxy.hold(({ method, path, headers }) => {
      if (method !== 'PUT' || armedAfter === undefined) return false;
      const match = CHANNEL_STATE_PUT.exec(path);
      if (!match) return false;
      const id = Number(match[1]);
      // M is the first checkpoint after C whose channel state carries in-flight data: on a busy
      // machine the next one may have none, and holding it would wait for a file that never comes.
      if (heldId === undefined && id > armedAfter && Number(headers['content-length']) > EMPTY_CHANNEL_STATE_MAX) heldId = id;
      return id === heldId;
    });
    const crashFile = join(t.dir, 'crash-now');
    const pacer = checkpointPacer(join(t.dir, 'paced'));
    const marker = join(t.dir, 'crashed');
    const job = await runJob(jobUrl('checkpointed-sum'), {
      jobId: t.jobId,
      parallelism: 2,
      checkpointStorage,
      s3: { endpoint: proxy.endpoint, region: s3.region, credentials: s3.credentials },
      restartStrategy: { type: 'fixedDelay', attempts: 2, delayMs: 10 },
      // The input advances 1 000 numbers per checkpoint ended, so it cannot run out before
      // checkpoint M however busy the machine. The slow stage needs 150 ms for them; in batches of
      // 64 they queue in its input, so a barrier meanwhile overtakes in-flight data.
      batchSize: 64,
      params: { output: t.output, to: 8_000, mode: 'unaligned', slowMicros: 150, pacedBy: pacer.dir, segment: 1_000, crashWhenFile: crashFile, crashMarker: marker, ...extraParams },
    });
    job.on('checkpoint', pacer.ended);
    const completedBefore: number[] = [];
    const completedAfter: number[] = [];
    let restarted = false;
    job.on('checkpoint', (c) => {
      if (c.status !== 'COMPLETED') return;
      (restarted ? completedAfter : completedBefore).push(c.id);
      const inFlight = c.tasks.some((task) => task.uid !== 'numbers' && task.channelStateBytes > EMPTY_CHANNEL_STATE_MAX);
      if (armedAfter === undefined && inFlight) armedAfter = c.id;
    });
    const restarting = new Promise<void>((resolve) => {
      job.on('status', (e) => {
        if (e.status !== 'RESTARTING') return;
        restarted = true;
        resolve();
      });
    });

    const held = await whileRunning(
      job,
      gate.held((r) => Number(r.headers['content-length']) > EMPTY_CHANNEL_STATE_MAX),
      'a channel-state PUT carrying in-flight data was held',
    );
    const stored = await whileRunning(
      job,
      proxy.passed(({ method, path }) => method === 'PUT' && path.includes(`/chk-${heldId}/`)),
      `another file of checkpoint ${heldId} was stored`,
    );
    // Checked now: once the job restarted, a sweep may remove the files of the never completed M,
    // and the restored run's retention may discard C.
    const storedFile = stored.path.split('?')[0].slice(stored.path.indexOf(`chk-${heldId}/`));
    expect(await direct.exists(storedFile)).toBe(true);
    const restored = await readMetadata(direct, armedAfter!);
    for (const ref of restored.channelState ?? []) {
      expect(await direct.exists(`chk-${restored.checkpointId}/${ref.file}`)).toBe(true);
      for (const segment of ref.segments ?? []) expect(await direct.exists(`shared/${segment}`)).toBe(true);
    }
    writeFileSync(crashFile, `kill while ${held.method} ${held.path} is held`);
    await whileRunning(job, restarting, 'the job restarted');
    const heldFiles = gate.requests.map((r) => CHANNEL_STATE_PUT.exec(r.path)![2]);
    gate.fail();
    const result = await job.done;

    expect(result.status).toBe('FINISHED');
    expect(result.attempts).toBe(2);
    expect(existsSync(marker)).toBe(true);
    expect(heldId).toBeGreaterThanOrEqual(2);
    // Restarted from the last checkpoint completed before the kill, never from M; M's id is not reused.
    // That is C, or (a busy machine) a checkpoint between C and M whose channel state carried nothing
    // (not held, so it completed): both are valid restore points, and the output must be exact either way.
    expect(result.restoredFrom).toBe(completedBefore.at(-1));
    expect(result.restoredFrom).toBeGreaterThanOrEqual(armedAfter!);
    expect(result.restoredFrom).toBeLessThan(heldId!);
    expect(completedAfter.every((id) => id > heldId!)).toBe(true);
    // M never completed: none of its held channel-state files reached the store, another of its files did.
    expect(await checkpointStatus(direct, heldId!)).not.toBe('COMPLETED');
    expect(await direct.exists(`chk-${heldId}/_metadata`)).toBe(false);
    expect(gate.requests.some((r) => r.forwarded)).toBe(false);
    for (const file of heldFiles) expect(await direct.exists(`chk-${heldId}/${file}`)).toBe(false);
    // C held in-flight data, and every file of it is still stored.
    expect(restored.channelState?.some((ref) => ref.bytes > EMPTY_CHANNEL_STATE_MAX)).toBe(true);
    if (result.restoredFrom !== restored.checkpointId) console.warn(`restored from ${result.restoredFrom}, a checkpoint after C (${restored.checkpointId}) without in-flight data`);
    expect(committedLines(t.output)).toEqual(expectedSums(8_000));
    return { restored, held, requests: proxy.requests };
  } finally {
    await direct.close();
    await proxy.close();
  }
}

describe('a worker killed while an unaligned checkpoint writes its channel state (S3 through a holding proxy)', () => {
  it('spilling at the barrier: the job restarts from the previous checkpoint and commits exactly once', async () => {
    const { requests } = await killDuringChannelStateWrite('barrier');
    // In-flight data went into the checkpoints' channel-state files only.
    expect(requests.some((r) => r.path.includes('/shared/spill-'))).toBe(false);
  });

  it('continuous spilling: killed after the flush, while the file referring to spilled segments is written; exactly once', async () => {
    const { restored, held, requests } = await killDuringChannelStateWrite('continuous', { spill: 'continuous' });
    // The in-flight input of the restored checkpoint lives in spilled segments.
    expect(restored.channelState?.some((ref) => (ref.segments?.length ?? 0) > 0)).toBe(true);
    // The held file's task had written its segments (the checkpoint's flush was over): the kill came after them.
    const task = CHANNEL_STATE_PUT.exec(held.path)![2].slice('channel-'.length);
    const before = requests.slice(0, requests.indexOf(held));
    expect(before.some((r) => r.method === 'PUT' && r.path.includes(`/shared/spill-${task}-`) && r.status === 200)).toBe(true);
  });
});

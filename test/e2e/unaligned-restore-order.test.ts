// Restoring an unaligned checkpoint replays each channel in order: a subtask's recovered input before its upstream's recovered output.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMetadata } from '../../src/checkpoint/status/checkpoint-status.ts';
import { S3Storage } from '../../src/checkpoint/storage/index.ts';
import { type JobHandle, runJob } from '../../src/index.ts';
import { startS3GateProxy } from '../support/s3-gate-proxy.ts';
import type { S3rverHandle } from '../support/s3rver.ts';
import { committedLines, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';
import { expectedCounts } from './jobs/keyed-count.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-restore-order-'));
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

/** A channel-state file without in-flight batches packs to about 20 bytes. */
const EMPTY_CHANNEL_STATE_MAX = 64;
const TO = 6_000;
const KEYS = 7;

/** `promise`, unless the job ends first: then a failure naming what never happened. */
function whileRunning<T>(job: JobHandle, promise: Promise<T>, what: string): Promise<T> {
  const ended = job.done.then(
    (r) => Promise.reject(new Error(`job ended ${r.status} before ${what}`)),
    (e: unknown) => Promise.reject(new Error(`job failed before ${what}: ${String(e)}`)),
  );
  return Promise.race([promise, ended]);
}

describe('restoring an unaligned checkpoint with in-flight data on both sides of a channel', () => {
  it('replays the keyed stage’s recovered input before the source’s recovered output: every per-key count as in one uninterrupted run', { timeout: 120_000 }, async () => {
    const t = fresh('order');
    mkdirSync(t.dir, { recursive: true });
    const proxy = await startS3GateProxy(s3.endpoint);
    const checkpointStorage = `s3://${s3.bucket}/checkpoints`;
    const direct = new S3Storage(`${checkpointStorage}/${t.jobId}`, { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials });
    try {
      let armedAfter: number | undefined;
      let restarted = false;
      // 1. After checkpoint C (in-flight data on both sides of the source → count channels), no
      //    channel state of a later checkpoint is stored until the restart: none completes, the
      //    restart restores exactly C.
      const writes = proxy.hold(({ method, path }) => {
        if (method !== 'PUT' || armedAfter === undefined || restarted) return false;
        const match = /\/chk-(\d+)\/channel-/.exec(path);
        return match !== null && Number(match[1]) > armedAfter;
      });
      // 2. The restore's reads of the keyed stage's own channel state wait until the source's
      //    channel state (its recovered output) has been read: the race the old restore lost.
      const isOwnInputRead = ({ method, path }: { method: string; path: string }) => method === 'GET' && /\/chk-\d+\/channel-count-\d+(?:\?|$)/.test(path);
      const ownInput = proxy.hold((r) => restarted && isOwnInputRead(r));
      // Where in the proxy's log the source's channel state had been read (a busy machine may read it first anyway).
      let sourceReadMark: number | undefined;
      void proxy.passed(({ method, path }) => method === 'GET' && restarted && /\/chk-\d+\/channel-numbers-0(?:\?|$)/.test(path)).then(() => {
        sourceReadMark = proxy.requests.length;
        ownInput.release();
      });
      let restartMark = Number.POSITIVE_INFINITY;

      const crashFile = join(t.dir, 'crash-now');
      const marker = join(t.dir, 'crashed');
      const job = await runJob(jobUrl('keyed-count'), {
        jobId: t.jobId,
        parallelism: 2,
        // Small batches and few credits: the source is back-pressured long before its input ends.
        batchSize: 64,
        channelCredits: 2,
        checkpointStorage,
        s3: { endpoint: proxy.endpoint, region: s3.region, credentials: s3.credentials },
        restartStrategy: { type: 'fixedDelay', attempts: 2, delayMs: 10 },
        params: { output: t.output, to: TO, keys: KEYS, rate: 8_000, slowMicros: 300, crashWhenFile: crashFile, crashMarker: marker },
      });
      const armed = new Promise<number>((resolve) => {
        job.on('checkpoint', (c) => {
          if (c.status !== 'COMPLETED' || armedAfter !== undefined || restarted) return;
          const bytes = (uid: string) => c.tasks.filter((task) => task.uid === uid).map((task) => task.channelStateBytes);
          const sourceOutput = bytes('numbers').some((b) => b > EMPTY_CHANNEL_STATE_MAX);
          const countInput = bytes('count').every((b) => b > EMPTY_CHANNEL_STATE_MAX);
          if (!sourceOutput || !countInput) return;
          armedAfter = c.id;
          writeFileSync(crashFile, `kill after checkpoint ${c.id}`);
          resolve(c.id);
        });
      });
      const restarting = new Promise<void>((resolve) => {
        job.on('status', (e) => {
          if (e.status !== 'RESTARTING') return;
          restarted = true;
          restartMark = proxy.requests.length;
          writes.fail();
          resolve();
        });
      });
      const checkpointId = await whileRunning(job, armed, 'a checkpoint held in-flight data on both sides of the keyed stage’s input');
      // Read now: no later checkpoint completes before the restart, but after it retention may discard this one.
      const restored = await readMetadata(direct, checkpointId);
      await whileRunning(job, restarting, 'the job restarted');
      const result = await job.done;

      expect(result.status).toBe('FINISHED');
      expect(result.attempts).toBe(2);
      expect(existsSync(marker)).toBe(true);
      expect(result.restoredFrom).toBe(checkpointId);
      // The restored checkpoint held the source's unsent output and the keyed stage's unprocessed input.
      const refs = restored.channelState ?? [];
      expect(refs.some((ref) => ref.uid === 'numbers' && ref.bytes > EMPTY_CHANNEL_STATE_MAX)).toBe(true);
      expect(refs.filter((ref) => ref.uid === 'count' && ref.bytes > EMPTY_CHANNEL_STATE_MAX)).toHaveLength(2);
      // The restore read the keyed stage's own input only after the source's channel state: each
      // such read was either held for it, or (on a busy machine) came after it by itself.
      const ownReads = proxy.requests.map((r, i) => ({ r, i })).filter(({ r, i }) => i >= restartMark && isOwnInputRead(r));
      expect(ownReads.length).toBeGreaterThan(0);
      expect(sourceReadMark).toBeDefined();
      for (const { r, i } of ownReads) expect(ownInput.requests.some((h) => h === r) || i >= sourceReadMark!).toBe(true);
      expect(committedLines(t.output)).toEqual(expectedCounts(TO, KEYS));
    } finally {
      await direct.close();
      await proxy.close();
    }
  });
});

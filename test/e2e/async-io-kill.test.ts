// asyncMap on worker threads: a worker killed while requests are in flight; the restore re-issues
// the requests of the checkpoint and the committed output equals an uninterrupted run's.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readMetadata } from '../../src/checkpoint/status/checkpoint-status.ts';
import { openStorage } from '../../src/checkpoint/storage/index.ts';
import { type JobHandle, runJob } from '../../src/index.ts';
import { checkpointPacer, committedLines, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';
import { expectedEnrichment } from './jobs/async-enrichment.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-async-kill-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

const RECORDS = 4_000;
/**
 * The input is steady (RATE records/s, below what the lookup gets through: 2 subtasks x 8 in
 * flight / 5 ms), so requests are in flight at every moment until its end and any checkpoint
 * holds some, whenever the kill lands after the first such one. It also advances one SEGMENT per
 * completed checkpoint (far more than it reads meanwhile, so that never stops it): it cannot end
 * before three checkpoints, however busy the machine.
 */
const RATE = 2_000;
const SEGMENT = 1_000;

/** Elements (requests in flight or results waiting) the asyncMap subtasks stored in checkpoint `id`. */
async function inFlightIn(storageUri: string, id: number): Promise<number> {
  const meta = await readMetadata(openStorage(storageUri), id);
  const lookup = meta.operators.find((o) => o.uid === 'lookup');
  let elements = 0;
  for (const s of lookup?.subtasks ?? []) elements += ((s.state as { elements?: unknown[] } | undefined)?.elements ?? []).filter((e) => (e as { kind: string }).kind === 'record').length;
  return elements;
}

/** `promise`, unless the job ends first. */
function whileRunning<T>(job: JobHandle, promise: Promise<T>, what: string): Promise<T> {
  const ended = job.done.then(
    (r) => Promise.reject(new Error(`job ended ${r.status} before ${what}`)),
    (e: unknown) => Promise.reject(new Error(`job failed before ${what}: ${String(e)}`)),
  );
  return Promise.race([promise, ended]);
}

describe('asyncMap: a worker killed with requests in flight', () => {
  for (const { ordered, mode } of [
    { ordered: true, mode: 'aligned' },
    { ordered: false, mode: 'unaligned' },
  ] as const) {
    it(`${ordered ? 'ordered' : 'unordered'}, ${mode}: restarts from a checkpoint holding requests in flight, issues them again, commits exactly once`, async () => {
      const t = fresh(`async-${mode}`);
      mkdirSync(t.dir, { recursive: true });
      const pacer = checkpointPacer(join(t.dir, 'paced'));
      const crashFile = join(t.dir, 'crash-now');
      const marker = join(t.dir, 'crashed');
      const storageUri = `${t.storage}/${t.jobId}`;
      const job = await runJob(jobUrl('async-enrichment'), {
        jobId: t.jobId,
        parallelism: 2,
        checkpointStorage: t.storage,
        restartStrategy: { type: 'fixedDelay', attempts: 2, delayMs: 10 },
        params: { output: t.output, to: RECORDS, pacedBy: pacer.dir, segment: SEGMENT, rate: RATE, mode, ordered: String(ordered), latencyMs: 5, capacity: 8, crashWhenFile: crashFile, crashMarker: marker },
      });
      job.on('checkpoint', pacer.ended);
      // Kill once a completed checkpoint holds requests in flight (read back from its metadata).
      let checkpointWithRequests: number | undefined;
      const armed = new Promise<number>((resolve) => {
        let restarted = false;
        job.on('status', (e) => {
          if (e.status === 'RESTARTING') restarted = true;
        });
        job.on('checkpoint', (c) => {
          if (c.status !== 'COMPLETED' || restarted || checkpointWithRequests !== undefined) return;
          void inFlightIn(storageUri, c.id).then((n) => {
            if (n === 0 || checkpointWithRequests !== undefined) return;
            checkpointWithRequests = c.id;
            writeFileSync(crashFile, `after checkpoint ${c.id} with ${n} requests in flight`);
            resolve(c.id);
          });
        });
      });
      await whileRunning(job, armed, 'a checkpoint with requests in flight completed');
      const result = await job.done;
      const restoredInFlight = result.restoredFrom === undefined ? -1 : await inFlightIn(storageUri, result.restoredFrom);
      const lines = committedLines(t.output);
      const expected = expectedEnrichment(RECORDS);
      const context = JSON.stringify({
        status: result.status,
        attempts: result.attempts,
        killedAfter: checkpointWithRequests,
        restoredFrom: result.restoredFrom,
        restoredInFlight,
        committed: lines.length,
        distinct: new Set(lines).size,
        missing: expected.filter((l) => !lines.includes(l)).slice(0, 5),
        history: result.statusHistory.map((e) => e.status),
      });

      expect(result.status, context).toBe('FINISHED');
      expect(result.attempts, context).toBe(2);
      expect(result.restoredFrom, context).toBeGreaterThanOrEqual(checkpointWithRequests!);
      // The checkpoint the restart restored held requests in flight: they were issued again.
      expect(restoredInFlight, context).toBeGreaterThan(0);
      expect(lines, context).toEqual(expected);
    });
  }
});

// Lifecycle lines as JSON: a real job's status changes, checkpoints and end; redaction of free text.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { runJob } from '../../src/index.ts';
import { attachJobLogger, createLifecycleLogger } from '../../src/metrics/index.ts';
import { JobHandle } from '../../src/runtime/index.ts';
import { jobDirs } from '../e2e/checkpoint-helpers.ts';
import { jobUrl } from '../e2e/helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-logs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

type Line = Record<string, unknown>;

/** A destination that parses each line pino writes. */
function capture(): { lines: Line[]; raw: string[]; stream: { write(s: string): void } } {
  const lines: Line[] = [];
  const raw: string[] = [];
  return {
    lines,
    raw,
    stream: {
      write(s: string) {
        raw.push(s);
        lines.push(JSON.parse(s));
      },
    },
  };
}

describe('attachJobLogger', () => {
  it('writes one JSON line per status change, per checkpoint and at the end of a real job', async () => {
    const t = fresh('log');
    const { lines, raw, stream } = capture();
    const job = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 1, checkpointStorage: t.storage, params: { output: t.output, to: 3_000 } });
    attachJobLogger(job, createLifecycleLogger(stream));
    const result = await job.done;
    expect(raw.every((s) => s.endsWith('\n') && !s.slice(0, -1).includes('\n'))).toBe(true);
    expect(lines.every((l) => l.job === t.jobId && typeof l.event === 'string' && typeof l.time === 'string')).toBe(true);
    const statuses = lines.filter((l) => l.event === 'status').map((l) => l.status);
    expect(statuses).toContain('RUNNING');
    expect(statuses.at(-1)).toBe('FINISHED');
    const running = lines.find((l) => l.event === 'status' && l.status === 'RUNNING')!;
    expect(running).toMatchObject({ level: 30, previous: 'WAITING_FOR_START_SIGNAL', msg: 'job RUNNING' });
    const checkpoints = lines.filter((l) => l.event === 'checkpoint');
    expect(checkpoints.length).toBe(result.checkpoints.length);
    expect(checkpoints[0]).toMatchObject({ checkpointId: result.checkpoints[0].id, status: result.checkpoints[0].status });
    expect(typeof checkpoints[0].durationMs).toBe('number');
    expect(lines.at(-1)).toMatchObject({ event: 'job-done', status: 'FINISHED', attempts: 1 });
  });

  it('logs failures, handover phases, stop requests and reference data with credentials removed', async () => {
    const { lines, stream } = capture();
    const handle = new JobHandle('orders');
    attachJobLogger(handle, pino({ base: undefined }, stream));
    handle.emit('checkpoint', {
      id: 4,
      status: 'FAILED',
      triggeredAt: 0,
      endedAt: 5,
      durationMs: 5,
      stateBytes: 0,
      channelStateBytes: 0,
      spilledBytes: 0,
      tasks: [],
      failure: 'PUT s3://AKIAABCDEFGHIJKLMNOP:hunter2@minio/chk-4 denied',
    });
    handle.emit('stop-request', { afterCheckpoint: 2, accepted: false, reason: 'checkpoint 3 already completed' });
    handle.emit('reference-data', { uri: 'https://h/ref.bin?X-Amz-Signature=abc', loadedBytes: 10, totalBytes: 20 });
    handle.emit('reference-data', { uri: 'https://h/ref.bin?X-Amz-Signature=abc', loadedBytes: 20, totalBytes: 20 });
    handle.emit('handover', {
      phase: 'followed',
      at: 0,
      checkpointId: 6,
      detail: 'password=swordfish',
      metrics: { requestedTarget: 7, targetCheckpoint: 7, moves: [], outcome: 'pending', hookMs: 5, stage1Checkpoint: 5, stage1Ms: 10, stage1Bytes: 1, waitMs: 20, followedCheckpoints: 1, passedOverCheckpoints: 0, followBytes: 1, rangesReloaded: 0, stage2Ms: 0, stage2Bytes: 0, targetReadyBeforeJob: false, lastRecordAt: undefined, firstRecordAt: undefined, downtimeMs: undefined },
    });
    const text = JSON.stringify(lines);
    for (const secret of ['hunter2', 'AKIAABCDEFGHIJKLMNOP', 'swordfish', 'X-Amz-Signature=abc']) expect(text).not.toContain(secret);
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, event: 'checkpoint', checkpointId: 4, status: 'FAILED', failure: 'PUT s3://***@minio/chk-4 denied' }),
      expect.objectContaining({ level: 40, event: 'stop-request', accepted: false, afterCheckpoint: 2, reason: 'checkpoint 3 already completed' }),
      expect.objectContaining({ level: 30, event: 'reference-data', uri: 'https://h/ref.bin?X-Amz-Signature=***', bytes: 20 }),
      expect.objectContaining({ level: 30, event: 'handover', phase: 'followed', checkpointId: 6, detail: 'password=***', stage1Ms: 10, waitMs: 20 }),
    ]);
    expect(lines[3]).not.toHaveProperty('downtimeMs');
  });

  it('logs the end of input with the final checkpoint it triggered', () => {
    const { lines, stream } = capture();
    const handle = new JobHandle('orders');
    attachJobLogger(handle, pino({ base: undefined }, stream));
    handle.emit('end-of-input', { at: 1, finalCheckpoint: 9 });
    expect(lines).toEqual([expect.objectContaining({ level: 30, event: 'end-of-input', checkpointId: 9, msg: 'end of input: final checkpoint 9 triggered' })]);
  });

  it('logs where the state came from: the checkpoint restored, or an empty start', () => {
    const { lines, stream } = capture();
    const handle = new JobHandle('orders');
    attachJobLogger(handle, pino({ base: undefined }, stream));
    const jobDir = 's3://ckpt/prod/orders';
    handle.emit('restore', { checkpointId: 7, jobDir, requested: 'latest', restart: false, message: `restored checkpoint 7 from ${jobDir} (restoreFrom 'latest')` });
    handle.emit('restore', { checkpointId: undefined, jobDir, requested: 'latest-or-empty', restart: false, message: `started empty: no checkpoint in ${jobDir} (restoreFrom 'latest-or-empty')` });
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, event: 'restore', checkpointId: 7, jobDir, requested: 'latest', empty: false, msg: `restored checkpoint 7 from ${jobDir} (restoreFrom 'latest')` }),
      expect.objectContaining({ level: 30, event: 'restore', jobDir, requested: 'latest-or-empty', empty: true, msg: expect.stringMatching(/^started empty: no checkpoint in/) }),
    ]);
    expect(lines[1]).not.toHaveProperty('checkpointId');
  });

  it('logs a storage problem (warn, with its cause) and its recovery, and a restore fallback naming every skipped checkpoint', () => {
    const { lines, stream } = capture();
    const handle = new JobHandle('orders');
    attachJobLogger(handle, pino({ base: undefined }, stream));
    handle.emit('storage-problem', { operation: 'read stop request', error: 'GET s3://AKIAABCDEFGHIJKLMNOP:hunter2@minio/x: 503', failures: 1, recovered: false });
    handle.emit('storage-problem', { operation: 'read stop request', error: '503', failures: 34, recovered: true });
    handle.emit('restore-fallback', { checkpointId: 2, skipped: [{ id: 4, reason: 'checksum' }, { id: 3, reason: 'truncated' }], message: 'passed over chk-4, chk-3; restoring checkpoint 2' });
    expect(JSON.stringify(lines)).not.toContain('hunter2');
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, event: 'storage-problem', operation: 'read stop request', failures: 1, recovered: false, msg: expect.stringMatching(/^storage problem \(read stop request\): GET s3:\/\/\*\*\*@minio/) }),
      expect.objectContaining({ level: 30, event: 'storage-problem', failures: 34, recovered: true, msg: 'storage works again (read stop request) after 34 failed attempt(s)' }),
      expect.objectContaining({ level: 40, event: 'restore-fallback', checkpointId: 2, skipped: [{ id: 4, reason: 'checksum' }, { id: 3, reason: 'truncated' }] }),
    ]);
  });
});

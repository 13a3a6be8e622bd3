// attachJobMetrics against a hand-driven job handle: every event kind lands in the right baton_* series.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { attachJobMetrics } from '../../src/metrics/index.ts';
import { JobHandle, type HandoverMetrics } from '../../src/runtime/index.ts';
import type { CheckpointStats } from '../../src/runtime/index.ts';
import { sample } from './scrape.ts';

function checkpoint(id: number, overrides: Partial<CheckpointStats> = {}): CheckpointStats {
  return {
    id,
    status: 'COMPLETED',
    triggeredAt: 0,
    endedAt: 30,
    durationMs: 30,
    stateBytes: 1_000,
    channelStateBytes: 200,
    spilledBytes: 0,
    tasks: [
      { task: '1/0', uid: 'sum', subtaskIndex: 0, unaligned: false, alignmentMs: 12, syncMs: 1, asyncMs: 5, stateBytes: 600, channelStateBytes: 0 },
      { task: '1/1', uid: 'sum', subtaskIndex: 1, unaligned: true, alignmentMs: 4, syncMs: 1, asyncMs: 5, stateBytes: 400, channelStateBytes: 200 },
    ],
    ...overrides,
  };
}

const handover: HandoverMetrics = {
  requestedTarget: 7,
  targetCheckpoint: 8,
  moves: [],
  outcome: 'target',
  hookMs: 1_500,
  stage1Checkpoint: 5,
  stage1Ms: 800,
  stage1Bytes: 10_000,
  waitMs: 2_000,
  followedCheckpoints: 3,
  passedOverCheckpoints: 0,
  followBytes: 3_000,
  rangesReloaded: 2,
  stage2Ms: 40,
  stage2Bytes: 500,
  targetReadyBeforeJob: false,
  lastRecordAt: 1_000,
  firstRecordAt: 1_120,
  downtimeMs: 120,
};

function setup() {
  const registry = new Registry();
  const handle = new JobHandle('orders');
  const observer = attachJobMetrics(handle, registry);
  const read = async (name: string, labels: Record<string, string> = {}) => sample(await registry.metrics(), name, { job: 'orders', ...labels });
  return { registry, handle, observer, read };
}

describe('attachJobMetrics (events)', () => {
  it('keeps one status gauge at 1 and records how long start-up statuses took', async () => {
    const t = setup();
    expect(await t.read('baton_job_status', { status: 'CREATED' })).toBe(1);
    t.handle.transition({ type: 'initialize' });
    t.handle.transition({ type: 'workers-ready' });
    expect(await t.read('baton_job_status', { status: 'CREATED' })).toBe(0);
    expect(await t.read('baton_job_status', { status: 'RUNNING_PRE_STATE_HOOKS' })).toBe(1);
    expect(await t.read('baton_job_status_seconds', { status: 'INITIALIZING' })).toBeGreaterThanOrEqual(0);
    expect(await t.read('baton_checkpoints_completed_total')).toBe(0);
  });

  it('counts records from cumulative progress, across a restart, and back-pressure in seconds', async () => {
    const t = setup();
    const progress = (recordsIn: number, backpressuredMs: number) =>
      t.handle.emit('progress', { at: 0, operators: { sum: { recordsIn, recordsOut: recordsIn, backpressuredMs } } });
    progress(100, 500);
    progress(300, 1_500);
    expect(await t.read('baton_records_in_total', { operator: 'sum' })).toBe(300);
    expect(await t.read('baton_backpressured_seconds_total', { operator: 'sum' })).toBe(1.5);
    t.handle.transition({ type: 'initialize' });
    t.handle.transition({ type: 'restart' });
    progress(50, 0);
    expect(await t.read('baton_records_in_total', { operator: 'sum' })).toBe(350);
    expect(await t.read('baton_records_out_total', { operator: 'sum' })).toBe(350);
    expect(await t.read('baton_job_restarts_total')).toBe(1);
  });

  it('records completed and failed checkpoints: counts, duration histogram, sizes, alignment', async () => {
    const t = setup();
    t.handle.emit('checkpoint', checkpoint(1));
    t.handle.emit('checkpoint', checkpoint(2, { status: 'FAILED', failure: 'timeout' }));
    t.handle.emit('checkpoint', checkpoint(3, { durationMs: 2_000, stateBytes: 4_000 }));
    expect(await t.read('baton_checkpoints_completed_total')).toBe(2);
    expect(await t.read('baton_checkpoints_failed_total')).toBe(1);
    expect(await t.read('baton_checkpoint_duration_seconds_count')).toBe(2);
    expect(await t.read('baton_checkpoint_duration_seconds_sum')).toBeCloseTo(2.03);
    expect(await t.read('baton_checkpoint_duration_seconds_bucket', { le: '0.05' })).toBe(1);
    expect(await t.read('baton_checkpoint_last_completed_id')).toBe(3);
    expect(await t.read('baton_checkpoint_state_bytes')).toBe(4_000);
    expect(await t.read('baton_checkpoint_channel_state_bytes')).toBe(200);
    expect(await t.read('baton_checkpoint_alignment_seconds')).toBe(0.012);
    expect(await t.read('baton_checkpoint_unaligned_subtasks')).toBe(1);
  });

  it('records handover stage times, bytes, followed checkpoints and downtime', async () => {
    const t = setup();
    t.handle.emit('handover', { phase: 'running', at: 0, checkpointId: 8, metrics: handover });
    expect(await t.read('baton_handover_stage_seconds', { stage: 'hook' })).toBe(1.5);
    expect(await t.read('baton_handover_stage_seconds', { stage: 'stage1' })).toBe(0.8);
    expect(await t.read('baton_handover_stage_seconds', { stage: 'wait' })).toBe(2);
    expect(await t.read('baton_handover_stage_seconds', { stage: 'stage2' })).toBe(0.04);
    expect(await t.read('baton_handover_bytes', { stage: 'follow' })).toBe(3_000);
    expect(await t.read('baton_handover_followed_checkpoints')).toBe(3);
    expect(await t.read('baton_handover_ranges_reloaded')).toBe(2);
    expect(await t.read('baton_handover_target_checkpoint')).toBe(8);
    expect(await t.read('baton_handover_downtime_seconds')).toBe(0.12);
  });

  it('a shadow deployment: status SHADOW, records written in shadow, the overlap with the old deployment', async () => {
    const t = setup();
    t.handle.transition({ type: 'initialize' });
    t.handle.transition({ type: 'workers-ready' });
    t.handle.transition({ type: 'hooks-done' });
    t.handle.transition({ type: 'state-restored' });
    t.handle.transition({ type: 'shadow-start' });
    expect(await t.read('baton_job_status', { status: 'SHADOW' })).toBe(1);
    expect(await t.read('baton_job_status', { status: 'RUNNING' })).toBe(0);
    const shadow = { ...handover, mode: 'shadow' as const, shadow: { bootstrapCheckpoint: 5, shadowRecords: 420, overlapMs: 1_500 } };
    t.handle.emit('handover', { phase: 'shadow-sample', at: 0, metrics: shadow });
    expect(await t.read('baton_handover_shadow_records')).toBe(420);
    expect(await t.read('baton_handover_shadow_overlap_seconds')).toBe(1.5);
  });

  it('records reference data bytes per URI without credentials, and stop requests by outcome', async () => {
    const t = setup();
    t.handle.emit('reference-data', { uri: 's3://key:secret@bucket/ref.bin', loadedBytes: 512, totalBytes: 1_024 });
    t.handle.emit('reference-data', { uri: 's3://key:secret@bucket/ref.bin', loadedBytes: 1_024, totalBytes: 1_024 });
    t.handle.emit('stop-request', { afterCheckpoint: 9, accepted: true });
    t.handle.emit('stop-request', { afterCheckpoint: 3, accepted: false, reason: 'too late' });
    const body = await t.registry.metrics();
    expect(body).not.toContain('secret');
    expect(sample(body, 'baton_reference_data_loaded_bytes', { job: 'orders', uri: 's3://***@bucket/ref.bin' })).toBe(1_024);
    expect(sample(body, 'baton_stop_requests_total', { job: 'orders', outcome: 'accepted' })).toBe(1);
    expect(sample(body, 'baton_stop_requests_total', { job: 'orders', outcome: 'rejected' })).toBe(1);
  });

  it('shares one registry between jobs, and stops following a job once detached', async () => {
    const t = setup();
    const other = new JobHandle('payments');
    attachJobMetrics(other, t.registry);
    other.emit('checkpoint', checkpoint(1));
    t.observer.detach();
    t.handle.emit('checkpoint', checkpoint(1));
    const body = await t.registry.metrics();
    expect(sample(body, 'baton_checkpoints_completed_total', { job: 'payments' })).toBe(1);
    expect(sample(body, 'baton_checkpoints_completed_total', { job: 'orders' })).toBe(0);
  });
});

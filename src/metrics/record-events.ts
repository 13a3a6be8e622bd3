// Applies one job-handle event to the metric families: checkpoints, handover figures, reference data.
import type { CheckpointStats, HandoverMetrics, JobStatus, ReferenceDataProgressEvent } from '../runtime/index.ts';
import { JobStatus as Statuses } from '../runtime/index.ts';
import type { JobMetricFamilies } from './metric-families.ts';
import { redactCredentials } from './redact.ts';

const ALL_STATUSES = Object.values(Statuses);

/** 1 for `current`, 0 for every other status, so a dashboard can always select on status="...". */
export function recordStatus(m: JobMetricFamilies, job: string, current: JobStatus): void {
  for (const status of ALL_STATUSES) m.status.set({ job, status }, status === current ? 1 : 0);
}

export function recordCheckpoint(m: JobMetricFamilies, job: string, stats: CheckpointStats): void {
  if (stats.status === 'FAILED') {
    m.checkpointsFailed.inc({ job });
    return;
  }
  m.checkpointsCompleted.inc({ job });
  m.checkpointDuration.observe({ job }, stats.durationMs / 1000);
  m.lastCompletedCheckpoint.set({ job }, stats.id);
  m.checkpointStateBytes.set({ job }, stats.stateBytes);
  m.checkpointChannelStateBytes.set({ job }, stats.channelStateBytes);
  m.checkpointSpilledBytes.set({ job }, stats.spilledBytes);
  let alignmentMs = 0;
  let unaligned = 0;
  for (const task of stats.tasks) {
    if (task.alignmentMs > alignmentMs) alignmentMs = task.alignmentMs;
    if (task.unaligned) unaligned++;
  }
  m.checkpointAlignment.set({ job }, alignmentMs / 1000);
  m.checkpointUnalignedSubtasks.set({ job }, unaligned);
}

export function recordHandover(m: JobMetricFamilies, job: string, h: HandoverMetrics): void {
  m.handoverStage.set({ job, stage: 'hook' }, h.hookMs / 1000);
  m.handoverStage.set({ job, stage: 'stage1' }, h.stage1Ms / 1000);
  m.handoverStage.set({ job, stage: 'wait' }, h.waitMs / 1000);
  m.handoverStage.set({ job, stage: 'stage2' }, h.stage2Ms / 1000);
  m.handoverBytes.set({ job, stage: 'stage1' }, h.stage1Bytes);
  m.handoverBytes.set({ job, stage: 'follow' }, h.followBytes);
  m.handoverBytes.set({ job, stage: 'stage2' }, h.stage2Bytes);
  m.handoverFollowed.set({ job }, h.followedCheckpoints);
  m.handoverRangesReloaded.set({ job }, h.rangesReloaded);
  m.handoverTarget.set({ job }, h.targetCheckpoint);
  if (h.downtimeMs !== undefined) m.handoverDowntime.set({ job }, h.downtimeMs / 1000);
  if (h.shadow) {
    m.handoverShadowRecords.set({ job }, h.shadow.shadowRecords);
    if (h.shadow.overlapMs !== undefined) m.handoverShadowOverlap.set({ job }, h.shadow.overlapMs / 1000);
  }
}

export function recordReferenceData(m: JobMetricFamilies, job: string, progress: ReferenceDataProgressEvent): void {
  // A label value is scraped and stored by anyone: never a password or a signed URL.
  const uri = redactCredentials(progress.uri);
  m.referenceDataLoaded.set({ job, uri }, progress.loadedBytes);
  m.referenceDataTotal.set({ job, uri }, progress.totalBytes);
}

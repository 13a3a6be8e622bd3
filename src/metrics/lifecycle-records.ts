// What each lifecycle event of a job says in a log line (pure: no logger, no I/O).
import type { CheckpointStats, JobResult, ReferenceDataProgressEvent, RestoreEvent, RestoreFallbackEvent, StatusEvent, StorageProblemEvent, StorageSweepEvent } from '../runtime/index.ts';
import { redactCredentials } from './redact.ts';
import type { HandoverEvent, LifecycleRecord, StopRequestEvent } from './types.ts';

/** Free text from storage clients and user code passes through here: no credentials in a log. */
function text(value: string | undefined): string | undefined {
  return value === undefined ? undefined : redactCredentials(value);
}

/** Fields with an undefined value left out, so a line holds only what is known. */
function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

export function statusRecord(e: StatusEvent): LifecycleRecord {
  return {
    level: e.status === 'FAILED' ? 'error' : 'info',
    msg: `job ${e.status}`,
    fields: { event: 'status', status: e.status, previous: e.previous, at: e.at },
  };
}

/** Where the run's state came from: the checkpoint restored, or an empty start. */
export function restoreRecord(r: RestoreEvent): LifecycleRecord {
  return {
    level: 'info',
    msg: text(r.message) ?? '',
    fields: { event: 'restore', ...defined({ checkpointId: r.checkpointId, jobDir: text(r.jobDir), requested: r.requested }), restart: r.restart, empty: r.checkpointId === undefined },
  };
}

export function checkpointRecord(c: CheckpointStats): LifecycleRecord {
  const base = { event: 'checkpoint' as const, checkpointId: c.id, status: c.status, durationMs: c.durationMs };
  if (c.status === 'FAILED') {
    return { level: 'warn', msg: `checkpoint ${c.id} FAILED`, fields: { ...base, ...defined({ failure: text(c.failure) }) } };
  }
  let alignmentMs = 0;
  let unalignedSubtasks = 0;
  for (const t of c.tasks) {
    alignmentMs = Math.max(alignmentMs, t.alignmentMs);
    if (t.unaligned) unalignedSubtasks++;
  }
  return {
    level: 'info',
    msg: `checkpoint ${c.id} COMPLETED`,
    fields: { ...base, stateBytes: c.stateBytes, channelStateBytes: c.channelStateBytes, spilledBytes: c.spilledBytes, alignmentMs, unalignedSubtasks },
  };
}

export function handoverRecord(h: HandoverEvent): LifecycleRecord {
  const m = h.metrics;
  if (!m) {
    // Deployment A's side: standby, end, rollback (with its downtime once A processes again).
    return {
      level: h.phase === 'rollback' ? 'warn' : 'info',
      msg: `handover ${h.phase}`,
      fields: { event: 'handover', side: 'predecessor', phase: h.phase, ...defined({ checkpointId: h.checkpointId, detail: text(h.detail), rollbackDowntimeMs: h.rollbackDowntimeMs }) },
    };
  }
  return {
    level: 'info',
    msg: `handover ${h.phase}`,
    fields: {
      event: 'handover',
      phase: h.phase,
      ...defined({ checkpointId: h.checkpointId, detail: text(h.detail) }),
      targetCheckpoint: m.targetCheckpoint,
      hookMs: m.hookMs,
      stage1Ms: m.stage1Ms,
      waitMs: m.waitMs,
      followedCheckpoints: m.followedCheckpoints,
      passedOverCheckpoints: m.passedOverCheckpoints,
      rangesReloaded: m.rangesReloaded,
      stage2Ms: m.stage2Ms,
      ...defined({ downtimeMs: m.downtimeMs }),
    },
  };
}

export function stopRequestRecord(r: StopRequestEvent): LifecycleRecord {
  return {
    level: r.accepted ? 'info' : 'warn',
    msg: `stop request ${r.accepted ? 'accepted' : 'rejected'}`,
    fields: { event: 'stop-request', accepted: r.accepted, ...defined({ afterCheckpoint: r.afterCheckpoint, reason: text(r.reason) }) },
  };
}

/** A restore passed over unusable checkpoints: a warning naming each, since committed output may repeat. */
export function restoreFallbackRecord(r: RestoreFallbackEvent): LifecycleRecord {
  return {
    level: 'warn',
    msg: text(r.message) ?? '',
    fields: { event: 'restore-fallback', ...defined({ checkpointId: r.checkpointId }), skipped: r.skipped.map((s) => ({ id: s.id, reason: text(s.reason) })) },
  };
}

/** Every source read all its input: the final checkpoint (named) was triggered; the job finishes once it completes. */
export function endOfInputRecord(e: { at: number; finalCheckpoint: number }): LifecycleRecord {
  return {
    level: 'info',
    msg: `end of input: final checkpoint ${e.finalCheckpoint} triggered`,
    fields: { event: 'end-of-input', checkpointId: e.finalCheckpoint },
  };
}

/** A sweep of the job directory: what it removed, or (a warning) why it could not; leftovers then wait for the next one. */
export function storageSweepRecord(e: StorageSweepEvent): LifecycleRecord {
  const when = e.takeover === true ? 'takeover' : 'scheduled';
  if ('error' in e) {
    const message = e.error instanceof Error ? e.error.message : String(e.error);
    return { level: 'warn', msg: 'storage sweep failed', fields: { event: 'storage-sweep', when, error: text(message) } };
  }
  const r = e.report;
  return {
    level: r.unreadable.length > 0 ? 'warn' : 'info',
    msg: 'storage sweep',
    fields: {
      event: 'storage-sweep',
      when,
      discarded: r.discarded.length,
      abandoned: r.abandoned.length,
      orphans: r.orphans.length,
      temporaries: r.temporaries,
      ...(r.unreadable.length > 0 ? { unreadable: r.unreadable } : {}),
    },
  };
}

/** A periodic storage call failing (warn, with the cause) or working again (info). */
export function storageProblemRecord(p: StorageProblemEvent): LifecycleRecord {
  return {
    level: p.recovered ? 'info' : 'warn',
    msg: p.recovered ? `storage works again (${p.operation}) after ${p.failures} failed attempt(s)` : `storage problem (${p.operation}): ${text(p.error)}`,
    fields: { event: 'storage-problem', operation: p.operation, failures: p.failures, recovered: p.recovered, error: text(p.error) },
  };
}

/** Reference data: one line when a load completes (the progress events in between are not lifecycle). */
export function referenceDataRecord(p: ReferenceDataProgressEvent, durationMs: number): LifecycleRecord {
  return {
    level: 'info',
    msg: 'reference data loaded',
    fields: { event: 'reference-data', uri: redactCredentials(p.uri), bytes: p.totalBytes, durationMs },
  };
}

export function doneRecord(r: JobResult): LifecycleRecord {
  const completed = r.checkpoints.filter((c) => c.status === 'COMPLETED').length;
  return {
    level: 'info',
    msg: `job ended ${r.status}`,
    fields: {
      event: 'job-done',
      status: r.status,
      durationMs: r.durationMs,
      attempts: r.attempts,
      checkpointsCompleted: completed,
      checkpointsFailed: r.checkpoints.length - completed,
      ...defined({ restoredFrom: r.restoredFrom, stoppedAtCheckpoint: r.stoppedAtCheckpoint }),
    },
  };
}

export function failedRecord(error: unknown): LifecycleRecord {
  const e = error as { name?: string; message?: string } | undefined;
  return {
    level: 'error',
    msg: 'job failed',
    fields: { event: 'job-failed', error: redactCredentials(e?.message ?? String(error)), errorType: e?.name ?? typeof error },
  };
}

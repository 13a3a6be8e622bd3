// The workers' latest counters, summed per operator: the 'progress' event, a checkpoint's `progress`, a shadow's guard.
import type { CheckpointProgress } from '../../checkpoint/index.ts';
import type { SubtaskMetricsReport } from '../worker/protocol.ts';
import type { OperatorProgress } from './job-handle.ts';

/**
 * Sums the last report of every subtask (`uid/subtask` → report) per operator uid.
 *
 * @example progressByOperator(attempt.latestMetrics).count.recordsIn
 */
export function progressByOperator(reports: ReadonlyMap<string, SubtaskMetricsReport>): Record<string, OperatorProgress> {
  const operators: Record<string, OperatorProgress> = {};
  for (const report of reports.values()) {
    const entry = operators[report.uid] ?? { recordsIn: 0, recordsOut: 0, backpressuredMs: 0 };
    operators[report.uid] = entry;
    entry.recordsIn += report.metrics.recordsIn;
    entry.recordsOut += report.metrics.recordsOut;
    entry.backpressuredMs += report.backpressuredMs ?? 0;
    if (report.metrics.lateRecordsDropped !== undefined) entry.lateRecordsDropped = (entry.lateRecordsDropped ?? 0) + report.metrics.lateRecordsDropped;
  }
  return operators;
}

/**
 * The counters a checkpoint's metadata records (records in/out, late records dropped), as of the
 * workers' reports at `at`; undefined before their first report.
 *
 * @example checkpointProgress(attempt.latestMetrics, lastReportAt)
 */
export function checkpointProgress(reports: ReadonlyMap<string, SubtaskMetricsReport>, at: number | undefined): CheckpointProgress | undefined {
  if (at === undefined) return undefined;
  const operators: Record<string, { recordsIn: number; recordsOut: number; lateRecordsDropped?: number }> = {};
  for (const [uid, op] of Object.entries(progressByOperator(reports))) {
    operators[uid] = { recordsIn: op.recordsIn, recordsOut: op.recordsOut, ...(op.lateRecordsDropped !== undefined ? { lateRecordsDropped: op.lateRecordsDropped } : {}) };
  }
  return { at, operators };
}

// The result of a job and how it is assembled from the workers' reports.
import type { ChannelStats } from '../channels/types.ts';
import type { CheckpointStats } from './checkpoint-driver.ts';
import type { HandoverMetrics, RollbackReport } from './start-sequence.ts';
import type { JobStatus, StatusEvent } from '../lifecycle/job-status.ts';
import type { JobGraph } from '../types.ts';
import type { SubtaskMetricsReport, WorkerResult } from '../worker/protocol.ts';

export interface OperatorSummary {
  readonly uid: string;
  readonly name: string;
  readonly type: string;
  readonly parallelism: number;
  readonly recordsIn: number;
  readonly recordsOut: number;
  /** Counters its user functions registered (`ctx.metrics.counter(name)`), summed over subtasks; only when there are any. */
  readonly counters?: Readonly<Record<string, number>>;
  /** Window operators only: late records dropped (beyond the allowed lateness, no late side output), summed over subtasks. */
  readonly lateRecordsDropped?: number;
}

/** A checkpoint a restore passed over (`restoreFrom: 'latest-valid'`), and why. */
export interface SkippedCheckpointReport {
  readonly id: number;
  readonly reason: string;
}

/** What `job.done` resolves to. */
export interface JobResult {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly durationMs: number;
  /** Per operator uid: records in and out, summed over subtasks. */
  readonly operators: Readonly<Record<string, OperatorSummary>>;
  /** Records gathered by `Sinks.collect()`, per sink uid, subtask 0 first. */
  readonly collected: Readonly<Record<string, unknown[]>>;
  readonly channels: readonly ChannelStats[];
  readonly statusHistory: readonly StatusEvent[];
  /** Duration of each pre-state-load hook, slowest worker, in ms. */
  readonly hookMs: Readonly<Record<string, number>>;
  /** Every checkpoint this run completed or aborted, in order. */
  readonly checkpoints: readonly CheckpointStats[];
  /**
   * The checkpoint the job started from (after restarts: the last one it restored); undefined: it
   * started empty. The job handle's 'restore' event says which, with the directory, as it happens.
   */
  readonly restoredFrom: number | undefined;
  /**
   * Only when a restore passed over newer checkpoints (`restoreFrom: 'latest-valid'`, or a
   * `_metadata` that vanished): the checkpoint restored and each one skipped. Output committed
   * after the restored checkpoint may repeat.
   */
  readonly restore?: { readonly checkpointId: number | undefined; readonly skipped: readonly SkippedCheckpointReport[] };
  /** The checkpoint a stop-with-checkpoint (or stopAfterCheckpoint) ended on. */
  readonly stoppedAtCheckpoint: number | undefined;
  /** 1 plus the number of restarts. */
  readonly attempts: number;
  /** When the (last attempt of the) job processed its first record (epoch ms): a redeploy's downtime ends here. */
  readonly firstRecordAt?: number;
  /** Deployment B of a handover: stage times, checkpoints followed, downtime. */
  readonly handover?: HandoverMetrics;
  /** Deployment A of a handover whose successor failed before its first checkpoint: each resume, with its downtime. */
  readonly rollbacks?: readonly RollbackReport[];
}

export function summarizeOperators(graph: JobGraph, reports: readonly SubtaskMetricsReport[]): Record<string, OperatorSummary> {
  const summary: Record<string, OperatorSummary> = {};
  for (const node of graph.nodes) {
    let recordsIn = 0;
    let recordsOut = 0;
    let counters: Record<string, number> | undefined;
    let lateRecordsDropped: number | undefined;
    for (const r of reports) {
      if (r.uid !== node.uid) continue;
      recordsIn += r.metrics.recordsIn;
      recordsOut += r.metrics.recordsOut;
      for (const [name, n] of Object.entries(r.metrics.counters ?? {})) {
        counters ??= {};
        counters[name] = (counters[name] ?? 0) + n;
      }
      if (r.metrics.lateRecordsDropped !== undefined) lateRecordsDropped = (lateRecordsDropped ?? 0) + r.metrics.lateRecordsDropped;
    }
    summary[node.uid] = {
      uid: node.uid,
      name: node.name,
      type: node.type,
      parallelism: node.parallelism,
      recordsIn,
      recordsOut,
      ...(counters ? { counters } : {}),
      ...(lateRecordsDropped !== undefined ? { lateRecordsDropped } : {}),
    };
  }
  return summary;
}

export function collectSinkResults(results: readonly WorkerResult[]): Record<string, unknown[]> {
  const entries = results.flatMap((r) => r.sinkResults).sort((a, b) => a.subtaskIndex - b.subtaskIndex);
  const collected: Record<string, unknown[]> = {};
  for (const entry of entries) {
    if (!Array.isArray(entry.value)) continue;
    const list = collected[entry.uid] ?? [];
    collected[entry.uid] = list;
    for (const value of entry.value) list.push(value);
  }
  return collected;
}

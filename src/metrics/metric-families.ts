// The baton_* metric families, created once per registry and shared by every job attached to it.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

type JobLabel = 'job';
type OperatorLabels = 'job' | 'operator';

/** Every metric a job reports; each series carries a `job` label (the job id). */
export interface JobMetricFamilies {
  readonly status: Gauge<JobLabel | 'status'>;
  readonly statusSeconds: Gauge<JobLabel | 'status'>;
  readonly restarts: Counter<JobLabel>;
  readonly recordsIn: Counter<OperatorLabels>;
  readonly recordsOut: Counter<OperatorLabels>;
  readonly backpressured: Counter<OperatorLabels>;
  readonly checkpointsCompleted: Counter<JobLabel>;
  readonly checkpointsFailed: Counter<JobLabel>;
  readonly checkpointDuration: Histogram<JobLabel>;
  readonly lastCompletedCheckpoint: Gauge<JobLabel>;
  readonly checkpointStateBytes: Gauge<JobLabel>;
  readonly checkpointChannelStateBytes: Gauge<JobLabel>;
  readonly checkpointSpilledBytes: Gauge<JobLabel>;
  readonly checkpointAlignment: Gauge<JobLabel>;
  readonly checkpointUnalignedSubtasks: Gauge<JobLabel>;
  readonly handoverStage: Gauge<JobLabel | 'stage'>;
  readonly handoverBytes: Gauge<JobLabel | 'stage'>;
  readonly handoverFollowed: Gauge<JobLabel>;
  readonly handoverRangesReloaded: Gauge<JobLabel>;
  readonly handoverTarget: Gauge<JobLabel>;
  readonly handoverDowntime: Gauge<JobLabel>;
  readonly handoverShadowRecords: Gauge<JobLabel>;
  readonly handoverShadowOverlap: Gauge<JobLabel>;
  readonly referenceDataLoaded: Gauge<JobLabel | 'uri'>;
  readonly referenceDataTotal: Gauge<JobLabel | 'uri'>;
  readonly stopRequests: Counter<JobLabel | 'outcome'>;
  readonly lateRecordsDropped: Counter<OperatorLabels>;
}

/** Checkpoints take from milliseconds (small state, local disk) to minutes (large state on S3). */
const CHECKPOINT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

// One set per registry: a second job attached to the same registry adds series, not families
// (registering a name twice throws).
const families = new WeakMap<Registry, JobMetricFamilies>();

/** The baton_* families in `registry`, registering them on first use. */
export function jobMetricFamilies(registry: Registry): JobMetricFamilies {
  const existing = families.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Gauge<L>({ name, help, labelNames, registers });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames, registers });
  const job = ['job'] as const;
  const operator = ['job', 'operator'] as const;
  const created: JobMetricFamilies = {
    status: gauge('baton_job_status', 'Current job status: 1 for the status the job is in, 0 for the others', ['job', 'status']),
    statusSeconds: gauge('baton_job_status_seconds', 'Time the job spent in a status, the last time it left it (start-up phases, restore)', ['job', 'status']),
    restarts: counter('baton_job_restarts_total', 'Restarts after a failure (restart strategy)', job),
    recordsIn: counter('baton_records_in_total', 'Records an operator received, all subtasks', operator),
    recordsOut: counter('baton_records_out_total', 'Records an operator emitted, all subtasks', operator),
    backpressured: counter(
      'baton_backpressured_seconds_total',
      "Time an operator's subtasks could not send for lack of downstream credit, summed over subtasks (the whole chain of the task)",
      operator,
    ),
    checkpointsCompleted: counter('baton_checkpoints_completed_total', 'Checkpoints completed', job),
    checkpointsFailed: counter('baton_checkpoints_failed_total', 'Checkpoints aborted or declined', job),
    checkpointDuration: new Histogram({
      name: 'baton_checkpoint_duration_seconds',
      help: 'Completed checkpoints, from trigger to metadata written',
      labelNames: job,
      buckets: CHECKPOINT_BUCKETS,
      registers,
    }),
    lastCompletedCheckpoint: gauge('baton_checkpoint_last_completed_id', 'Number of the newest completed checkpoint', job),
    checkpointStateBytes: gauge('baton_checkpoint_state_bytes', 'Last completed checkpoint: operator and keyed state bytes written', job),
    checkpointChannelStateBytes: gauge('baton_checkpoint_channel_state_bytes', 'Last completed checkpoint: in-flight data persisted (unaligned)', job),
    checkpointSpilledBytes: gauge('baton_checkpoint_spilled_bytes', 'Last completed checkpoint: in-flight input spilled since the previous one (continuous spilling)', job),
    checkpointAlignment: gauge('baton_checkpoint_alignment_seconds', 'Last completed checkpoint: longest barrier alignment of any subtask', job),
    checkpointUnalignedSubtasks: gauge('baton_checkpoint_unaligned_subtasks', 'Last completed checkpoint: subtasks that took it unaligned', job),
    handoverStage: gauge('baton_handover_stage_seconds', 'Handover (deployment B): time of each stage (hook, stage1, wait, stage2)', ['job', 'stage']),
    handoverBytes: gauge('baton_handover_bytes', 'Handover (deployment B): state bytes downloaded per stage (stage1, follow, stage2)', ['job', 'stage']),
    handoverFollowed: gauge('baton_handover_followed_checkpoints', "Handover (deployment B): checkpoints of the running job applied while waiting", job),
    handoverRangesReloaded: gauge('baton_handover_ranges_reloaded', 'Handover (deployment B): key-group ranges reloaded from a new base instead of applying a delta', job),
    handoverTarget: gauge('baton_handover_target_checkpoint', 'Handover (deployment B): the checkpoint taken over at', job),
    handoverDowntime: gauge('baton_handover_downtime_seconds', "Handover (deployment B): from the old deployment's last record to this one's first", job),
    handoverShadowRecords: gauge('baton_handover_shadow_records', 'Shadow handover (deployment B): records its sinks wrote in SHADOW, to their shadow destination (at the last sample)', job),
    handoverShadowOverlap: gauge('baton_handover_shadow_overlap_seconds', 'Shadow handover (deployment B): time it ran beside the old deployment, from SHADOW to the cut', job),
    referenceDataLoaded: gauge('baton_reference_data_loaded_bytes', 'Reference data loaded for pre-state-load hooks, per URI', ['job', 'uri']),
    referenceDataTotal: gauge('baton_reference_data_total_bytes', 'Size of the reference data being loaded, per URI', ['job', 'uri']),
    stopRequests: counter('baton_stop_requests_total', 'Stop requests read from storage, accepted or rejected', ['job', 'outcome']),
    lateRecordsDropped: counter(
      'baton_late_records_dropped_total',
      'Window operators: late records dropped (later than the allowed lateness, no late side output), all subtasks',
      operator,
    ),
  };
  families.set(registry, created);
  return created;
}

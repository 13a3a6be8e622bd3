// Follows a running job's handle and keeps its baton_* Prometheus metrics up to date.
import { register as globalRegistry, type Registry } from 'prom-client';
import type { JobHandle, JobProgress, JobResult, StatusEvent } from '../runtime/index.ts';
import { CumulativeDeltas } from './cumulative-deltas.ts';
import { jobMetricFamilies } from './metric-families.ts';
import { recordCheckpoint, recordHandover, recordReferenceData, recordStatus } from './record-events.ts';
import { StatusDurations } from './status-durations.ts';
import type { HandoverEvent, JobObserver, StopRequestEvent } from './types.ts';

/**
 * Reports a job's metrics into a Prometheus registry (prom-client's global one by default), each
 * series labelled `job="<jobId>"`: status, records in/out and back-pressure per operator, late
 * records dropped per window operator, checkpoint counts, durations and sizes, handover stage
 * times and downtime, reference data loaded, stop requests. Several jobs may share one registry.
 * Serve it with startMetricsServer.
 *
 * @example
 * const registry = new Registry();
 * const job = await runJob(new URL('./job.ts', import.meta.url), { checkpointStorage: 'file:///tmp/chk' });
 * attachJobMetrics(job, registry);
 * const server = await startMetricsServer(registry, 9464);
 * await job.done;
 * await server.close();
 */
export function attachJobMetrics(handle: JobHandle, registry: Registry = globalRegistry): JobObserver {
  const m = jobMetricFamilies(registry);
  const job = handle.jobId;
  const records = new CumulativeDeltas();
  const durations = new StatusDurations(handle.statusHistory.at(-1) ?? { status: handle.status, at: Date.now() });
  recordStatus(m, job, handle.status);
  // Counters exist (at 0) from the start, so rate() and increase() see the first checkpoint.
  m.checkpointsCompleted.inc({ job }, 0);
  m.checkpointsFailed.inc({ job }, 0);
  m.restarts.inc({ job }, 0);

  const addRecords = (uid: string, recordsIn: number, recordsOut: number, backpressuredMs?: number, lateRecordsDropped?: number): void => {
    const labels = { job, operator: uid };
    m.recordsIn.inc(labels, records.advance(`in/${uid}`, recordsIn));
    m.recordsOut.inc(labels, records.advance(`out/${uid}`, recordsOut));
    if (backpressuredMs !== undefined) m.backpressured.inc(labels, records.advance(`bp/${uid}`, backpressuredMs) / 1000);
    // Only window operators count late records: other operators get no such series.
    if (lateRecordsDropped !== undefined) m.lateRecordsDropped.inc(labels, records.advance(`late/${uid}`, lateRecordsDropped));
  };

  const onStatus = (event: StatusEvent): void => {
    recordStatus(m, job, event.status);
    const left = durations.next(event);
    if (left) m.statusSeconds.set({ job, status: left.status }, left.ms / 1000);
    if (event.status === 'RESTARTING') {
      m.restarts.inc({ job });
      // The new attempt's workers count from 0 again.
      records.reset();
    }
  };
  const onProgress = (progress: JobProgress): void => {
    for (const [uid, op] of Object.entries(progress.operators)) addRecords(uid, op.recordsIn, op.recordsOut, op.backpressuredMs, op.lateRecordsDropped);
  };
  const onCheckpoint = recordCheckpoint.bind(null, m, job);
  const onHandover = (event: HandoverEvent): void => {
    if (event.metrics) recordHandover(m, job, event.metrics);
  };
  const onReferenceData = recordReferenceData.bind(null, m, job);
  const onStopRequest = (event: StopRequestEvent): void => m.stopRequests.inc({ job, outcome: event.accepted ? 'accepted' : 'rejected' });

  handle.on('status', onStatus);
  handle.on('progress', onProgress);
  handle.on('checkpoint', onCheckpoint);
  handle.on('handover', onHandover);
  handle.on('reference-data', onReferenceData);
  handle.on('stop-request', onStopRequest);
  let attached = true;
  // The result holds the exact final counts; the last progress report may predate the last records.
  handle.done.then(
    (result: JobResult) => {
      if (!attached) return;
      for (const op of Object.values(result.operators)) addRecords(op.uid, op.recordsIn, op.recordsOut, undefined, op.lateRecordsDropped);
      if (result.handover) recordHandover(m, job, result.handover);
    },
    () => {},
  );
  return {
    detach() {
      attached = false;
      handle.off('status', onStatus);
      handle.off('progress', onProgress);
      handle.off('checkpoint', onCheckpoint);
      handle.off('handover', onHandover);
      handle.off('reference-data', onReferenceData);
      handle.off('stop-request', onStopRequest);
    },
  };
}

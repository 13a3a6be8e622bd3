// Structured JSON lines (pino) for a job's lifecycle: status changes, checkpoints, end of input, handover, stop requests.
import { type DestinationStream, type Logger, pino } from 'pino';
import type { JobHandle, ReferenceDataProgressEvent, StorageSweepEvent } from '../runtime/index.ts';
import {
  checkpointRecord,
  doneRecord,
  endOfInputRecord,
  failedRecord,
  handoverRecord,
  referenceDataRecord,
  restoreFallbackRecord,
  restoreRecord,
  statusRecord,
  storageProblemRecord,
  stopRequestRecord,
  storageSweepRecord,
} from './lifecycle-records.ts';
import type { JobObserver, LifecycleRecord } from './types.ts';

/** Keys that would hold a secret if anyone passed a config object to the logger: censored by pino too. */
const REDACT_PATHS = ['credentials', '*.credentials', '*.*.credentials', 'password', '*.password', 'secretAccessKey', '*.secretAccessKey', 'sessionToken', '*.sessionToken'];

/**
 * A pino logger for lifecycle lines: ISO timestamps, secrets censored, written to `destination`
 * (stderr by default: stdout stays for the program's own output).
 *
 * @example
 * const logger = createLifecycleLogger();        // JSON lines on stderr
 * attachJobLogger(await runJob(url), logger);
 */
export function createLifecycleLogger(destination: DestinationStream = pino.destination(2)): Logger {
  return pino({ base: undefined, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: REDACT_PATHS, censor: '***' } }, destination);
}

/**
 * Logs each lifecycle event of `handle` as one JSON line with `job` and `event` fields: a status
 * change (`status`, `previous`), a checkpoint completed or failed (`checkpointId`, `status`,
 * `durationMs`, bytes), a handover phase (`phase`, stage times), a stop request, reference data
 * loaded, the checkpoint restored (or an empty start), a sweep of the job directory (what it removed, or why it failed), and the end of the job (`job-done` or `job-failed`). Free text (failure reasons, details)
 * has credentials removed.
 *
 * @example
 * const job = await runJob(new URL('./job.ts', import.meta.url));
 * attachJobLogger(job, pino());
 * // {"level":30,"job":"job","event":"status","status":"RUNNING","previous":"WAITING_FOR_START_SIGNAL",...,"msg":"job RUNNING"}
 */
export function attachJobLogger(handle: JobHandle, logger: Logger): JobObserver {
  const log = logger.child({ job: handle.jobId });
  const write = (record: LifecycleRecord): void => log[record.level](record.fields, record.msg);
  // When each URI's load began, so its completion line can say how long it took.
  const loadStarted = new Map<string, number>();

  const onStatus = (e: Parameters<typeof statusRecord>[0]) => write(statusRecord(e));
  const onCheckpoint = (c: Parameters<typeof checkpointRecord>[0]) => write(checkpointRecord(c));
  const onHandover = (h: Parameters<typeof handoverRecord>[0]) => write(handoverRecord(h));
  const onStopRequest = (r: Parameters<typeof stopRequestRecord>[0]) => write(stopRequestRecord(r));
  const onRestoreFallback = (r: Parameters<typeof restoreFallbackRecord>[0]) => write(restoreFallbackRecord(r));
  const onRestore = (r: Parameters<typeof restoreRecord>[0]) => write(restoreRecord(r));
  const onEndOfInput = (e: Parameters<typeof endOfInputRecord>[0]) => write(endOfInputRecord(e));
  const onStorageSweep = (e: StorageSweepEvent) => write(storageSweepRecord(e));
  const onStorageProblem = (p: Parameters<typeof storageProblemRecord>[0]) => write(storageProblemRecord(p));
  const onReferenceData = (p: ReferenceDataProgressEvent) => {
    const started = loadStarted.get(p.uri);
    if (started === undefined) loadStarted.set(p.uri, Date.now());
    if (p.loadedBytes < p.totalBytes) return;
    loadStarted.delete(p.uri);
    write(referenceDataRecord(p, Date.now() - (started ?? Date.now())));
  };

  handle.on('status', onStatus);
  handle.on('checkpoint', onCheckpoint);
  handle.on('handover', onHandover);
  handle.on('stop-request', onStopRequest);
  handle.on('end-of-input', onEndOfInput);
  handle.on('reference-data', onReferenceData);
  handle.on('restore-fallback', onRestoreFallback);
  handle.on('restore', onRestore);
  handle.on('storage-sweep', onStorageSweep);
  handle.on('storage-problem', onStorageProblem);
  let attached = true;
  handle.done.then(
    (result) => attached && write(doneRecord(result)),
    (error: unknown) => attached && write(failedRecord(error)),
  );
  return {
    detach() {
      attached = false;
      handle.off('status', onStatus);
      handle.off('checkpoint', onCheckpoint);
      handle.off('handover', onHandover);
      handle.off('restore-fallback', onRestoreFallback);
      handle.off('restore', onRestore);
      handle.off('storage-problem', onStorageProblem);
      handle.off('stop-request', onStopRequest);
      handle.off('end-of-input', onEndOfInput);
      handle.off('reference-data', onReferenceData);
      handle.off('storage-sweep', onStorageSweep);
    },
  };
}

// Typed errors of the runtime: each carries the fields a caller needs to act on it.

import { CorruptCheckpointError, type CorruptMetadataReason, describeValue, HostileCheckpointError } from '../checkpoint/errors.ts';
import { BatonError } from '../errors/index.ts';

export { BatonError, JobConfigError, rejectUnknownKeys, UnknownOptionError } from '../errors/index.ts';

/** The job module could not be loaded or does not export a job. */
export class JobModuleError extends BatonError {
  override name = 'JobModuleError';
  readonly moduleUrl: string;
  constructor(moduleUrl: string, message: string, options?: { cause?: unknown }) {
    super(`job module ${moduleUrl}: ${message}`, options);
    this.moduleUrl = moduleUrl;
  }
}

/**
 * The job module does not exist. Names the path as the caller gave it (and where it resolved to),
 * not a file of the runtime that tried to import it. `code` is stable.
 *
 * @example try { await runJob('./jobs/orders.ts'); } catch (e) { if (e instanceof JobModuleNotFoundError) console.error(e.path); }
 */
export class JobModuleNotFoundError extends JobModuleError {
  override name = 'JobModuleNotFoundError';
  readonly code = 'BATON_ERR_JOB_MODULE_NOT_FOUND';
  /** The path or URL as given to runJob (or `baton run`). */
  readonly path: string;
  constructor(given: string, resolvedPath: string) {
    super(resolvedPath === given ? given : `${given} (${resolvedPath})`, 'not found: no such file');
    this.path = given;
  }
}

/** A user function asked for reference data no pre-state-load hook of this worker loaded. */
export class ReferenceDataNotLoadedError extends BatonError {
  override name = 'ReferenceDataNotLoadedError';
  readonly uri: string;
  constructor(uri: string, loaded: readonly string[]) {
    super(`reference data '${uri}' was not loaded: call ctx.loadReferenceData('${uri}') in an onBeforeStateLoad hook (loaded: ${loaded.length > 0 ? loaded.join(', ') : 'none'})`);
    this.uri = uri;
  }
}

/** A user function threw. Names the operator and subtask; `originalStack` is the user's stack. */
export class UserFunctionError extends BatonError {
  override name = 'UserFunctionError';
  readonly operatorUid: string;
  readonly subtaskIndex: number;
  readonly originalMessage: string;
  readonly originalStack: string;
  constructor(operatorUid: string, subtaskIndex: number, originalMessage: string, originalStack: string) {
    super(`operator '${operatorUid}' (subtask ${subtaskIndex}) failed: ${originalMessage}\n--- user stack ---\n${originalStack}`);
    this.operatorUid = operatorUid;
    this.subtaskIndex = subtaskIndex;
    this.originalMessage = originalMessage;
    this.originalStack = originalStack;
  }
}

/** A pre-state-load hook threw; no state was loaded. */
export class PreStateHookError extends BatonError {
  override name = 'PreStateHookError';
  readonly hookName: string;
  readonly workerIndex: number;
  readonly originalStack: string;
  constructor(hookName: string, workerIndex: number, originalMessage: string, originalStack: string) {
    super(`pre-state-load hook '${hookName}' failed on worker ${workerIndex}: ${originalMessage}\n--- hook stack ---\n${originalStack}`);
    this.hookName = hookName;
    this.workerIndex = workerIndex;
    this.originalStack = originalStack;
  }
}

/** A worker thread died or broke the protocol (not a user function error). */
export class WorkerFailureError extends BatonError {
  override name = 'WorkerFailureError';
  readonly workerIndex: number;
  constructor(workerIndex: number, message: string, options?: { cause?: unknown }) {
    super(`worker ${workerIndex}: ${message}`, options);
    this.workerIndex = workerIndex;
  }
}

/**
 * More checkpoints failed in a row than `tolerableFailures` allows (storage errors or timeouts,
 * declines, checkpoint timeouts): the job fails rather than run on without a way to recover.
 * The message names the last failure (e.g. the storage call that timed out).
 *
 * @example
 * ```ts
 * job.done.catch((e) => { if (e instanceof CheckpointFailuresExceededError) alert(e.message); });
 * ```
 */
export class CheckpointFailuresExceededError extends BatonError {
  override name = 'CheckpointFailuresExceededError';
  /** Stable identifier of this failure, for programs and log searches. */
  readonly code = 'BATON_ERR_CHECKPOINT_FAILURES';
  constructor(jobId: string, reason: string) {
    super(`job '${jobId}' failed: checkpointing failed: ${reason}`);
  }
}

/**
 * A shadow deployment's cut checkpoint (its first, whose barrier switched its sinks from the shadow
 * side to live) failed. The promotion fails: nothing of the deployment was committed, and the
 * running deployment resumes from its stop checkpoint. `code` is stable.
 *
 * @example job.done.catch((e) => { if (e instanceof ShadowCutFailedError) console.error(e.checkpointId, e.message); });
 */
export class ShadowCutFailedError extends BatonError {
  override name = 'ShadowCutFailedError';
  readonly code = 'BATON_ERR_SHADOW_CUT_FAILED';
  constructor(
    readonly checkpointId: number,
    reason: string,
  ) {
    super(`the cut checkpoint chk-${checkpointId} of the shadow deployment failed (${reason}): the promotion is abandoned`);
  }
}

/**
 * A checkpoint asked for with `JobHandle.checkpoint()` could not be taken: it failed (`reason`
 * says why), or the job cannot take one any more (it is ending, stopped or failed).
 *
 * @example
 * ```ts
 * try { await job.checkpoint(); } catch (e) { if (e instanceof CheckpointRequestError) console.warn(e.reason); }
 * ```
 */
export class CheckpointRequestError extends BatonError {
  override name = 'CheckpointRequestError';
  readonly code = 'BATON_ERR_CHECKPOINT_REQUEST';
  constructor(
    readonly jobId: string,
    readonly reason: string,
    /** The checkpoint the request was answered with, if one was triggered. */
    readonly checkpointId?: number,
  ) {
    super(`job '${jobId}': the requested checkpoint${checkpointId === undefined ? '' : ` ${checkpointId}`} was not taken: ${reason}`);
  }
}

/** The job was canceled before it finished. */
export class JobCanceledError extends BatonError {
  override name = 'JobCanceledError';
  readonly jobId: string;
  constructor(jobId: string) {
    super(`job '${jobId}' was canceled`);
    this.jobId = jobId;
  }
}

/**
 * An operator emitted a record holding a value its output channel cannot carry faithfully (a
 * function, a symbol, a class instance, ...; see findUnsupportedValue for the rule). Raised the
 * same way whether the next operator runs on this thread or another, so a job's behaviour does
 * not depend on where a key's records go.
 *
 * @example
 * ```ts
 * try { await job.done } catch (e) {
 *   if (e instanceof UnsupportedRecordValueError) console.error(e.operatorUid, e.path, e.valueType);
 * }
 * ```
 */
export class UnsupportedRecordValueError extends BatonError {
  override name = 'UnsupportedRecordValueError';
  readonly code = 'BATON_ERR_UNSUPPORTED_VALUE';
  /** uid of the operator that emitted the record (the last of its chain). */
  readonly operatorUid: string;
  readonly subtaskIndex: number;
  /** What the value is, e.g. `function`, `symbol`, `instance of class Point`, `Set`. */
  readonly valueType: string;
  /** Where it sits in the record, e.g. `record.payload.fn`. */
  readonly path: string;
  constructor(operatorUid: string, subtaskIndex: number, valueType: string, path: string) {
    super(
      `operator '${operatorUid}' (subtask ${subtaskIndex}) emitted a record that cannot cross a channel faithfully: ${path} is a ${valueType}. ` +
        'Records may hold strings, numbers, booleans, null, undefined, bigints, plain objects, arrays, Maps, Dates and Uint8Arrays',
    );
    this.operatorUid = operatorUid;
    this.subtaskIndex = subtaskIndex;
    this.valueType = valueType;
    this.path = path;
  }
}

/** Plain, cloneable description of an error crossing a thread boundary. */
export interface SerializedError {
  readonly kind: 'user' | 'hook' | 'internal' | 'unsupported-value' | 'corrupt-checkpoint' | 'async-timeout';
  /** kind 'corrupt-checkpoint': the fields of the CorruptCheckpointError (or HostileCheckpointError, with `expected`). */
  readonly corrupt?: SerializedCorruption;
  readonly message: string;
  readonly stack: string;
  readonly operatorUid?: string;
  readonly subtaskIndex?: number;
  readonly hookName?: string;
  /** With `unsupported-value`. */
  readonly valueType?: string;
  readonly path?: string;
  /** With `async-timeout`. */
  readonly timeoutMs?: number;
}

export function describeError(error: unknown): { message: string; stack: string } {
  if (error instanceof Error) return { message: error.message, stack: error.stack ?? `${error.name}: ${error.message}` };
  const text = typeof error === 'string' ? error : JSON.stringify(error) ?? String(error);
  return { message: text, stack: `thrown value: ${text}` };
}

/** A CorruptCheckpointError as it crosses threads (values read from storage become printable text). */
export interface SerializedCorruption {
  readonly key: string;
  readonly reason: CorruptMetadataReason;
  readonly detail: string;
  readonly jobDir?: string;
  readonly checkpointId?: number;
  readonly field?: string;
  readonly value?: string | number | boolean | null;
  /** Set for a HostileCheckpointError. */
  readonly expected?: string;
}

/** The fields of a CorruptCheckpointError, for a worker to send. @example serializeCorruption(error) */
export function serializeCorruption(error: CorruptCheckpointError): SerializedCorruption {
  const v = error.value;
  const value = v === undefined || v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : describeValue(v);
  return {
    key: error.key,
    reason: error.reason,
    detail: error.detail,
    jobDir: error.jobDir,
    checkpointId: error.checkpointId,
    field: error.field,
    value: value ?? undefined,
    expected: error instanceof HostileCheckpointError ? error.expected : undefined,
  };
}

function reviveCorruption(c: SerializedCorruption): CorruptCheckpointError {
  if (c.expected !== undefined && c.field !== undefined) return new HostileCheckpointError(c.key, c.checkpointId, c.field, c.value, c.expected, c.jobDir);
  return new CorruptCheckpointError(c.key, c.reason, c.detail, c.jobDir, { checkpointId: c.checkpointId, field: c.field, value: c.value });
}

export function reviveError(error: SerializedError, workerIndex: number): BatonError {
  if (error.kind === 'corrupt-checkpoint' && error.corrupt) return reviveCorruption(error.corrupt);
  switch (error.kind) {
    case 'user':
      return new UserFunctionError(error.operatorUid ?? '?', error.subtaskIndex ?? -1, error.message, error.stack);
    case 'hook':
      return new PreStateHookError(error.hookName ?? '?', workerIndex, error.message, error.stack);
    case 'unsupported-value':
      return new UnsupportedRecordValueError(error.operatorUid ?? '?', error.subtaskIndex ?? -1, error.valueType ?? '?', error.path ?? 'record');
    case 'async-timeout':
      return new AsyncTimeoutError(error.operatorUid ?? '?', error.subtaskIndex ?? -1, error.timeoutMs ?? Number.NaN);
    default:
      return new WorkerFailureError(workerIndex, `${error.message}\n${error.stack}`);
  }
}

/**
 * A manual processing-time clock was asked to move backwards: processing time, like the wall
 * clock it stands in for, only moves forward (timers that fired cannot un-fire). `code` is stable.
 *
 * @example
 * ```ts
 * const clock = new ManualProcessingTime(1_000);
 * try { clock.advanceTo(500); } catch (e) { if (e instanceof ProcessingTimeBackwardsError) console.error(e.nowMs, e.requestedMs); } // 1000 500
 * ```
 */
export class ProcessingTimeBackwardsError extends BatonError {
  override name = 'ProcessingTimeBackwardsError';
  readonly code = 'BATON_ERR_PROCESSING_TIME_BACKWARDS';
  /** Processing time when the advance was asked for (ms). */
  readonly nowMs: number;
  /** The time asked for, before `nowMs`. */
  readonly requestedMs: number;
  constructor(nowMs: number, requestedMs: number) {
    super(`processing time cannot move backwards: it is ${nowMs} and ${requestedMs} was asked for (${requestedMs - nowMs} ms)`);
    this.nowMs = nowMs;
    this.requestedMs = requestedMs;
  }
}

/**
 * A manual processing-time clock was given a time that is not a number of milliseconds: a
 * non-finite start or target (NaN, ±Infinity), or a NaN timer. `code` is stable.
 *
 * @example
 * ```ts
 * try { new ManualProcessingTime(0).advanceBy(Number.NaN); } catch (e) { if (e instanceof InvalidProcessingTimeError) console.error(e.what); } // 'target'
 * ```
 */
export class InvalidProcessingTimeError extends BatonError {
  override name = 'InvalidProcessingTimeError';
  readonly code = 'BATON_ERR_INVALID_PROCESSING_TIME';
  /** Which time was invalid: the clock's start, an advance's target or a timer's due time. */
  readonly what: 'start' | 'target' | 'timer';
  readonly value: number;
  constructor(what: 'start' | 'target' | 'timer', value: number) {
    super(`invalid processing time for the ${what}: ${String(value)} (expected ${what === 'timer' ? 'a number' : 'a finite number'} of milliseconds)`);
    this.what = what;
    this.value = value;
  }
}

/**
 * A request of `asyncMap` did not complete within its `timeoutMs` (processing time) and the
 * operator has no `onTimeout` fallback: the job fails (and restarts if it has a restart strategy,
 * re-issuing the requests of its last checkpoint). `code` is stable.
 *
 * @example
 * ```ts
 * job.done.catch((e) => { if (e instanceof AsyncTimeoutError) console.error(e.operatorUid, e.timeoutMs); });
 * ```
 */
export class AsyncTimeoutError extends BatonError {
  override name = 'AsyncTimeoutError';
  readonly code = 'BATON_ERR_ASYNC_TIMEOUT';
  /** uid of the asyncMap operator. */
  readonly operatorUid: string;
  readonly subtaskIndex: number;
  readonly timeoutMs: number;
  constructor(operatorUid: string, subtaskIndex: number, timeoutMs: number) {
    super(`operator '${operatorUid}' (subtask ${subtaskIndex}): an async request did not complete within ${timeoutMs} ms; give asyncMap a longer timeoutMs or an onTimeout fallback`);
    this.operatorUid = operatorUid;
    this.subtaskIndex = subtaskIndex;
    this.timeoutMs = timeoutMs;
  }
}

// Typed errors of the runtime: each carries the fields a caller needs to act on it.

import { BatonError, registerErrors } from '../errors/index.ts';

export {
  BatonError,
  BatonInternalError,
  ForeignError,
  JobConfigError,
  registerErrors,
  rejectUnknownKeys,
  reviveThrown,
  type SerializedThrown,
  serializeThrown,
  UnknownOptionError,
} from '../errors/index.ts';

/** The job module could not be loaded or does not export a job. */
export class JobModuleError extends BatonError {
  static override readonly code: string = 'BATON_ERR_JOB_MODULE';
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
  static override readonly code: string = 'BATON_ERR_JOB_MODULE_NOT_FOUND';
  override name = 'JobModuleNotFoundError';
  /** The path or URL as given to runJob (or `baton run`). */
  readonly path: string;
  constructor(given: string, resolvedPath: string) {
    super(resolvedPath === given ? given : `${given} (${resolvedPath})`, 'not found: no such file');
    this.path = given;
  }
}

/** A user function asked for reference data no pre-state-load hook of this worker loaded. */
export class ReferenceDataNotLoadedError extends BatonError {
  static override readonly code: string = 'BATON_ERR_REFERENCE_DATA_NOT_LOADED';
  override name = 'ReferenceDataNotLoadedError';
  readonly uri: string;
  constructor(uri: string, loaded: readonly string[]) {
    super(`reference data '${uri}' was not loaded: call ctx.loadReferenceData('${uri}') in an onBeforeStateLoad hook (loaded: ${loaded.length > 0 ? loaded.join(', ') : 'none'})`);
    this.uri = uri;
  }
}

/**
 * A user function threw. Names the operator and subtask; `originalMessage` and `originalStack` are
 * what the function threw, which is also the `cause`: across threads it keeps its class when that
 * is a built-in or a registered BatonError class (see registerErrors), else it is a ForeignError
 * with the same name, code and fields.
 *
 * @example
 * ```ts
 * job.done.catch((e) => { if (e instanceof UserFunctionError) console.error(e.operatorUid, e.subtaskIndex, e.cause); });
 * ```
 */
export class UserFunctionError extends BatonError {
  static override readonly code: string = 'BATON_ERR_USER_FUNCTION';
  override name = 'UserFunctionError';
  readonly operatorUid: string;
  readonly subtaskIndex: number;
  readonly originalMessage: string;
  readonly originalStack: string;
  /** `original`: what the function threw (any value). */
  constructor(operatorUid: string, subtaskIndex: number, original: unknown) {
    const { message, stack } = describeError(original);
    super(`operator '${operatorUid}' (subtask ${subtaskIndex}) failed: ${message}\n--- user stack ---\n${stack}`, { cause: original });
    this.operatorUid = operatorUid;
    this.subtaskIndex = subtaskIndex;
    this.originalMessage = message;
    this.originalStack = stack;
  }

  /** What the user function threw (the `cause`). */
  get original(): unknown {
    return this.cause;
  }
}

/** A pre-state-load hook threw; no state was loaded. The `cause` is what it threw (kept as for UserFunctionError). */
export class PreStateHookError extends BatonError {
  static override readonly code: string = 'BATON_ERR_PRE_STATE_HOOK';
  override name = 'PreStateHookError';
  readonly hookName: string;
  readonly workerIndex: number;
  readonly originalStack: string;
  /** `original`: what the hook threw (any value). */
  constructor(hookName: string, workerIndex: number, original: unknown) {
    const { message, stack } = describeError(original);
    super(`pre-state-load hook '${hookName}' failed on worker ${workerIndex}: ${message}\n--- hook stack ---\n${stack}`, { cause: original });
    this.hookName = hookName;
    this.workerIndex = workerIndex;
    this.originalStack = stack;
  }

  /** What the hook threw (the `cause`). */
  get original(): unknown {
    return this.cause;
  }
}

/** A worker thread died or broke the protocol (not a user function error). */
export class WorkerFailureError extends BatonError {
  static override readonly code: string = 'BATON_ERR_WORKER_FAILURE';
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
  /** Stable identifier of this failure, for programs and log searches. */
  static override readonly code: string = 'BATON_ERR_CHECKPOINT_FAILURES';
  override name = 'CheckpointFailuresExceededError';
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
  static override readonly code: string = 'BATON_ERR_SHADOW_CUT_FAILED';
  override name = 'ShadowCutFailedError';
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
  static override readonly code: string = 'BATON_ERR_CHECKPOINT_REQUEST';
  override name = 'CheckpointRequestError';
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
  static override readonly code: string = 'BATON_ERR_JOB_CANCELED';
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
  static override readonly code: string = 'BATON_ERR_UNSUPPORTED_VALUE';
  override name = 'UnsupportedRecordValueError';
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

/** Message and stack of anything thrown (a non-Error value is described as text). @example describeError('boom').stack // 'thrown value: boom' */
export function describeError(error: unknown): { message: string; stack: string } {
  if (error instanceof Error) return { message: error.message, stack: error.stack ?? `${error.name}: ${error.message}` };
  const text = typeof error === 'string' ? error : JSON.stringify(error) ?? String(error);
  return { message: text, stack: `thrown value: ${text}` };
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
  static override readonly code: string = 'BATON_ERR_PROCESSING_TIME_BACKWARDS';
  override name = 'ProcessingTimeBackwardsError';
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
  static override readonly code: string = 'BATON_ERR_INVALID_PROCESSING_TIME';
  override name = 'InvalidProcessingTimeError';
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
  static override readonly code: string = 'BATON_ERR_ASYNC_TIMEOUT';
  override name = 'AsyncTimeoutError';
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

/**
 * A JobHandle was asked to stop or checkpoint a job it does not control: it was made by hand,
 * not returned by runJob (which returns a started handle).
 *
 * @example try { await new JobHandle('orders').checkpoint(); } catch (e) { if (e instanceof JobNotStartedError) console.error(e.jobId); }
 */
export class JobNotStartedError extends BatonError {
  static override readonly code: string = 'BATON_ERR_JOB_NOT_STARTED';
  override name = 'JobNotStartedError';
  constructor(readonly jobId: string) {
    super('job not started');
  }
}

/**
 * A record that needs an event timestamp has none: an event-time window or a WatermarkStrategy
 * without a timestamp assigner got a record no source or assigner stamped. Fix the job: call
 * assignTimestampsAndWatermarks (with a timestamp assigner) before the operator.
 *
 * @example job.done.catch((e) => { if (e.cause instanceof MissingTimestampError) console.error(e.operatorUid); });
 */
export class MissingTimestampError extends BatonError {
  static override readonly code: string = 'BATON_ERR_NO_TIMESTAMP';
  override name = 'MissingTimestampError';
  /** The operator that needed the timestamp, when known. */
  readonly operatorUid: string | undefined;
  constructor(message: string, operatorUid?: string) {
    super(message);
    this.operatorUid = operatorUid;
  }
}

/**
 * Operator state read back from a checkpoint is not what the operator writes (a broadcast state
 * that is not a map of states, an asyncMap snapshot of the wrong shape, a file sink's part-file
 * name outside its pattern): storage is hostile input, so the restore stops before using it.
 *
 * @example job.done.catch((e) => { if (e instanceof InvalidRestoredStateError) restoreFromAnOlderCheckpoint(e.operatorUid); });
 */
export class InvalidRestoredStateError extends BatonError {
  static override readonly code: string = 'BATON_ERR_INVALID_RESTORED_STATE';
  override name = 'InvalidRestoredStateError';
  constructor(
    /** The operator whose state it is. */
    readonly operatorUid: string,
    message: string,
  ) {
    super(message);
  }
}

registerErrors(JobModuleError, JobModuleNotFoundError, ReferenceDataNotLoadedError, UserFunctionError, PreStateHookError, WorkerFailureError, CheckpointFailuresExceededError, CheckpointRequestError, JobCanceledError, UnsupportedRecordValueError, ProcessingTimeBackwardsError, InvalidProcessingTimeError, AsyncTimeoutError, JobNotStartedError, MissingTimestampError, InvalidRestoredStateError, ShadowCutFailedError);

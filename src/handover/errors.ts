// Typed errors of the handover: each names the checkpoint at fault so a deployment can act on it.
import { BatonError, registerErrors } from '../errors/index.ts';

/**
 * The handover target is older than the newest COMPLETED checkpoint: the old deployment has already
 * gone past it, so starting from it would replay (and duplicate) what came after.
 *
 * @example
 * ```ts
 * try { await watchForCheckpoint(storage, { target: 117, timeoutMs: 60_000 }); }
 * catch (e) { if (e instanceof StaleHandoverTargetError) retarget(e.newestCompleted + 1); }
 * ```
 */
export class StaleHandoverTargetError extends BatonError {
  static override readonly code: string = 'BATON_ERR_HANDOVER_STALE_TARGET';
  override name = 'StaleHandoverTargetError';
  readonly targetCheckpoint: number;
  readonly newestCompleted: number;
  constructor(targetCheckpoint: number, newestCompleted: number) {
    super(
      `handover target chk-${targetCheckpoint} is older than the newest completed checkpoint chk-${newestCompleted}: the job has already moved past it; pick a target after ${newestCompleted}`,
    );
    this.targetCheckpoint = targetCheckpoint;
    this.newestCompleted = newestCompleted;
  }
}

/**
 * The target completed, but the job running on the directory went on processing after it (it
 * never got, or got too late, the request to stop there): taking over would duplicate output.
 *
 * @example if (e instanceof HandoverTargetPassedError) restartWithTarget(e.targetCheckpoint + 10);
 */
export class HandoverTargetPassedError extends BatonError {
  static override readonly code: string = 'BATON_ERR_HANDOVER_TARGET_PASSED';
  override name = 'HandoverTargetPassedError';
  readonly targetCheckpoint: number;
  constructor(targetCheckpoint: number) {
    super(
      `handover target chk-${targetCheckpoint} completed but the running job did not stop after it (its stop request came too late, or it was started without one): taking over there would duplicate output; pick a later target`,
    );
    this.targetCheckpoint = targetCheckpoint;
  }
}

/**
 * The handover target did not complete within `timeoutMs` and the policy was `onTimeout: 'fail'`.
 *
 * @example if (e instanceof HandoverTimeoutError) console.log(`chk-${e.targetCheckpoint} still ${e.lastStatus}`);
 */
export class HandoverTimeoutError extends BatonError {
  static override readonly code: string = 'BATON_ERR_HANDOVER_TIMEOUT';
  override name = 'HandoverTimeoutError';
  readonly targetCheckpoint: number;
  readonly timeoutMs: number;
  readonly lastStatus: string;
  constructor(targetCheckpoint: number, timeoutMs: number, lastStatus: string) {
    super(`handover target chk-${targetCheckpoint} did not complete within ${timeoutMs} ms (last seen ${lastStatus}); onTimeout is 'fail'`);
    this.targetCheckpoint = targetCheckpoint;
    this.timeoutMs = timeoutMs;
    this.lastStatus = lastStatus;
  }
}

/**
 * Deployment B gave up its handover before its first checkpoint completed: it could not renew its
 * stop request's lease in time, or the request was removed or replaced (the running job resumed,
 * or another deployment asked). Nothing of B's output is committed; A goes on (or resumes).
 *
 * @example if (e instanceof HandoverAbortedError) console.log(e.reason);
 */
export class HandoverAbortedError extends BatonError {
  static override readonly code: string = 'BATON_ERR_HANDOVER_ABORTED';
  override name = 'HandoverAbortedError';
  readonly reason: string;
  constructor(reason: string) {
    super(`handover aborted: ${reason}`);
    this.reason = reason;
  }
}

/**
 * The promotion guard refused deployment B (or did not answer in time under `onGuardTimeout:
 * 'abort'`): B stops, the running deployment A stays live and its output is untouched. `reason`
 * is the guard's. `code` is stable.
 *
 * @example b.done.catch((e) => { if (e instanceof PromotionRefusedError) console.warn(`not promoted: ${e.reason}`); });
 */
export class PromotionRefusedError extends BatonError {
  static override readonly code: string = 'BATON_ERR_PROMOTION_REFUSED';
  override name = 'PromotionRefusedError';
  readonly reason: string;
  constructor(reason: string) {
    super(`promotion refused: ${reason}`);
    this.reason = reason;
  }
}

registerErrors(StaleHandoverTargetError, HandoverTargetPassedError, HandoverTimeoutError, HandoverAbortedError, PromotionRefusedError);

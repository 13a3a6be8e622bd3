// The handover protocol's vocabulary: both sides' states, the events they react to, the effects they ask for.

/** Where the successor (deployment B) takes over: at the stop checkpoint A takes once B is ready, or at a fixed id. */
export type HandoverTarget = 'when-ready' | number;

/** What the protocol knows of a stop request in the job directory (already validated by the shell). */
export interface ObservedRequest {
  /** The run asking (deployment B's `JobHandle.runId`); absent on an operator's plain `stop-after` request. */
  readonly runId?: string;
  /** Epoch ms after which the request is void unless renewed; absent on an operator's request. */
  readonly leaseExpiresAt?: number;
  /** A fixed checkpoint to stop after; absent for `when-ready` (A stops at its next checkpoint, at once). */
  readonly afterCheckpoint?: number;
}

// ---- Successor (B) ----

export type SuccessorPhase =
  /** Hooks and stage 1 run; a fixed target's request is already published. */
  | 'preparing'
  /** WAITING_FOR_START_SIGNAL, following A's checkpoints, not announced yet (when-ready). */
  | 'following'
  /**
   * Request published with a lease that B renews. `when-ready`: B looks only for A's stop checkpoint
   * (passing over the checkpoints before it); a fixed target: B follows until the target completes.
   */
  | 'announced'
  /** A's stop checkpoint completed: stage 2 runs with its delta. */
  | 'taking-over'
  /** Started: B's output is uncommitted until its first checkpoint completes; the lease is still renewed. */
  | 'probation'
  | 'done'
  | 'aborted';

export interface SuccessorState {
  readonly side: 'successor';
  readonly phase: SuccessorPhase;
  readonly runId: string;
  readonly target: HandoverTarget;
  readonly leaseMs: number;
  /** Expiry of the lease as last written (undefined: no request published). */
  readonly leaseExpiresAt: number | undefined;
  /** Newest checkpoint B applied (stage 1 or following), or is applying (a `follow` asked for, which stage 2 waits for). */
  readonly applied: number | undefined;
  /** The newest checkpoint applied when B announced: A's stop checkpoint comes after it. */
  readonly announcedAfter: number | undefined;
  /**
   * `when-ready`, announced: checkpoints of A passed over (their `_metadata` read, their delta not
   * applied) since B last applied one. Stage 2 applies what they changed.
   */
  readonly passedOver: number;
  /** `when-ready`, following: steps in a row that applied something (B is not caught up yet). */
  readonly followRounds: number;
  /** The checkpoint B takes over from, once known. */
  readonly takeoverFrom: number | undefined;
  readonly startedAt: number | undefined;
  readonly failure: string | undefined;
}

export type SuccessorEvent =
  /** Hooks and stage 1 done (RESTORING → WAITING_FOR_START_SIGNAL); `applied`: stage 1's checkpoint. */
  | { readonly type: 'stage1-done'; readonly at: number; readonly applied: number | undefined }
  /** Following step: every COMPLETED checkpoint listed is applied; `applied` is the newest. */
  | { readonly type: 'caught-up'; readonly at: number; readonly applied: number | undefined }
  /**
   * `when-ready`, following: a step applied checkpoints up to `applied`, which took time; A may
   * have completed more meanwhile, so B is not known to be caught up (the next step tells).
   */
  | { readonly type: 'applied'; readonly at: number; readonly applied: number }
  /**
   * Before B announced, the newest completed checkpoint already ends the job (A finished or was
   * stopped): nobody runs, nothing to ask; B takes over from it.
   */
  | { readonly type: 'predecessor-ended'; readonly at: number; readonly id: number }
  /** A completed checkpoint after `applied` that ends A's job (`endsJob`). */
  | { readonly type: 'stop-checkpoint'; readonly at: number; readonly id: number }
  /**
   * `when-ready`, announced: the shell read the `_metadata` of a checkpoint A completed after
   * `applied` (only that). The protocol says whether B takes over from it, passes over it or
   * applies it. `newBase`: some chain starts with another base than in the checkpoint B looked at
   * before (a materialization).
   */
  | { readonly type: 'checkpoint-seen'; readonly at: number; readonly id: number; readonly endsJob: boolean; readonly newBase: boolean }
  | { readonly type: 'lease-renewed'; readonly at: number; readonly leaseExpiresAt: number }
  /** The request is no longer B's (withdrawn by A, replaced, or B could not renew it in time). */
  | { readonly type: 'lease-lost'; readonly at: number; readonly reason: string }
  /** Waited `timeoutMs` without A's stop checkpoint, and the policy is to start from the newest completed checkpoint (`latest`; undefined: none). */
  | { readonly type: 'timed-out'; readonly at: number; readonly latest: number | undefined }
  | { readonly type: 'stage2-done'; readonly at: number }
  | { readonly type: 'first-checkpoint'; readonly at: number; readonly id: number }
  | { readonly type: 'failed'; readonly at: number; readonly reason: string }
  | { readonly type: 'tick'; readonly at: number };

export type SuccessorEffect =
  | { readonly type: 'publish-request'; readonly runId: string; readonly leaseExpiresAt: number; readonly afterCheckpoint?: number }
  | { readonly type: 'renew-lease'; readonly leaseExpiresAt: number }
  | { readonly type: 'stage2'; readonly checkpointId: number | undefined }
  /**
   * Apply checkpoint `checkpointId` now (then report `caught-up`): it has a new base, or B passed
   * over too many in a row. B goes on looking for the stop checkpoint meanwhile; stage 2 waits for it.
   */
  | { readonly type: 'follow'; readonly checkpointId: number }
  /** Passed over: download its chunks B has not applied (not apply them) while B waits, so stage 2 finds them in memory. */
  | { readonly type: 'prefetch'; readonly checkpointId: number }
  | { readonly type: 'start' }
  /** Remove B's request: its job is B's now (done), or B gives up (aborted; A resumes or goes on). */
  | { readonly type: 'withdraw-request'; readonly reason: 'done' | 'aborted' }
  | { readonly type: 'fail'; readonly reason: string };

// ---- Predecessor (A) ----

export type PredecessorPhase =
  /** Processing; no request accepted. */
  | 'running'
  /** A stop request accepted: the stop checkpoint is triggered (at once for a successor) or awaited. */
  | 'stopping'
  /** After a successor's stop checkpoint: threads and state warm, sources paused, until B proves itself. */
  | 'standby'
  | 'ended';

export interface PredecessorState {
  readonly side: 'predecessor';
  readonly phase: PredecessorPhase;
  /** This run's own id: a successor keeps its own request up while it runs its probation, and must not obey it. */
  readonly self: string | undefined;
  /** The request being honoured (stopping, standby). */
  readonly request: ObservedRequest | undefined;
  /** The stop checkpoint (standby: completed). */
  readonly stopAt: number | undefined;
  /** When the standby began (epoch ms). */
  readonly standbySince: number | undefined;
  /** Runs whose requests A gave up on (lease expired, withdrawn): never honoured again by this run. */
  readonly revoked: readonly string[];
  /** Requests already reported as ignored (expired or revoked), so each is reported once. */
  readonly ignored: string | undefined;
  /** Why the last accepted request was withdrawn while stopping (its stop may still complete: then A resumes). */
  readonly withdrawn?: string;
}

export type PredecessorEvent =
  /**
   * One look at the directory: the request (read first), then whether a checkpoint after the stop
   * checkpoint completed (read second: a successor removes its request only after that checkpoint).
   */
  | { readonly type: 'observed'; readonly at: number; readonly request: ObservedRequest | undefined; readonly successorCheckpoint?: number }
  /** The stop checkpoint for the accepted request completed (A's sources are paused after its barrier). */
  | { readonly type: 'stop-completed'; readonly at: number; readonly id: number }
  /** The driver accepted the stop at checkpoint `id` (the next one, or the fixed one asked for). */
  | { readonly type: 'stop-scheduled'; readonly at: number; readonly id: number };

export type PredecessorEffect =
  /** Trigger the stop checkpoint now (not at the next interval); its metadata names `nextOwner`. */
  | { readonly type: 'stop-at-once'; readonly nextOwner: string }
  /** Stop right after checkpoint `id` (an operator's request, or a successor's fixed target). */
  | { readonly type: 'stop-after'; readonly id: number; readonly nextOwner?: string }
  | { readonly type: 'withdraw-stop'; readonly id: number | undefined }
  | { readonly type: 'enter-standby'; readonly id: number }
  /** The successor's first checkpoint completed: A ends as a stop with checkpoint ends (SUSPENDED). */
  | { readonly type: 'end'; readonly successorCheckpoint: number }
  /** The successor failed or vanished: sources continue after the stop checkpoint's barrier. */
  | { readonly type: 'resume'; readonly reason: string }
  /** Delete the request of run `runId` (A gave up on it), if it is still that run's. */
  | { readonly type: 'clear-request'; readonly runId: string }
  | { readonly type: 'request-ignored'; readonly reason: string };

export type HandoverProtocolState = SuccessorState | PredecessorState;
export type HandoverProtocolEvent = SuccessorEvent | PredecessorEvent;

export interface Step<S, E> {
  readonly state: S;
  readonly effects: readonly E[];
}

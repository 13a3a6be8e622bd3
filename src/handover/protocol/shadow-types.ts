// The shadow promotion's vocabulary: deployment B's states in shadow mode, the events it reacts to, the effects it asks for.

export type ShadowPhase =
  /** Hooks and stage 1 (the running job's newest checkpoint) run. */
  | 'bootstrapping'
  /** SHADOW: B processes the live input beside A, its sinks on their shadow side; nothing in the job directory is B's. */
  | 'shadow'
  /** Promotion asked for: the guard is being asked. */
  | 'guarding'
  /** The guard said promote: B's sources are asked to hold where they are. */
  | 'holding'
  /** B holds at its positions and waits for a checkpoint of A at or after them on every split. */
  | 'converging'
  /** A reached them: B's leased stop request is out; A's stop checkpoint (the cut) comes next. */
  | 'announced'
  /** A's stop checkpoint is the cut: B reads up to it, its first checkpoint's barrier switches its sinks live. */
  | 'cutting'
  /** B's cut checkpoint completed: the job directory is B's. */
  | 'done'
  /** The guard refused (or timed out under `onGuardTimeout: 'abort'`): B stops, A stays live. */
  | 'refused'
  /** Anything else went wrong before the cut completed: B stops; A goes on, or resumes from its stop checkpoint. */
  | 'aborted';

export interface ShadowState {
  readonly side: 'shadow';
  readonly phase: ShadowPhase;
  readonly runId: string;
  readonly leaseMs: number;
  /** Auto-promotion: after this long in SHADOW (ms); undefined: only when asked (JobHandle.promote). */
  readonly promoteAfterMs: number | undefined;
  /** From holding the sources until A's stop checkpoint completes, at most this long (ms). */
  readonly timeoutMs: number;
  readonly onGuardTimeout: 'promote' | 'abort';
  /** The running job's checkpoint B bootstrapped from. */
  readonly bootstrap: number | undefined;
  readonly shadowSince: number | undefined;
  /** When converging or announced must have ended (epoch ms). */
  readonly deadline: number | undefined;
  /** Expiry of the stop request's lease as last written (undefined: no request published). */
  readonly leaseExpiresAt: number | undefined;
  /** The running job's stop checkpoint the cut is at. */
  readonly cutFrom: number | undefined;
  readonly reason: string | undefined;
}

/** What the guard answered: promote, refused (with the guard's reason), or nothing in time. */
export type GuardAnswer = { readonly kind: 'promote' } | { readonly kind: 'refused'; readonly reason: string } | { readonly kind: 'timeout'; readonly timeoutMs: number };

export type ShadowEvent =
  /** Stage 1 done; the attempt runs in SHADOW from now on. */
  | { readonly type: 'bootstrapped'; readonly at: number; readonly checkpointId: number | undefined }
  /** Promotion asked for now (JobHandle.promote). */
  | { readonly type: 'promote'; readonly at: number }
  | { readonly type: 'guard-answered'; readonly at: number; readonly answer: GuardAnswer }
  /** Every source subtask of B holds; the shell knows where. */
  | { readonly type: 'held'; readonly at: number }
  /**
   * The shell read A's newest completed checkpoint `checkpointId` and compared its source positions
   * with B's held ones: `coverage` says whether they are at or after them on every split (or the
   * problem that makes the comparison impossible). `endsJob`/`nextOwner` from its metadata.
   */
  | {
      readonly type: 'predecessor-checkpoint';
      readonly at: number;
      readonly checkpointId: number;
      readonly coverage: 'covers' | 'behind' | { readonly problem: string };
      readonly endsJob: boolean;
      readonly nextOwner: string | undefined;
    }
  | { readonly type: 'lease-renewed'; readonly at: number; readonly leaseExpiresAt: number }
  /** The request is no longer B's (A gave up on it, it was replaced, or B could not renew it). */
  | { readonly type: 'lease-lost'; readonly at: number; readonly reason: string }
  /** B's first checkpoint (the cut's) completed. */
  | { readonly type: 'first-checkpoint'; readonly at: number; readonly id: number }
  /** The attempt failed (or was canceled). */
  | { readonly type: 'failed'; readonly at: number; readonly reason: string }
  | { readonly type: 'tick'; readonly at: number };

export type ShadowEffect =
  | { readonly type: 'evaluate-guard' }
  | { readonly type: 'hold-sources' }
  /** Read A's checkpoints (the newest completed one, then each new one) and report each as `predecessor-checkpoint`. */
  | { readonly type: 'watch-predecessor' }
  | { readonly type: 'publish-request'; readonly runId: string; readonly leaseExpiresAt: number }
  | { readonly type: 'renew-lease'; readonly leaseExpiresAt: number }
  /** The cut is at A's checkpoint `checkpointId`: B reads up to its positions and switches its sinks at its own first checkpoint. */
  | { readonly type: 'cut'; readonly checkpointId: number }
  | { readonly type: 'withdraw-request'; readonly reason: 'done' | 'aborted' }
  /** The guard refused: B stops (PromotionRefusedError); A stays live. */
  | { readonly type: 'refuse'; readonly reason: string }
  /** The promotion failed: B stops (HandoverAbortedError). */
  | { readonly type: 'fail'; readonly reason: string };

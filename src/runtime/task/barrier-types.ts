// Types of an input task's barrier handler: its settings, state, events and effects (see barrier-handler.ts).

export interface BarrierSettings {
  /** `unaligned`: barriers come as priority barriers and no alignment timeout applies. */
  readonly mode: 'aligned' | 'unaligned';
  /** Aligned mode: checkpoint n still aligning this long after its trigger is taken unaligned instead. */
  readonly alignedTimeoutMs?: number;
}

/** Checkpoint n as seen at the input before it is taken: when it was triggered, where its aligned barriers wait. */
export interface BarrierSighting {
  /**
   * When the checkpoint was triggered (epoch ms, from its barriers). Checkpoint timing stays on the
   * wall clock, never processing time: it is the coordinator's clock, shared by every thread.
   */
  readonly at: number;
  /** Aligned barriers n queued and not processed yet: channel → arrival number of the message carrying it. */
  readonly queued: ReadonlyMap<number, number>;
  /** The alignment timeout is armed (a timer, or a switch already queued). */
  readonly armed: boolean;
}

/** The checkpoint being aligned: channels that delivered its barrier (blocked since) and when the first did. */
export interface Alignment {
  readonly id: number;
  readonly arrived: ReadonlySet<number>;
  readonly startedAt: number;
}

/** Unaligned checkpoint n in progress: input channels that still owe barrier n (what they deliver meanwhile is its channel state). */
export interface Recording {
  readonly id: number;
  readonly pending: ReadonlySet<number>;
}

export interface BarrierState {
  readonly channelCount: number;
  /** Channels whose end marker was processed: they owe no barrier any more. */
  readonly ended: ReadonlySet<number>;
  readonly aligning: Alignment | undefined;
  /** Newest checkpoint taken here, aligned or unaligned: its barriers (and older ones) are ignored. */
  readonly lastTaken: number;
  /** Newest checkpoint taken unaligned: its aligned barriers still queued are ignored when processed. */
  readonly lastUnaligned: number;
  /** Newest checkpoint aborted: its barriers still in flight are ignored (checkpoints run one at a time). */
  readonly lastAborted: number;
  /** Checkpoints whose barriers reached the input and that are not taken yet. */
  readonly sightings: ReadonlyMap<number, BarrierSighting>;
  readonly recording: Recording | undefined;
}

/** `at`: when the coordinator triggered the checkpoint, as its barrier carries it (undefined: unknown, taken as `now`). */
export type BarrierEvent =
  /** An aligned barrier was queued at the input (at arrival, not when processed); `seq`: arrival number of its message. */
  | { readonly type: 'barrier-queued'; readonly channel: number; readonly id: number; readonly at: number | undefined; readonly seq: number; readonly now: number }
  /** A priority (unaligned) barrier arrived: it overtakes everything queued on its channel. */
  | { readonly type: 'priority-barrier'; readonly channel: number; readonly id: number; readonly at: number | undefined; readonly now: number }
  /** An aligned barrier was processed: every record before it on its channel was. */
  | { readonly type: 'barrier'; readonly channel: number; readonly id: number; readonly at: number | undefined; readonly now: number }
  /** A batch was queued at the input (`seq`: its arrival number). */
  | { readonly type: 'arrival'; readonly channel: number; readonly seq: number }
  /** A channel's end marker was processed. */
  | { readonly type: 'channel-ended'; readonly channel: number; readonly now: number }
  /** The alignment timeout of checkpoint n expired. */
  | { readonly type: 'alignment-deadline'; readonly id: number; readonly now: number }
  /** The coordinator aborted checkpoint n. */
  | { readonly type: 'abort'; readonly id: number };

/** What the task does, in order. */
export type BarrierEffect =
  /** Hold back what this channel delivers: it delivered the barrier being aligned. */
  | { readonly type: 'block'; readonly channel: number }
  /** Release every blocked channel (what they held goes first, in order). */
  | { readonly type: 'release-all' }
  /** Every live channel delivered barrier n: snapshot, forward the barrier downstream (then release, a separate effect). */
  | { readonly type: 'take-aligned'; readonly id: number; readonly alignmentMs: number; readonly barrierAt: number | undefined }
  /**
   * Take checkpoint n unaligned now: snapshot, priority barrier downstream. Its input channel state
   * starts with the queued entries that are channel state under `cutoffs` (see unaligned-cutoffs.ts);
   * `record` effects add what owing channels deliver, `recording-complete` closes it.
   */
  | { readonly type: 'take-unaligned'; readonly id: number; readonly alignmentMs: number; readonly barrierAt: number; readonly cutoffs: readonly number[] }
  /** The batch with arrival number `seq` on `channel` is in-flight data of the checkpoint being recorded. */
  | { readonly type: 'record'; readonly id: number; readonly channel: number; readonly seq: number }
  /** Every channel delivered barrier n (or ended): the channel state of checkpoint n is complete. */
  | { readonly type: 'recording-complete'; readonly id: number }
  /** Checkpoint n was aborted while recording: its channel state is dropped. */
  | { readonly type: 'recording-dropped'; readonly id: number }
  /** Call back with `alignment-deadline` after `delayMs` (≤ 0: at once, though not inside the current call). */
  | { readonly type: 'arm-timeout'; readonly id: number; readonly delayMs: number }
  /** The alignment timeout of checkpoint n no longer matters (if it has not fired yet). */
  | { readonly type: 'cancel-timeout'; readonly id: number };

export interface BarrierTransition {
  readonly state: BarrierState;
  readonly effects: readonly BarrierEffect[];
}

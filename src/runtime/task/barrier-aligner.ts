// Aligned checkpoint barriers of one subtask's inputs, as pure decisions: block, take the checkpoint, release.

/** What the subtask does after a barrier or an ended channel. */
export interface AlignmentDecision {
  /** Hold back this channel: it delivered the barrier being aligned. */
  readonly block?: number;
  /** Every live channel delivered barrier n: snapshot, forward the barrier, release all channels. */
  readonly checkpoint?: number;
  /** With `checkpoint`: when the alignment began. */
  readonly startedAt?: number;
  /** Release every blocked channel without a checkpoint (an alignment was abandoned). */
  readonly releaseAll?: boolean;
}

/**
 * Tracks barrier n across input channels. Barriers of checkpoints already taken (or older than
 * the one being aligned) are ignored; a newer barrier abandons an alignment whose checkpoint
 * was aborted. Ended channels no longer owe a barrier.
 */
export class BarrierAligner {
  private aligning: { id: number; arrived: Set<number>; startedAt: number } | undefined;
  private lastTaken = 0;

  constructor(
    private readonly channelCount: number,
    private readonly isEnded: (channel: number) => boolean,
  ) {}

  /** The checkpoint being aligned and since when (for statistics and timeouts). */
  get current(): { readonly id: number; readonly startedAt: number; readonly arrived: ReadonlySet<number> } | undefined {
    return this.aligning;
  }

  onBarrier(channel: number, checkpointId: number, now: number): AlignmentDecision[] {
    if (checkpointId <= this.lastTaken) return [];
    const decisions: AlignmentDecision[] = [];
    if (!this.aligning || this.aligning.id < checkpointId) {
      if (this.aligning) decisions.push({ releaseAll: true });
      this.aligning = { id: checkpointId, arrived: new Set(), startedAt: now };
    } else if (this.aligning.id > checkpointId) {
      return [];
    }
    this.aligning.arrived.add(channel);
    decisions.push({ block: channel });
    const done = this.completeIfReady();
    if (done) decisions.push(done);
    return decisions;
  }

  /** A channel ended: it may have been the last one the alignment waited for. */
  onChannelEnded(): AlignmentDecision | undefined {
    return this.completeIfReady();
  }

  /** Checkpoint n was aborted: stop aligning it. */
  abort(checkpointId: number): AlignmentDecision | undefined {
    if (!this.aligning || this.aligning.id !== checkpointId) return undefined;
    this.aligning = undefined;
    return { releaseAll: true };
  }

  /**
   * Checkpoint n is being taken unaligned instead: stop aligning it (or an older checkpoint it
   * supersedes), ignore its later barriers.
   */
  switchToUnaligned(checkpointId: number): AlignmentDecision | undefined {
    this.taken(checkpointId);
    if (!this.aligning || this.aligning.id > checkpointId) return undefined;
    this.aligning = undefined;
    return { releaseAll: true };
  }

  /** The newest checkpoint taken, aligned or not: its barriers (and older ones) are ignored. */
  get lastTakenId(): number {
    return this.lastTaken;
  }

  /** A checkpoint taken without alignment (a source's own trigger). */
  taken(checkpointId: number): void {
    if (checkpointId > this.lastTaken) this.lastTaken = checkpointId;
  }

  private completeIfReady(): AlignmentDecision | undefined {
    const aligning = this.aligning;
    if (!aligning) return undefined;
    for (let c = 0; c < this.channelCount; c++) if (!aligning.arrived.has(c) && !this.isEnded(c)) return undefined;
    this.aligning = undefined;
    this.lastTaken = aligning.id;
    return { checkpoint: aligning.id, startedAt: aligning.startedAt };
  }
}

// Which queued input an unaligned checkpoint persists, per channel, when a task switches mid-way (pure).

/** Arrival number cutoffs: a channel's entries with `seq <= cutoff` are channel state. */
export const NOTHING = -1;
export const EVERYTHING = Number.POSITIVE_INFINITY;

/** How checkpoint n stands on each input channel at the moment a task takes it unaligned. */
export interface SwitchInputs {
  readonly channelCount: number;
  /** Channels whose aligned barrier n the aligner already processed (blocked): what they hold back comes after it. */
  readonly arrived: ReadonlySet<number>;
  /** Channels whose aligned barrier n is queued, not yet processed: channel → arrival number of the message carrying it. */
  readonly queuedBarriers: ReadonlyMap<number, number>;
  /** A channel that delivered a priority barrier n: it overtook everything queued there. */
  readonly priorityChannel?: number;
  readonly isEnded: (channel: number) => boolean;
}

export interface SwitchPlan {
  /** Per channel: queued entries with `seq <= cutoffs[channel]` are input channel state (the barrier message's own records included). */
  readonly cutoffs: readonly number[];
  /** Channels that still owe barrier n: everything queued, plus what they deliver until it. */
  readonly pending: readonly number[];
}

/**
 * Per channel, what an unaligned switch of checkpoint n persists as input channel state:
 * nothing for a channel whose barrier n was processed; up to the barrier's message for a channel
 * whose barrier n is queued; everything queued for a priority channel (it owes nothing more) and
 * for the others (which also owe what they deliver until barrier n).
 */
export function planUnalignedSwitch(inputs: SwitchInputs): SwitchPlan {
  const cutoffs: number[] = [];
  const pending: number[] = [];
  for (let c = 0; c < inputs.channelCount; c++) {
    const barrierSeq = inputs.queuedBarriers.get(c);
    if (inputs.arrived.has(c)) {
      cutoffs.push(NOTHING);
    } else if (barrierSeq !== undefined) {
      cutoffs.push(barrierSeq);
    } else {
      cutoffs.push(EVERYTHING);
      if (c !== inputs.priorityChannel && !inputs.isEnded(c)) pending.push(c);
    }
  }
  return { cutoffs, pending };
}

/** Whether the entry with arrival number `seq` on `channel` is channel state under `cutoffs`. */
export function isChannelState(cutoffs: readonly number[], channel: number, seq: number): boolean {
  return seq <= (cutoffs[channel] ?? EVERYTHING);
}

/** The queued entries (in their order) that are channel state under `cutoffs`. */
export function selectChannelState<T extends { readonly channel: number; readonly seq: number }>(entries: readonly T[], cutoffs: readonly number[]): T[] {
  return entries.filter((e) => isChannelState(cutoffs, e.channel, e.seq));
}

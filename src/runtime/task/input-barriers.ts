// The thin shell around the pure barrier handler: feeds it the input's events, carries out its effects (timers, recording, the task's actions).
import type { RecordedBatch } from '../channels/input-gate.ts';
import { initialBarrierState, stepBarriers } from './barrier-handler.ts';
import type { BarrierEffect, BarrierEvent, BarrierSettings, BarrierState } from './barrier-types.ts';
import type { InFlightRecording } from './in-flight-recording.ts';

/** What the barrier handler's effects do to the task (its input gate, its snapshot). */
export interface BarrierActions {
  /** Hold back what `channel` delivers. */
  block(channel: number): void;
  /** Release every blocked channel. */
  releaseAll(): void;
  /** Snapshot now and forward an aligned barrier n. */
  takeAligned(checkpointId: number, alignmentMs: number, barrierAt: number | undefined): void;
  /**
   * Snapshot now, send a priority barrier n, and start the recording of its channel state with the
   * queued input that is channel state under `cutoffs` (its overtaken output set).
   */
  takeUnaligned(checkpointId: number, alignmentMs: number, barrierAt: number, cutoffs: readonly number[]): InFlightRecording;
  /** Whether an alignment timeout may still act (the task runs). */
  isRunning(): boolean;
  /** An alignment timeout's switch failed: the task fails. */
  fail(error: unknown): void;
}

/**
 * Barriers at one input task. Decisions are {@link stepBarriers}'s; this keeps its state, the
 * alignment-timeout timers (on the wall clock, like the trigger times they count from) and the
 * data of the unaligned checkpoint being recorded.
 *
 * @example
 * ```ts
 * const barriers = new InputBarriers(gate.channelCount, { mode: 'aligned', alignedTimeoutMs: 500 }, task);
 * barriers.barrier(channel, message.barrier, message.barrierAt); // when the barrier's turn comes
 * ```
 */
export class InputBarriers {
  private state: BarrierState;
  private recording: InFlightRecording | undefined;
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();

  constructor(
    channelCount: number,
    private readonly settings: BarrierSettings,
    private readonly actions: BarrierActions,
  ) {
    this.state = initialBarrierState(channelCount);
  }

  /** A batch was queued. Per batch, so a plain check first: arrivals matter only while recording. */
  arrival(channel: number, seq: number, batch: () => RecordedBatch | undefined): void {
    if (this.state.recording === undefined) return;
    // The batch is copied only if it is channel state (a `record` effect).
    this.handle({ type: 'arrival', channel, seq }, batch);
  }

  barrierQueued(channel: number, checkpointId: number, at: number | undefined, seq: number): void {
    this.handle({ type: 'barrier-queued', channel, id: checkpointId, at, seq, now: Date.now() });
  }

  priorityBarrier(channel: number, checkpointId: number, at: number | undefined): void {
    this.handle({ type: 'priority-barrier', channel, id: checkpointId, at, now: Date.now() });
  }

  /** An aligned barrier's turn came: every record before it on `channel` was processed. */
  barrier(channel: number, checkpointId: number, at: number | undefined): void {
    this.handle({ type: 'barrier', channel, id: checkpointId, at, now: Date.now() });
  }

  channelEnded(channel: number): void {
    this.handle({ type: 'channel-ended', channel, now: Date.now() });
  }

  abort(checkpointId: number): void {
    this.handle({ type: 'abort', id: checkpointId });
  }

  /** The task stopped: alignment timeouts no longer fire. */
  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** `arriving`: the batch of an `arrival` event. */
  private handle(event: BarrierEvent, arriving?: () => RecordedBatch | undefined): void {
    const transition = stepBarriers(this.state, event, this.settings);
    this.state = transition.state;
    for (const effect of transition.effects) this.carryOut(effect, arriving);
  }

  private carryOut(effect: BarrierEffect, arriving: (() => RecordedBatch | undefined) | undefined): void {
    switch (effect.type) {
      case 'block':
        this.actions.block(effect.channel);
        return;
      case 'release-all':
        this.actions.releaseAll();
        return;
      case 'take-aligned':
        this.actions.takeAligned(effect.id, effect.alignmentMs, effect.barrierAt);
        return;
      case 'take-unaligned':
        this.recording = this.actions.takeUnaligned(effect.id, effect.alignmentMs, effect.barrierAt, effect.cutoffs);
        return;
      case 'record':
        if (this.recording?.checkpointId === effect.id && arriving) this.recording.add(effect.channel, effect.seq, arriving);
        return;
      case 'recording-complete':
        if (this.recording?.checkpointId !== effect.id) return;
        this.recording.complete();
        this.recording = undefined;
        return;
      case 'recording-dropped':
        if (this.recording?.checkpointId === effect.id) this.recording = undefined;
        return;
      case 'arm-timeout':
        this.arm(effect.id, effect.delayMs);
        return;
      case 'cancel-timeout': {
        const timer = this.timers.get(effect.id);
        if (timer === undefined) return;
        clearTimeout(timer);
        this.timers.delete(effect.id);
        return;
      }
    }
  }

  private arm(checkpointId: number, delayMs: number): void {
    if (delayMs <= 0) {
      // Already late on arrival: switch right away, though not inside whoever pushed the barrier
      // (a local producer's send, or this task's own credit return).
      queueMicrotask(() => this.deadline(checkpointId));
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(checkpointId);
      this.deadline(checkpointId);
    }, delayMs);
    this.timers.set(checkpointId, timer);
  }

  private deadline(checkpointId: number): void {
    if (!this.actions.isRunning()) return;
    try {
      this.handle({ type: 'alignment-deadline', id: checkpointId, now: Date.now() });
    } catch (error) {
      this.actions.fail(error);
    }
  }
}

// Checkpoint barriers at an input task as a pure transition function: aligned, unaligned, alignment timeout, in-flight recording.
import type { Alignment, BarrierEffect, BarrierEvent, BarrierSettings, BarrierSighting, BarrierState, BarrierTransition } from './barrier-types.ts';
import { planUnalignedSwitch } from './unaligned-cutoffs.ts';

const NO_CHANNELS: ReadonlySet<number> = new Set();
const NO_BARRIERS: ReadonlyMap<number, number> = new Map();

/** Nothing seen yet on `channelCount` input channels. */
export function initialBarrierState(channelCount: number): BarrierState {
  return {
    channelCount,
    ended: NO_CHANNELS,
    aligning: undefined,
    lastTaken: 0,
    lastUnaligned: 0,
    lastAborted: 0,
    sightings: new Map(),
    recording: undefined,
  };
}

/**
 * One step of barrier handling at a task's input. Aligned: each channel that delivered barrier n
 * is blocked until every live channel has, then the checkpoint is taken and all are released; a
 * newer barrier abandons an alignment whose checkpoint was aborted. Unaligned (a priority barrier,
 * or an alignment past its timeout): the checkpoint is taken at once and the input still owed
 * before barrier n on each channel is recorded as its channel state. The effects are carried out
 * in order by the task (see input-barriers.ts).
 *
 * @example
 * ```ts
 * let s = initialBarrierState(2);
 * const settings = { mode: 'aligned' } as const;
 * ({ state: s } = stepBarriers(s, { type: 'barrier', channel: 0, id: 1, at: 0, now: 5 }, settings)); // block 0
 * stepBarriers(s, { type: 'barrier', channel: 1, id: 1, at: 0, now: 7 }, settings).effects;
 * // [{ type: 'block', channel: 1 }, { type: 'take-aligned', id: 1, alignmentMs: 2, barrierAt: 0 }, { type: 'release-all' }]
 * ```
 */
export function stepBarriers(state: BarrierState, event: BarrierEvent, settings: BarrierSettings): BarrierTransition {
  const effects: BarrierEffect[] = [];
  const next = apply(state, event, settings, effects);
  return { state: next, effects };
}

function apply(state: BarrierState, event: BarrierEvent, settings: BarrierSettings, effects: BarrierEffect[]): BarrierState {
  switch (event.type) {
    case 'arrival':
      // A batch is channel state if its channel still owes the barrier of the checkpoint being recorded.
      if (state.recording?.pending.has(event.channel)) effects.push({ type: 'record', id: state.recording.id, channel: event.channel, seq: event.seq });
      return state;
    case 'barrier-queued':
      return onBarrierQueued(state, event.channel, event.id, event.at, event.seq, event.now, settings, effects);
    case 'priority-barrier':
      return onPriorityBarrier(state, event.channel, event.id, event.at, event.now, effects);
    case 'barrier':
      return onBarrier(state, event.channel, event.id, event.at, event.now, settings, effects);
    case 'channel-ended':
      return onChannelEnded(state, event.channel, event.now, effects);
    case 'alignment-deadline':
      return onAlignmentDeadline(state, event.id, event.now, effects);
    case 'abort':
      return onAbort(state, event.id, effects);
  }
}

/** Whether checkpoint n may still be taken here: not taken or aborted, not superseded by a newer alignment. */
export function canStillTake(state: BarrierState, id: number): boolean {
  if (id <= state.lastUnaligned || id <= state.lastAborted || id <= state.lastTaken) return false;
  return state.aligning === undefined || state.aligning.id <= id;
}

/**
 * An aligned barrier n was queued (processed later, in arrival order). A channel owing barrier n
 * to an unaligned checkpoint taken meanwhile has now delivered all its part; otherwise the
 * alignment timeout of checkpoint n counts from its trigger, from here on.
 */
function onBarrierQueued(state: BarrierState, channel: number, id: number, at: number | undefined, seq: number, now: number, settings: BarrierSettings, effects: BarrierEffect[]): BarrierState {
  if (state.recording?.id === id) return channelDelivered(state, channel, effects);
  if (!canStillTake(state, id)) return state;
  const sighting = sightingOf(state, id, at, now);
  const queued = new Map(sighting.queued).set(channel, seq);
  return armAlignmentTimeout(withSighting(state, id, { ...sighting, queued }), id, now, settings, effects);
}

/**
 * Unaligned: the first barrier n on any channel is acted on at once, overtaking queued input. A
 * task in aligned mode gets here too when an upstream task switched after its alignment timeout.
 */
function onPriorityBarrier(state: BarrierState, channel: number, id: number, at: number | undefined, now: number, effects: BarrierEffect[]): BarrierState {
  if (state.recording?.id === id) return channelDelivered(state, channel, effects);
  if (!canStillTake(state, id)) return state;
  return switchToUnaligned(withSighting(state, id, sightingOf(state, id, at, now)), id, now, channel, effects);
}

function onBarrier(state: BarrierState, channel: number, id: number, at: number | undefined, now: number, settings: BarrierSettings, effects: BarrierEffect[]): BarrierState {
  // A late barrier of a checkpoint taken unaligned: that channel's in-flight data is complete.
  if (state.recording?.id === id) return channelDelivered(state, channel, effects);
  // Also a queued barrier of a checkpoint switched to unaligned before it was processed.
  if (id <= state.lastUnaligned) return state;
  let next = state;
  const seen = canStillTake(state, id);
  if (seen) {
    const sighting = sightingOf(state, id, at, now);
    const queued = new Map(sighting.queued);
    queued.delete(channel);
    next = withSighting(state, id, { ...sighting, queued });
  }
  next = align(next, channel, id, now, effects);
  if (seen && next.aligning?.id === id) next = armAlignmentTimeout(next, id, now, settings, effects);
  return next;
}

/** Barrier n on `channel` takes part in the alignment: older ones are ignored, a newer one abandons the current alignment. */
function align(state: BarrierState, channel: number, id: number, now: number, effects: BarrierEffect[]): BarrierState {
  if (id <= state.lastTaken) return state;
  let aligning = state.aligning;
  if (aligning === undefined || aligning.id < id) {
    if (aligning !== undefined) effects.push({ type: 'release-all' });
    aligning = { id, arrived: NO_CHANNELS, startedAt: now };
  } else if (aligning.id > id) {
    return state;
  }
  const arrived: Alignment = { ...aligning, arrived: new Set(aligning.arrived).add(channel) };
  effects.push({ type: 'block', channel });
  return completeIfAligned({ ...state, aligning: arrived }, now, effects);
}

/** Every live channel delivered the barrier being aligned: the checkpoint is taken, every channel released. */
function completeIfAligned(state: BarrierState, now: number, effects: BarrierEffect[]): BarrierState {
  const aligning = state.aligning;
  if (aligning === undefined) return state;
  for (let c = 0; c < state.channelCount; c++) if (!aligning.arrived.has(c) && !state.ended.has(c)) return state;
  const barrierAt = state.sightings.get(aligning.id)?.at;
  const next = forgetSightings({ ...state, aligning: undefined, lastTaken: aligning.id }, aligning.id, effects);
  effects.push({ type: 'take-aligned', id: aligning.id, alignmentMs: now - aligning.startedAt, barrierAt }, { type: 'release-all' });
  return next;
}

/**
 * A channel's end marker was processed: it owes no barrier any more, so it may complete the
 * recording or the alignment. Once every channel ended the task finishes instead (its final state
 * answers the checkpoints it owes), so no alignment completes then.
 */
function onChannelEnded(state: BarrierState, channel: number, now: number, effects: BarrierEffect[]): BarrierState {
  const delivered = channelDelivered(state, channel, effects);
  const next = { ...delivered, ended: new Set(delivered.ended).add(channel) };
  if (next.ended.size >= next.channelCount) return next;
  return completeIfAligned(next, now, effects);
}

/**
 * Aligned with a timeout: checkpoint n may stay aligned until `alignedTimeoutMs` after its trigger
 * (not after this task began aligning). Past that, while its barrier is still queued on some
 * channel or the alignment still waits, it is taken unaligned. On the wall clock, not processing
 * time: the trigger's `at` is the coordinator's Date.now(), and the timeout bounds how long
 * checkpointing really takes, which a job's processing time says nothing about.
 */
function armAlignmentTimeout(state: BarrierState, id: number, now: number, settings: BarrierSettings, effects: BarrierEffect[]): BarrierState {
  const sighting = state.sightings.get(id);
  if (settings.alignedTimeoutMs === undefined || settings.mode === 'unaligned' || sighting === undefined || sighting.armed) return state;
  effects.push({ type: 'arm-timeout', id, delayMs: sighting.at + settings.alignedTimeoutMs - now });
  return withSighting(state, id, { ...sighting, armed: true });
}

function onAlignmentDeadline(state: BarrierState, id: number, now: number, effects: BarrierEffect[]): BarrierState {
  if (!canStillTake(state, id)) return state;
  const queued = state.sightings.get(id)?.queued.size ?? 0;
  if (queued === 0 && state.aligning?.id !== id) return state;
  return switchToUnaligned(state, id, now, undefined, effects);
}

/**
 * Takes checkpoint n unaligned now. Input channel state, per channel (see planUnalignedSwitch):
 * nothing for a channel whose barrier n the alignment processed (what it holds back comes after
 * it); what was queued up to its barrier for a channel whose barrier n is still queued (processed
 * later, then ignored); everything queued on `priorityChannel`, which owes nothing more;
 * everything queued on the others plus what they deliver until their barrier n.
 */
function switchToUnaligned(state: BarrierState, id: number, now: number, priorityChannel: number | undefined, effects: BarrierEffect[]): BarrierState {
  const aligning = state.aligning;
  const aligningThis = aligning?.id === id;
  const sighting = state.sightings.get(id);
  const plan = planUnalignedSwitch({
    channelCount: state.channelCount,
    arrived: aligningThis ? aligning.arrived : NO_CHANNELS,
    queuedBarriers: sighting?.queued ?? NO_BARRIERS,
    priorityChannel,
    isEnded: (c) => state.ended.has(c),
  });
  // This switch also abandons an older alignment: its channels would stay blocked otherwise.
  const release = aligning !== undefined && aligning.id <= id;
  let next: BarrierState = {
    ...state,
    lastUnaligned: id,
    lastTaken: Math.max(state.lastTaken, id),
    aligning: release ? undefined : aligning,
  };
  next = forgetSightings(next, id, effects);
  if (state.recording !== undefined) effects.push({ type: 'recording-dropped', id: state.recording.id });
  effects.push({ type: 'take-unaligned', id, alignmentMs: aligningThis ? now - aligning.startedAt : 0, barrierAt: sighting?.at ?? now, cutoffs: plan.cutoffs });
  if (plan.pending.length === 0) {
    effects.push({ type: 'recording-complete', id });
    next = { ...next, recording: undefined };
  } else {
    next = { ...next, recording: { id, pending: new Set(plan.pending) } };
  }
  if (release) effects.push({ type: 'release-all' });
  return next;
}

/** A channel delivered the barrier of the checkpoint being recorded (or ended). */
function channelDelivered(state: BarrierState, channel: number, effects: BarrierEffect[]): BarrierState {
  const recording = state.recording;
  if (recording === undefined || !recording.pending.has(channel)) return state;
  const pending = new Set(recording.pending);
  pending.delete(channel);
  if (pending.size > 0) return { ...state, recording: { id: recording.id, pending } };
  effects.push({ type: 'recording-complete', id: recording.id });
  return { ...state, recording: undefined };
}

function onAbort(state: BarrierState, id: number, effects: BarrierEffect[]): BarrierState {
  let next = forgetSightings({ ...state, lastAborted: Math.max(state.lastAborted, id) }, id, effects);
  if (next.aligning?.id === id) {
    next = { ...next, aligning: undefined };
    effects.push({ type: 'release-all' });
  }
  if (next.recording?.id === id) {
    next = { ...next, recording: undefined };
    effects.push({ type: 'recording-dropped', id });
  }
  return next;
}

function sightingOf(state: BarrierState, id: number, at: number | undefined, now: number): BarrierSighting {
  return state.sightings.get(id) ?? { at: at ?? now, queued: NO_BARRIERS, armed: false };
}

function withSighting(state: BarrierState, id: number, sighting: BarrierSighting): BarrierState {
  return { ...state, sightings: new Map(state.sightings).set(id, sighting) };
}

/** Checkpoints up to n were taken or aborted: their timeouts and queued barriers no longer matter. */
function forgetSightings(state: BarrierState, upTo: number, effects: BarrierEffect[]): BarrierState {
  let sightings: Map<number, BarrierSighting> | undefined;
  for (const [id, sighting] of state.sightings) {
    if (id > upTo) continue;
    if (sighting.armed) effects.push({ type: 'cancel-timeout', id });
    sightings ??= new Map(state.sightings);
    sightings.delete(id);
  }
  return sightings === undefined ? state : { ...state, sightings };
}

// The checkpoint lifecycle as a pure transition function: trigger, collect acks, complete or abort.
import type {
  CheckpointSettings,
  CoordinatorEffect,
  CoordinatorEvent,
  CoordinatorState,
  PendingCheckpoint,
  StopMode,
  Transition,
} from './types.ts';
import { planRetention } from '../registry/shared-chunk-registry.ts';

/** Initial state; `firstId` continues the numbering after a restore (ids are never reused). */
export function initialCoordinatorState<S>(firstId: number, now: number, stopAfter?: number): CoordinatorState<S> {
  return {
    nextId: firstId,
    pending: undefined,
    finalizing: undefined,
    lastCompleted: undefined,
    completed: [],
    lastEndedAt: now,
    lastTriggeredAt: Number.NEGATIVE_INFINITY,
    consecutiveFailures: 0,
    stopRequested: undefined,
    stopAfter,
    endOfInput: false,
    halted: false,
  };
}

/**
 * One step of the protocol. At most one checkpoint runs at a time (the simplest order that keeps
 * sink commits and chains sequential). `tasks` are the ids of every subtask that must acknowledge.
 */
export function stepCoordinator<S>(
  state: CoordinatorState<S>,
  event: CoordinatorEvent<S>,
  settings: CheckpointSettings,
  tasks: readonly string[],
): Transition<S> {
  if (event.type === 'resume') return onResume(state, event.now);
  if (state.halted) return { state, effects: [] };
  switch (event.type) {
    case 'tick':
      return onTick(state, event.now, settings, tasks);
    case 'stop':
      return onStop(state, event.mode, event.now, tasks);
    case 'request':
      return onTick({ ...state, requested: true }, event.now, settings, tasks);
    case 'end-of-input':
      if (state.endOfInput) return { state, effects: [] };
      return onTick({ ...state, endOfInput: true }, event.now, settings, tasks);
    case 'ack':
      return onAck(state, event.id, event.task, event.snapshot);
    case 'decline':
      return abort(state, event.id, `declined by ${event.task}: ${event.reason}`, event.now, settings);
    case 'metadata-written':
      return onWritten(state, event.id, event.now, settings, tasks);
    case 'metadata-failed':
      return abort(state, event.id, `metadata write failed: ${event.reason}`, event.now, settings);
    case 'stop-after': {
      const accepted = onStopAfter(state, event.id, event.atOnce === true);
      // At once: triggered in this very step when nothing runs (otherwise right after what runs).
      if (!event.atOnce || accepted.state.stopAfter !== event.id) return accepted;
      const now = onTick(accepted.state, event.now, settings, tasks);
      return { state: now.state, effects: [...accepted.effects, ...now.effects] };
    }
    case 'stop-after-withdrawn':
      // Too late once its barrier went out (the sources paused after it): the job stops there anyway.
      if (state.stopAfter !== event.id || event.id < state.nextId) return { state, effects: [] };
      return { state: { ...state, stopAfter: event.fallback, stopAtOnce: false }, effects: [] };
  }
}

/**
 * Stop right after checkpoint `id`: accepted while `id` is not triggered yet (its barrier will
 * pause the sources); an earlier request (a smaller id) wins, as the job must not go past it.
 */
function onStopAfter<S>(state: CoordinatorState<S>, id: number, atOnce: boolean): Transition<S> {
  if (state.stopAfter === id) return { state: atOnce ? { ...state, stopAtOnce: true } : state, effects: [] };
  if (id < state.nextId) {
    const reason = `checkpoint ${id} was already triggered (next is ${state.nextId}): the job cannot stop exactly after it`;
    return { state, effects: [{ type: 'stop-after-rejected', id, reason }] };
  }
  if (state.stopAfter !== undefined && state.stopAfter < id) {
    return { state, effects: [{ type: 'stop-after-rejected', id, reason: `the job already stops after checkpoint ${state.stopAfter}` }] };
  }
  return { state: { ...state, stopAfter: id, stopAtOnce: atOnce }, effects: [] };
}

/**
 * The job goes on after the stop-after checkpoint that halted it (a handover successor failed
 * before its first checkpoint): numbering continues after it, the next checkpoint one interval
 * from now. Only a stop-after halt can resume: a failed, suspended or finished job cannot.
 */
function onResume<S>(state: CoordinatorState<S>, now: number): Transition<S> {
  if (!state.halted || state.stoppedAfter === undefined) return { state, effects: [] };
  return {
    state: { ...state, halted: false, stoppedAfter: undefined, stopAfter: undefined, stopAtOnce: false, lastEndedAt: now, lastTriggeredAt: now },
    effects: [],
  };
}

function trigger<S>(state: CoordinatorState<S>, now: number, tasks: readonly string[], stop?: StopMode): Transition<S> {
  const id = state.nextId;
  // Every checkpoint triggered once all input ended covers the final state: its completion ends the job.
  const final = state.endOfInput ? { final: true } : {};
  const pending: PendingCheckpoint<S> = { id, triggeredAt: now, awaiting: new Set(tasks), acks: [], stop, ...final };
  return {
    // Any checkpoint answers a request on demand: it covers everything before it.
    state: { ...state, nextId: id + 1, pending, lastTriggeredAt: now, stopRequested: undefined, requested: false },
    effects: [{ type: 'trigger', id, timestamp: now, stop, ...final }],
  };
}

function onTick<S>(state: CoordinatorState<S>, now: number, settings: CheckpointSettings, tasks: readonly string[]): Transition<S> {
  const running = state.pending ?? state.finalizing;
  if (running) {
    if (state.pending && now - state.pending.triggeredAt >= settings.timeoutMs) {
      return abort(state, state.pending.id, `timed out after ${settings.timeoutMs} ms`, now, settings);
    }
    return { state, effects: [] };
  }
  if (state.stopRequested) return trigger(state, now, tasks, state.stopRequested);
  if (state.endOfInput) {
    // The final checkpoint goes at once, not on the interval: the job's end waits for it. Only a
    // retry after a failure keeps the minimum pause, so an unavailable store is not hammered. It
    // is no stop-after checkpoint: the job ran to its end (FINISHED), and its metadata says
    // `endsJob` all the same, so a deployment waiting for that checkpoint can still take over there.
    if (state.consecutiveFailures > 0 && now - state.lastEndedAt < settings.minPauseMs) return { state, effects: [] };
    return trigger(state, now, tasks);
  }
  if (state.stopAfter !== undefined && state.nextId > state.stopAfter) return { state, effects: [] };
  const stop = state.stopAfter !== undefined && state.nextId === state.stopAfter ? 'after' : undefined;
  // A successor waits for this one: no interval, and after a failure only the minimum pause.
  if (stop && state.stopAtOnce) {
    if (state.consecutiveFailures > 0 && now - state.lastEndedAt < settings.minPauseMs) return { state, effects: [] };
    return trigger(state, now, tasks, stop);
  }
  // On demand: the interval and the minimum pause are the schedule's, not the caller's.
  if (state.requested) return trigger(state, now, tasks, stop);
  // An infinite interval: checkpoints on request only (baton/testing), none when the job starts.
  if (settings.intervalMs === Number.POSITIVE_INFINITY) return { state, effects: [] };
  if (now - state.lastTriggeredAt < settings.intervalMs) return { state, effects: [] };
  if (now - state.lastEndedAt < settings.minPauseMs) return { state, effects: [] };
  return trigger(state, now, tasks, stop);
}

function onStop<S>(state: CoordinatorState<S>, mode: 'suspend' | 'terminate', now: number, tasks: readonly string[]): Transition<S> {
  if (state.pending || state.finalizing) return { state: { ...state, stopRequested: mode }, effects: [] };
  return trigger(state, now, tasks, mode);
}

function onAck<S>(state: CoordinatorState<S>, id: number, task: string, snapshot: S): Transition<S> {
  const pending = state.pending;
  // Late acks of an aborted checkpoint are ignored: their chunks stay unreferenced.
  if (!pending || pending.id !== id || !pending.awaiting.has(task)) return { state, effects: [] };
  const awaiting = new Set(pending.awaiting);
  awaiting.delete(task);
  const acks = [...pending.acks, { task, snapshot }];
  if (awaiting.size > 0) return { state: { ...state, pending: { ...pending, awaiting, acks } }, effects: [] };
  const finalizing = { ...pending, awaiting, acks };
  return {
    state: { ...state, pending: undefined, finalizing },
    effects: [
      {
        type: 'write-metadata',
        id,
        triggeredAt: pending.triggeredAt,
        acks,
        ...(pending.stop ? { stop: pending.stop } : {}),
        ...(pending.final ? { final: true } : {}),
      },
    ],
  };
}

function onWritten<S>(state: CoordinatorState<S>, id: number, now: number, settings: CheckpointSettings, tasks: readonly string[]): Transition<S> {
  const done = state.finalizing;
  if (!done || done.id !== id) return { state, effects: [] };
  const completed = [...state.completed, id];
  // Ids complete in increasing order (one finalizes at a time), so the dropped ones lead the list.
  const discard = planRetention(completed, settings.retain);
  // A stop-with-checkpoint ends the job its own way (the subtasks suspend); otherwise the final one finishes it.
  const finishes = done.final === true && done.stop === undefined;
  const effects: CoordinatorEffect<S>[] = [finishes ? { type: 'notify-complete', id, final: true } : { type: 'notify-complete', id }];
  if (discard.length > 0) effects.push({ type: 'discard', ids: discard });
  if (done.stop) effects.push({ type: 'job-stopping', id, mode: done.stop });
  const next: CoordinatorState<S> = {
    ...state,
    finalizing: undefined,
    lastCompleted: id,
    completed: completed.slice(discard.length),
    lastEndedAt: now,
    consecutiveFailures: 0,
    halted: done.stop !== undefined || finishes,
    ...(done.stop === 'after' && !finishes ? { stoppedAfter: id } : {}),
  };
  // Input ended while this (not final) checkpoint ran: the final one follows at once; so does a stop asked for at once.
  if ((next.endOfInput || (next.stopAtOnce && next.stopAfter === next.nextId)) && !next.halted) {
    const final = onTick(next, now, settings, tasks);
    return { state: final.state, effects: [...effects, ...final.effects] };
  }
  return { state: next, effects };
}

function abort<S>(state: CoordinatorState<S>, id: number, reason: string, now: number, settings: CheckpointSettings): Transition<S> {
  const running = state.pending?.id === id ? state.pending : state.finalizing?.id === id ? state.finalizing : undefined;
  if (!running) return { state, effects: [] };
  const failures = state.consecutiveFailures + 1;
  const effects: CoordinatorEffect<S>[] = [{ type: 'abort', id, reason }];
  // A failed stop-with-checkpoint is retried with the next checkpoint.
  const stopRequested = running.stop === 'suspend' || running.stop === 'terminate' ? running.stop : state.stopRequested;
  const stopAfter = running.stop === 'after' ? id + 1 : state.stopAfter;
  let halted = false;
  if (failures > settings.tolerableFailures) {
    effects.push({ type: 'fail-job', reason: `${failures} consecutive checkpoint failures (tolerable: ${settings.tolerableFailures}); last: checkpoint ${id} ${reason}` });
    halted = true;
  }
  return {
    state: {
      ...state,
      pending: state.pending?.id === id ? undefined : state.pending,
      finalizing: state.finalizing?.id === id ? undefined : state.finalizing,
      consecutiveFailures: failures,
      lastEndedAt: now,
      stopRequested,
      stopAfter,
      halted,
    },
    effects,
  };
}

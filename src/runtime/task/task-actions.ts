// Task actions: work an operator asks for outside the record path (processing-time timers, asynchronous completions), run on its task.
import type { ProcessingTimeService } from '../time/processing-time-service.ts';

/** Whether a task takes actions now, later (at start) or no more. */
export type ActionPhase = 'before-start' | 'now' | 'never';

/** The task the actions run on. */
export interface ActionTarget {
  /** `now`: running, or awaiting an operator's asynchronous endInput. */
  actionPhase(): ActionPhase;
  fail(error: unknown): void;
  /** A timer fired: send what it emitted, unless queued input follows (its processing sends it along). */
  flushAfterTimer(): void;
  /** The event-loop turn after task actions: send what they emitted, unless a pass of the loop is due. */
  flushAfterActions(): void;
}

/**
 * Runs an operator's timers and completions on its task, as Flink's mailbox runs mails between
 * two records: never inside a record (the record path is synchronous), a throw fails the task,
 * and what they emit goes out without waiting for the next batch of input.
 *
 * @example
 * ```ts
 * const actions = new TaskActions(systemProcessingTime, target);
 * const cancel = actions.schedule(Date.now() + 1_000, () => operator.onTimer());
 * actions.run(() => operator.complete(request)); // from an asynchronous callback
 * ```
 */
export class TaskActions {
  /** Cancels of the timers not fired yet. */
  private readonly pendingTimers = new Set<() => void>();
  /** Actions and timers due before the task started: they run when it starts. */
  private readonly beforeStart: Array<() => void> = [];
  private flushScheduled = false;

  constructor(
    private readonly clock: ProcessingTimeService,
    private readonly target: ActionTarget,
  ) {}

  /** The task started: what was due before runs now. */
  started(): void {
    for (const run of this.beforeStart.splice(0)) run();
  }

  /**
   * A processing-time timer, on the task's clock: it fires only while the task takes actions, a
   * failure in it fails the task. Returns its cancel.
   */
  schedule(atMs: number, fire: () => void): () => void {
    let canceled = false;
    // The service never fires from inside schedule, so `cancel` is assigned before the callback can run.
    const cancel = this.clock.schedule(atMs, () => {
      this.pendingTimers.delete(cancel);
      const phase = this.target.actionPhase();
      if (phase === 'before-start') {
        // Due before the task started (a restored timer in the past): it fires at start (unless canceled by then), not never.
        this.beforeStart.push(() => {
          if (!canceled) this.run(fire);
        });
        return;
      }
      if (phase === 'never') return;
      try {
        fire();
        this.target.flushAfterTimer();
      } catch (error) {
        this.target.fail(error);
      }
    });
    this.pendingTimers.add(cancel);
    return () => {
      canceled = true;
      cancel();
      this.pendingTimers.delete(cancel);
    };
  }

  /**
   * Work from an asynchronous callback (an asyncMap completion): runs at once, and what it emitted
   * is flushed at the next turn of the event loop (completions of one turn share a batch).
   */
  run(action: () => void): void {
    const phase = this.target.actionPhase();
    if (phase === 'before-start') {
      // Before start (a request re-issued on restore completes while other workers still restore): at start.
      this.beforeStart.push(() => this.run(action));
      return;
    }
    if (phase === 'never') return;
    try {
      action();
      this.scheduleFlush();
    } catch (error) {
      this.target.fail(error);
    }
  }

  /** The task stopped: timers not fired yet never will. */
  cancelTimers(): void {
    for (const cancel of this.pendingTimers) cancel();
    this.pendingTimers.clear();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.target.flushAfterActions();
    });
  }
}

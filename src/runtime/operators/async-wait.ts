// asyncMap: calls an async function per record with a bounded number of requests in flight (Flink's AsyncWaitOperator).
import { AsyncTimeoutError, InvalidRestoredStateError, JobConfigError, rejectUnknownKeys } from '../errors.ts';
import type { OperatorContext, OperatorFactory, Output, StreamOperator } from '../types.ts';
import { type AsyncElement, type AsyncEmission, type AsyncQueueEntry, AsyncResultQueue } from './async-queue.ts';
import { userFailure } from './operator-failure.ts';

/** What an asyncMap function sees besides the record: where it runs, the record's time, and a signal to stop. */
export interface AsyncFunctionContext {
  readonly uid: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  /** Event time of the record (undefined when it has none); the result carries the same. */
  readonly timestamp: number | undefined;
  /**
   * Aborted when the request times out or the operator stops (failure, cancel, stop): pass it to
   * `fetch` and the like, so an abandoned request does not run on. A restore issues it again.
   */
  readonly signal: AbortSignal;
}

/**
 * The function of `asyncMap`: one request per record, resolving to its result. The context
 * argument is optional (declare it only if you use it: without it, none is built per request).
 */
export type AsyncMapFunction<T, R> = (value: T, ctx: AsyncFunctionContext) => PromiseLike<R> | R;

/** Options of `asyncMap` (Flink's AsyncDataStream.orderedWait / unorderedWait). */
export interface AsyncMapOptions<T, R> {
  /**
   * `true` (default): results leave in input order. `false`: as they complete, but never across a
   * watermark (records before a watermark leave before it).
   */
  readonly ordered?: boolean;
  /** Most requests in flight (and results waiting to leave) per subtask; at capacity the subtask takes no input. Default 100. */
  readonly capacity?: number;
  /** Processing-time ms a request may take (default 30 000; `Infinity`: no limit). */
  readonly timeoutMs?: number;
  /**
   * What a timed-out request yields: `'fail'` (default) fails the job with AsyncTimeoutError; a
   * function gives the result instead (`undefined`: no result for that record).
   */
  readonly onTimeout?: 'fail' | ((value: T) => R | undefined);
}

const DEFAULT_CAPACITY = 100;
const DEFAULT_TIMEOUT_MS = 30_000;
const OPTION_KEYS = ['ordered', 'capacity', 'timeoutMs', 'onTimeout'];

/** Validated options. */
export interface AsyncMapSettings<T, R> {
  readonly ordered: boolean;
  readonly capacity: number;
  readonly timeoutMs: number;
  readonly onTimeout: 'fail' | ((value: T) => R | undefined);
}

/** Checks asyncMap's options (a JobConfigError names the bad one) and fills in the defaults. */
export function asyncMapSettings<T, R>(options: AsyncMapOptions<T, R> | undefined): AsyncMapSettings<T, R> {
  const o = options ?? {};
  if (typeof o !== 'object') throw new JobConfigError('asyncMap options', `expected an object, got ${typeof o}`);
  rejectUnknownKeys('asyncMap ', o, OPTION_KEYS);
  const ordered = o.ordered ?? true;
  if (typeof ordered !== 'boolean') throw new JobConfigError('asyncMap ordered', `must be true or false, got ${String(ordered)}`);
  const capacity = o.capacity ?? DEFAULT_CAPACITY;
  if (!Number.isInteger(capacity) || capacity < 1) throw new JobConfigError('asyncMap capacity', `must be an integer >= 1, got ${String(capacity)}`);
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs <= 0) {
    throw new JobConfigError('asyncMap timeoutMs', `must be a number of milliseconds > 0 (or Infinity), got ${String(timeoutMs)}`);
  }
  const onTimeout = o.onTimeout ?? 'fail';
  if (onTimeout !== 'fail' && typeof onTimeout !== 'function') throw new JobConfigError('asyncMap onTimeout', `must be 'fail' or a function, got ${String(onTimeout)}`);
  return { ordered, capacity, timeoutMs, onTimeout };
}

/** What asyncMap checkpoints: every element not emitted yet (in flight, completed and waiting, or not issued), in input order. */
export interface AsyncWaitSnapshot<I> {
  readonly v: 1;
  readonly elements: readonly AsyncElement<I>[];
}

/** One issued request: its queue entry, when it times out, and its abort controller once the function asked for a signal. */
interface Request<I, R> {
  readonly entry: AsyncQueueEntry<I, R>;
  readonly deadline: number;
  controller: AbortController | undefined;
}

/**
 * Issues a request per record (up to `capacity` in flight; beyond that the subtask stops taking
 * input) and emits results through an {@link AsyncResultQueue}. Completions run on the task
 * (`ctx.runOnTask`); timeouts on processing time, with one timer for the oldest request.
 * Checkpoints store the inputs of every element not emitted; a restore issues them again, as
 * Flink does. End of input waits for every request.
 */
export class AsyncWaitOperator<I, R> implements StreamOperator {
  private out!: Output;
  private readonly queue: AsyncResultQueue<I, R>;
  /**
   * Elements that arrived at capacity, not issued yet: a chained producer (a flatMap, a source's
   * poll) may emit several before the subtask's input stops. They count against the capacity.
   */
  private backlog: AsyncElement<I>[] = [];
  /** Issued requests in issue order, so deadlines ascend: the timer waits for the first not done. */
  private requests: Request<I, R>[] = [];
  private requestsHead = 0;
  private cancelTimer: (() => void) | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private restored: AsyncElement<I>[] = [];
  private inputPaused = false;
  private closed = false;
  private endWaiter: (() => void) | undefined;
  private readonly wantsContext: boolean;
  private readonly emit = (e: AsyncEmission<R>): void => {
    if (e.kind === 'record') this.out.collect(e.value, e.timestamp);
    else this.out.emitWatermark(e.watermark);
  };

  constructor(
    private readonly ctx: OperatorContext,
    private readonly fn: AsyncMapFunction<I, R>,
    private readonly settings: AsyncMapSettings<I, R>,
  ) {
    this.queue = new AsyncResultQueue<I, R>(settings.ordered);
    this.wantsContext = fn.length >= 2;
  }

  /**
   * Old subtask j's elements go to new subtask j % parallelism, each old queue in its order. At the
   * same parallelism the watermarks go with them; merging several old queues, only the lowest of
   * their last watermarks follows all their records (a higher one could make another queue's records late).
   */
  initializeState(states: readonly unknown[]): void {
    const mine: AsyncElement<I>[][] = [];
    states.forEach((state, j) => {
      if (j % this.ctx.parallelism !== this.ctx.subtaskIndex || state === undefined || state === null) return;
      mine.push(checkedElements<I>(state, this.ctx.uid, j));
    });
    if (mine.length <= 1) {
      this.restored = mine[0] ?? [];
      return;
    }
    let watermark = Number.POSITIVE_INFINITY;
    for (const elements of mine) {
      const last = elements.filter((e) => e.kind === 'watermark').at(-1);
      watermark = Math.min(watermark, last?.kind === 'watermark' ? last.watermark : Number.NEGATIVE_INFINITY);
    }
    this.restored = mine.flatMap((elements) => elements.filter((e) => e.kind === 'record'));
    if (watermark > Number.NEGATIVE_INFINITY && watermark < Number.POSITIVE_INFINITY) this.restored.push({ kind: 'watermark', watermark });
  }

  open(output: Output): void {
    this.out = output;
    // Restored elements are issued again before any new input (their results come after the restore).
    const restored = this.restored;
    this.restored = [];
    for (const element of restored) this.accept(element);
  }

  processElement(value: unknown, timestamp: number): void {
    this.accept({ kind: 'record', value: value as I, timestamp });
  }

  processWatermark(watermark: number): void {
    this.accept({ kind: 'watermark', watermark });
  }

  endOfBatch(): void {}

  /** Waits for every request in flight (and issues the backlog) before the input may end. */
  endInput(): Promise<void> | undefined {
    if (this.isIdle() || this.closed) return undefined;
    return new Promise((resolve) => {
      this.endWaiter = resolve;
    });
  }

  isIdle(): boolean {
    return this.queue.isEmpty && this.backlog.length === 0;
  }

  snapshotState(): AsyncWaitSnapshot<I> | undefined {
    const elements = [...this.queue.elements(), ...this.backlog];
    if (elements.length === 0) return undefined;
    // A copy: the state is encoded after the barrier, and a function may change its input meanwhile.
    return { v: 1, elements: structuredClone(elements) };
  }

  close(): undefined {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    for (let i = this.requestsHead; i < this.requests.length; i++) {
      const r = this.requests[i];
      if (!r.entry.done) r.controller?.abort();
    }
    this.requests = [];
    this.requestsHead = 0;
    this.backlog = [];
    const waiter = this.endWaiter;
    this.endWaiter = undefined;
    waiter?.();
    return undefined;
  }

  private accept(element: AsyncElement<I>): void {
    if (this.closed) return;
    const atCapacity = element.kind === 'record' && this.queue.recordCount >= this.settings.capacity;
    if (this.backlog.length > 0 || atCapacity) this.backlog.push(element);
    else this.admit(element);
    this.updateInputHold();
  }

  private admit(element: AsyncElement<I>): void {
    if (element.kind === 'watermark') {
      this.queue.addWatermark(element.watermark);
      this.queue.poll(this.emit);
      return;
    }
    this.issue(element.value, element.timestamp);
  }

  private issue(value: I, timestamp: number): void {
    const entry = this.queue.add(value, timestamp);
    const timeoutMs = this.settings.timeoutMs;
    const request: Request<I, R> = { entry, deadline: this.ctx.currentProcessingTime() + timeoutMs, controller: undefined };
    let result: PromiseLike<R> | R;
    try {
      result = this.wantsContext ? this.fn(value, this.contextFor(request)) : (this.fn as (value: I) => PromiseLike<R> | R)(value);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    this.requests.push(request);
    if (timeoutMs !== Number.POSITIVE_INFINITY) this.armTimer();
    Promise.resolve(result).then(
      (r) => this.onTask(() => this.completed(request, [r])),
      (error: unknown) =>
        this.onTask(() => {
          // A request that timed out (with a fallback) or belongs to a closed operator no longer matters.
          if (this.closed || entry.done) return;
          throw userFailure(error, this.ctx);
        }),
    );
  }

  private contextFor(request: Request<I, R>): AsyncFunctionContext {
    const { uid, subtaskIndex, parallelism } = this.ctx;
    const timestamp = request.entry.timestamp === Number.NEGATIVE_INFINITY ? undefined : request.entry.timestamp;
    return {
      uid,
      subtaskIndex,
      parallelism,
      timestamp,
      // Built on first use: most functions never look at it.
      get signal() {
        request.controller ??= new AbortController();
        return request.controller.signal;
      },
    };
  }

  /** Completions come from promise callbacks: the task runs them (and flushes what they emitted). */
  private onTask(action: () => void): void {
    if (this.ctx.runOnTask) {
      this.ctx.runOnTask(action);
      return;
    }
    try {
      action();
    } catch (error) {
      this.ctx.fail(error);
    }
  }

  private completed(request: Request<I, R>, results: readonly R[]): void {
    if (this.closed || request.entry.done) return;
    this.queue.complete(request.entry, results);
    const emitted = this.queue.poll(this.emit);
    if (emitted > 0) this.admitBacklog();
    this.compactRequests();
    this.updateInputHold();
    if (this.endWaiter && this.isIdle()) {
      const waiter = this.endWaiter;
      this.endWaiter = undefined;
      waiter();
    }
  }

  /** Issues what waited for capacity, in arrival order. */
  private admitBacklog(): void {
    let i = 0;
    const backlog = this.backlog;
    for (; i < backlog.length; i++) {
      const element = backlog[i];
      if (element.kind === 'record' && this.queue.recordCount >= this.settings.capacity) break;
      this.admit(element);
    }
    if (i > 0) this.backlog = backlog.slice(i);
  }

  /** At capacity (or with a backlog) the subtask stops taking input; below it, it takes input again. */
  private updateInputHold(): void {
    const full = this.backlog.length > 0 || this.queue.recordCount >= this.settings.capacity;
    if (full === this.inputPaused || this.closed) return;
    this.inputPaused = full;
    if (full) this.ctx.pauseInput?.();
    else this.ctx.resumeInput?.();
  }

  private armTimer(): void {
    const first = this.firstPending();
    if (first === undefined) {
      this.cancelTimer?.();
      this.cancelTimer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.cancelTimer !== undefined && this.timerAt <= first.deadline) return;
    this.cancelTimer?.();
    this.timerAt = first.deadline;
    this.cancelTimer = this.ctx.scheduleProcessingTime(first.deadline, () => this.onTimer());
  }

  private onTimer(): void {
    this.cancelTimer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.closed) return;
    // The clock may fire a little early: only what is due now times out; the rest re-arms.
    const now = this.ctx.currentProcessingTime();
    for (let first = this.firstPending(); first !== undefined && first.deadline <= now; first = this.firstPending()) {
      this.requestsHead++;
      this.timedOut(first);
    }
    this.armTimer();
  }

  private timedOut(request: Request<I, R>): void {
    const onTimeout = this.settings.onTimeout;
    if (onTimeout === 'fail') {
      const error = new AsyncTimeoutError(this.ctx.uid, this.ctx.subtaskIndex, this.settings.timeoutMs);
      request.controller?.abort(error);
      throw error;
    }
    request.controller?.abort(new AsyncTimeoutError(this.ctx.uid, this.ctx.subtaskIndex, this.settings.timeoutMs));
    let fallback: R | undefined;
    try {
      fallback = onTimeout(request.entry.value);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    this.completed(request, fallback === undefined ? [] : [fallback]);
  }

  /** The oldest issued request still in flight (done ones at the front are dropped). */
  private firstPending(): Request<I, R> | undefined {
    const requests = this.requests;
    while (this.requestsHead < requests.length && requests[this.requestsHead].entry.done) this.requestsHead++;
    return requests[this.requestsHead];
  }

  /** Completed requests behind a slow first one are dropped now and then, so the list stays near the capacity. */
  private compactRequests(): void {
    const live = this.requests.length - this.requestsHead;
    if (live <= 2 * this.settings.capacity + 16) return;
    this.requests = this.requests.slice(this.requestsHead).filter((r) => !r.entry.done);
    this.requestsHead = 0;
  }
}

/** The elements of one old subtask's state, checked: storage is hostile input. */
function checkedElements<I>(state: unknown, uid: string, subtask: number): AsyncElement<I>[] {
  const bad = (what: string) => new InvalidRestoredStateError(uid, `asyncMap '${uid}': restored state of subtask ${subtask} is not an asyncMap snapshot (${what})`);
  const s = state as Partial<AsyncWaitSnapshot<I>>;
  if (typeof state !== 'object' || s.v !== 1 || !Array.isArray(s.elements)) throw bad('expected { v: 1, elements: [...] }');
  for (const e of s.elements as unknown[]) {
    const el = e as Partial<{ kind: string; timestamp: unknown; watermark: unknown }> | null;
    if (el?.kind === 'record' && typeof el.timestamp === 'number') continue;
    if (el?.kind === 'watermark' && typeof el.watermark === 'number') continue;
    throw bad('an element is neither a record with a timestamp nor a watermark');
  }
  return s.elements as AsyncElement<I>[];
}

/** The factory of an asyncMap node. */
export function asyncWaitOperator<I, R>(fn: AsyncMapFunction<I, R>, settings: AsyncMapSettings<I, R>): OperatorFactory {
  return { create: (ctx) => new AsyncWaitOperator(ctx, fn, settings) };
}

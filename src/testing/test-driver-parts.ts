// The parts of a test driver a test holds: its inputs, its outputs, and the checkpoints it restores from.
import { JobConfigError } from '../runtime/index.ts';
import { TestDriverStateError } from './errors.ts';
import type { SinkLog, SinkRecord, SinkView } from './sink-log.ts';
import { entryTimestamp, type InputLog } from './test-input.ts';
import type { TestDriver } from './test-job.ts';

/**
 * A completed checkpoint of a test driver: restore a new driver from it with
 * `testJob(job, { restoreFrom: checkpoint })` (the same job or a changed one, any parallelism).
 * The restored driver reads the same inputs on from the checkpoint's positions (what the test
 * pushed after the checkpoint is replayed, as a log would) and commits into the same sink outputs.
 */
export class TestCheckpoint {
  /** @internal */
  constructor(
    readonly id: number,
    readonly jobId: string,
    /** Root of the checkpoint storage (the job's directory is `<storage>/<jobId>`). */
    readonly storage: string,
    /** Processing time of the driver when the checkpoint completed. */
    readonly processingTime: number,
    /** @internal */
    readonly inputs: ReadonlyMap<string, InputLog>,
    /** @internal */
    readonly sinks: ReadonlyMap<string, SinkLog>,
  ) {}
}

/** One input of a test driver (a replaced source), fed by the test. */
export class TestInput<T = unknown> {
  /** @internal */
  constructor(
    private readonly driver: TestDriver,
    readonly uid: string,
    private readonly log: InputLog<T>,
  ) {}

  /**
   * Appends records (`timestamp`: their event time; `partition`: which split, default 0) and
   * resolves once the job has processed everything it can.
   *
   * @example await driver.input<Click>('clicks').push({ user: 'ann' }, { timestamp: 1_000 });
   */
  async push(value: T, options: { timestamp?: number; partition?: number } = {}): Promise<void> {
    return this.pushAll([value], options);
  }

  /** Appends several records with the same options (see {@link push}). */
  async pushAll(values: readonly T[], options: { timestamp?: number; partition?: number } = {}): Promise<void> {
    const partition = this.partition(options.partition);
    for (const value of values) this.log.append(partition, { kind: 'record', value, timestamp: entryTimestamp(options.timestamp) });
    await this.driver.settle();
  }

  /** Appends records each with its own event time. */
  async pushTimed(records: ReadonlyArray<{ readonly value: T; readonly timestamp: number }>, options: { partition?: number } = {}): Promise<void> {
    const partition = this.partition(options.partition);
    for (const r of records) this.log.append(partition, { kind: 'record', value: r.value, timestamp: r.timestamp });
    await this.driver.settle();
  }

  /**
   * A watermark from this input (every partition unless `partition` is given): for jobs whose
   * event time comes from the source. Jobs that assign watermarks downstream
   * (assignTimestampsAndWatermarks) derive theirs from the timestamps pushed.
   */
  async advanceWatermark(watermark: number, options: { partition?: number } = {}): Promise<void> {
    const partitions = options.partition === undefined ? this.log.partitions.map((_, i) => i) : [this.partition(options.partition)];
    for (const p of partitions) this.log.append(p, { kind: 'watermark', watermark });
    await this.driver.settle();
  }

  /** The input ends (bounded): once every input ended, the job takes its final checkpoint and finishes. */
  async end(): Promise<void> {
    this.log.end();
    await this.driver.settle();
  }

  private partition(partition = 0): number {
    this.driver.requireRunning();
    if (this.log.ended) throw new TestDriverStateError(`input '${this.uid}' has ended`);
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.log.partitions.length) {
      throw new JobConfigError(`input '${this.uid}' partition`, `must be an integer from 0 to ${this.log.partitions.length - 1}, got ${partition}`);
    }
    return partition;
  }
}

/** What one sink of the job produced, as the test sees it. */
export class TestOutput<T = unknown> {
  /** @internal */
  constructor(
    readonly uid: string,
    private readonly log: SinkLog,
    private readonly view: SinkView,
  ) {}

  /** Values committed (by completed checkpoints or the job's end), in commit order; includes commits of the drivers this one was restored from. */
  get committed(): T[] {
    return this.log.committed.map((r) => r.value as T);
  }

  /** Values this driver's sinks received that no completed checkpoint covers yet (lost if the job fails now). */
  get uncommitted(): T[] {
    return [...this.view.uncommitted.values()].flat().map((r) => r.value as T);
  }

  /** Every value this driver's sinks received, committed or not, in arrival order per subtask. */
  get written(): T[] {
    return this.view.written.map((r) => r.value as T);
  }

  /** Committed records with their event time and subtask. */
  get committedRecords(): ReadonlyArray<SinkRecord<T>> {
    return this.log.committed as ReadonlyArray<SinkRecord<T>>;
  }
}

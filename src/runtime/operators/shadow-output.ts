// A sink's output while its job runs in shadow mode: a bounded sample, and the shadow destination if the job gave one.
import type { OperatorContext, Sink, SinkWriter } from '../types.ts';

/** What one sink subtask wrote in shadow mode: how many records, and the newest `sampleSize` of them. */
export interface ShadowSample {
  readonly uid: string;
  readonly subtaskIndex: number;
  /** Records written in shadow mode so far. */
  readonly total: number;
  /** The newest records (at most the job's sample size), oldest first. */
  readonly records: readonly unknown[];
}

/**
 * The shadow side of one sink subtask. Records go to the shadow writer (if the sink has a shadow
 * destination) and into a ring of the newest `sampleSize`. The shadow writer is driven like a
 * non-transactional sink: `flush` stages and commits what it wrote under a shadow epoch of its own
 * (never a checkpoint id of the job directory), `finish` publishes the rest at the cut.
 */
export class ShadowOutput<T> {
  private readonly writer: SinkWriter<T> | undefined;
  private readonly ring: unknown[] = [];
  private next = 0;
  private total = 0;
  private epoch = 0;
  private ended = false;

  constructor(
    private readonly ctx: OperatorContext,
    shadowSink: Sink<T> | undefined,
    private readonly sampleSize: number,
  ) {
    this.writer = shadowSink?.createWriter({ uid: ctx.uid, subtaskIndex: ctx.subtaskIndex, parallelism: ctx.parallelism, jobId: ctx.jobId, fail: (error) => ctx.fail(error) });
  }

  write(value: T, timestamp: number): void {
    this.total++;
    if (this.sampleSize > 0) {
      if (this.ring.length < this.sampleSize) this.ring.push(value);
      else this.ring[this.next] = value;
      this.next = (this.next + 1) % this.sampleSize;
    }
    this.writer?.write(value, timestamp);
  }

  /** The sample so far; with `flush`, what the shadow writer holds is made visible first. */
  async sample(flush: boolean): Promise<ShadowSample> {
    if (flush) await this.flush();
    const ordered = this.ring.length < this.sampleSize ? [...this.ring] : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return { uid: this.ctx.uid, subtaskIndex: this.ctx.subtaskIndex, total: this.total, records: ordered };
  }

  /** Makes what the shadow writer holds visible: stage and commit under the next shadow epoch. */
  async flush(): Promise<void> {
    const writer = this.writer;
    if (!writer || this.ended || (!writer.prepareCommit && !writer.commit)) return;
    const epoch = ++this.epoch;
    await writer.prepareCommit?.(epoch);
    await writer.commit?.(epoch);
  }

  /** The cut: the shadow writer publishes the rest and ends; later records are live. */
  async finish(): Promise<void> {
    if (this.ended) return;
    await this.flush();
    this.ended = true;
    await this.writer?.finish();
  }

  /** The job ends without a cut (stopped, refused, failed): what was flushed stays, the rest goes. */
  async abort(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.writer?.abort();
  }
}

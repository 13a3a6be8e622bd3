// Producer end of one channel: fills batches and sends them only against credits from the consumer.
import { NO_TIMESTAMP } from '../types.ts';
import type { RecordedBatch } from './input-gate.ts';
import type { ChannelMessage, ChannelStats, OutboundTransport } from './types.ts';

/**
 * Credit-based flow control: the writer starts with `credits` and spends one per message; the
 * consumer returns one after processing it. Without credit, finished batches wait in a backlog
 * and the writer reports itself unavailable, so the task stops taking input: a slow consumer
 * back-pressures its producers instead of growing queues.
 */
export class ChannelWriter {
  // Preallocated to the batch size and filled by index: growing by push() would allocate and
  // copy several times per batch, which showed up as a large share of GC time.
  private values: unknown[];
  private count = 0;
  private timestamps: number[] | null = null;
  private credits: number;
  private inFlight = 0;
  private readonly backlog: ChannelMessage[] = [];
  private ended = false;
  readonly stats: ChannelStats;

  constructor(
    channelId: number,
    private readonly transport: OutboundTransport,
    credits: number,
    private readonly batchSize: number,
    /** Called when the backlog has drained (the writer became available again). */
    private readonly onAvailable: () => void,
    transportKind: 'local' | 'port',
  ) {
    this.credits = credits;
    this.values = new Array(batchSize);
    this.stats = { channelId, transport: transportKind, credits, batchesSent: 0, recordsSent: 0, maxInFlight: 0, maxBacklog: 0 };
  }

  get available(): boolean {
    return this.backlog.length === 0;
  }

  get pendingRecords(): number {
    return this.count;
  }

  add(value: unknown, timestamp: number): void {
    const index = this.count;
    if (timestamp !== NO_TIMESTAMP || this.timestamps !== null) this.addTimestamp(timestamp, index);
    this.values[index] = value;
    this.count = index + 1;
    if (index + 1 >= this.batchSize) this.flush();
  }

  /** Sends the records gathered so far (if any), followed by a watermark, a barrier or the end marker. */
  flush(watermark?: number, end = false, barrier?: number, suspend = false, barrierAt?: number): void {
    if (this.ended) return;
    const count = this.count;
    if (count === 0 && watermark === undefined && !end && barrier === undefined) return;
    let values: unknown[] | null = null;
    if (count > 0) {
      if (count * 2 < this.batchSize) {
        // A small flush (watermark, idle source): copy out and keep the big array for reuse.
        values = this.values.slice(0, count);
        this.values.fill(undefined, 0, count);
      } else {
        values = this.values;
        if (count < values.length) values.length = count;
        this.values = new Array(this.batchSize);
      }
      this.count = 0;
    }
    const message: ChannelMessage = { values, timestamps: this.timestamps, watermark, end };
    if (barrier !== undefined) message.barrier = barrier;
    if (barrier !== undefined && barrierAt !== undefined) message.barrierAt = barrierAt;
    if (suspend) message.suspend = true;
    this.timestamps = null;
    if (end) this.ended = true;
    this.send(message);
  }

  end(suspend = false): void {
    this.flush(undefined, true, undefined, suspend);
  }

  /** Barriers are sent even without credit (they wait in the backlog like any message); `at`: when checkpoint n was triggered. */
  barrier(checkpointId: number, at?: number): void {
    this.flush(undefined, false, checkpointId, false, at);
  }

  /**
   * Unaligned barrier: goes out at once, ahead of the backlog and without a credit. Returns the
   * batches it overtook (records only): they are this channel's output state for checkpoint n.
   */
  priorityBarrier(checkpointId: number, at?: number): RecordedBatch[] {
    if (this.ended) return [];
    if (this.count > 0) this.flush();
    const overtaken = this.backlog
      .filter((m) => m.values !== null && m.values.length > 0)
      .map((m) => ({ values: [...m.values!], timestamps: m.timestamps ? Array.from(m.timestamps) : null }));
    const barrier: ChannelMessage = { values: null, timestamps: null, barrier: checkpointId, priority: true };
    if (at !== undefined) barrier.barrierAt = at;
    this.transport.send(barrier);
    return overtaken;
  }

  /** After a restore: batches this channel had not sent at the checkpoint go out first. */
  replay(messages: readonly RecordedBatch[]): void {
    for (const m of messages) this.send({ values: m.values, timestamps: m.timestamps });
  }

  /** The consumer processed `n` messages. */
  addCredits(n: number): void {
    this.credits += n;
    this.inFlight -= n;
    if (this.backlog.length === 0) return;
    while (this.credits > 0 && this.backlog.length > 0) this.transmit(this.backlog.shift()!);
    if (this.backlog.length === 0) this.onAvailable();
  }

  close(): void {
    this.transport.close();
  }

  private send(message: ChannelMessage): void {
    if (this.credits > 0 && this.backlog.length === 0) {
      this.transmit(message);
    } else {
      this.backlog.push(message);
      if (this.backlog.length > this.stats.maxBacklog) this.stats.maxBacklog = this.backlog.length;
    }
  }

  private transmit(message: ChannelMessage): void {
    this.credits--;
    this.inFlight++;
    if (this.inFlight > this.stats.maxInFlight) this.stats.maxInFlight = this.inFlight;
    this.stats.batchesSent++;
    this.stats.recordsSent += message.values?.length ?? 0;
    this.transport.send(message);
  }

  private addTimestamp(timestamp: number, index: number): void {
    if (this.timestamps === null) this.timestamps = new Array<number>(index).fill(NO_TIMESTAMP);
    this.timestamps.push(timestamp);
  }
}

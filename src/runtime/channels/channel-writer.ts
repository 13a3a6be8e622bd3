// Producer end of one channel: fills batches and sends them only against credits from the consumer.
import { NO_TIMESTAMP } from '../types.ts';
import type { ChannelMessage, ChannelStats, OutboundTransport } from './types.ts';

/**
 * Credit-based flow control: the writer starts with `credits` and spends one per message; the
 * consumer returns one after processing it. Without credit, finished batches wait in a backlog
 * and the writer reports itself unavailable, so the task stops taking input: a slow consumer
 * back-pressures its producers instead of growing queues.
 */
export class ChannelWriter {
  private values: unknown[] = [];
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
    this.stats = { channelId, transport: transportKind, credits, batchesSent: 0, recordsSent: 0, maxInFlight: 0, maxBacklog: 0 };
  }

  get available(): boolean {
    return this.backlog.length === 0;
  }

  get pendingRecords(): number {
    return this.values.length;
  }

  add(value: unknown, timestamp: number): void {
    const values = this.values;
    if (timestamp !== NO_TIMESTAMP || this.timestamps !== null) this.addTimestamp(timestamp, values.length);
    values.push(value);
    if (values.length >= this.batchSize) this.flush();
  }

  /** Sends the records gathered so far (if any), followed by a watermark or the end marker. */
  flush(watermark?: number, end = false): void {
    if (this.ended) return;
    if (this.values.length === 0 && watermark === undefined && !end) return;
    const message: ChannelMessage = {
      values: this.values.length > 0 ? this.values : null,
      timestamps: this.timestamps,
      watermark,
      end,
    };
    this.stats.recordsSent += this.values.length;
    this.values = [];
    this.timestamps = null;
    if (end) this.ended = true;
    this.send(message);
  }

  end(): void {
    this.flush(undefined, true);
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
    this.transport.send(message);
  }

  private addTimestamp(timestamp: number, index: number): void {
    if (this.timestamps === null) this.timestamps = new Array<number>(index).fill(NO_TIMESTAMP);
    this.timestamps.push(timestamp);
  }
}

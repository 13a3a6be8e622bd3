// What travels on a channel: a batch of records, then optionally a watermark and the end marker.

/** One channel message as the consumer sees it. */
export interface ChannelMessage {
  /** Records, or null for a watermark/end-only message. */
  values: unknown[] | null;
  /** Event time per record, or null when no record of the batch has one. */
  timestamps: number[] | Float64Array | null;
  /** Watermark that holds after the batch's records. */
  watermark?: number;
  /** Checkpoint barrier n, after the batch's records and watermark. */
  barrier?: number;
  /** With `barrier`: when checkpoint n was triggered (epoch ms, the coordinator's clock), for alignment timeouts. */
  barrierAt?: number;
  /** Unaligned barrier: sent ahead of queued data without a credit, handled by the consumer on arrival. */
  priority?: boolean;
  /** This channel will carry nothing more. */
  end?: boolean;
  /** With `end`: the job is being suspended, not drained: operators close without flushing. */
  suspend?: boolean;
}

/** How a producer's batches reach the consumer (same thread or a MessagePort). */
export interface OutboundTransport {
  send(message: ChannelMessage): void;
  close(): void;
}

/** Per-channel flow-control figures, reported with the job's result. */
export interface ChannelStats {
  channelId: number;
  /** Transport the channel used: `local` (same worker) or `port` (between worker threads). */
  transport: 'local' | 'port';
  credits: number;
  batchesSent: number;
  recordsSent: number;
  /** Most batches ever sent and not yet acknowledged by the consumer: never above `credits`. */
  maxInFlight: number;
  /** Most batches ever waiting in the producer for a credit. */
  maxBacklog: number;
}

// Shared types of the metrics and lifecycle-log module.
export type { HandoverEvent } from '../runtime/index.ts';

/** What attachJobMetrics and attachJobLogger return: stop following the job. */
export interface JobObserver {
  /** Removes the listeners from the job handle; series already recorded stay in the registry. */
  detach(): void;
}

/** A running /metrics endpoint. */
export interface MetricsServer {
  /** The port bound (the free one chosen when 0 was asked for). */
  readonly port: number;
  readonly host: string;
  /** `http://host:port/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

/** The lifecycle events that become log lines. */
export type LifecycleEvent = 'status' | 'checkpoint' | 'end-of-input' | 'handover' | 'stop-request' | 'reference-data' | 'restore' | 'restore-fallback' | 'storage-problem' | 'storage-sweep' | 'job-done' | 'job-failed';

/** One log line, before it reaches a logger: level, message, and the structured fields. */
export interface LifecycleRecord {
  readonly level: 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: { readonly event: LifecycleEvent } & Readonly<Record<string, unknown>>;
}

/** A 'stop-request' event of a job handle. */
export interface StopRequestEvent {
  readonly afterCheckpoint?: number;
  readonly accepted: boolean;
  readonly reason?: string;
}

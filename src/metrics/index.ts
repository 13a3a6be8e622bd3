// Metrics and logs of running jobs: Prometheus metrics (prom-client) and structured lifecycle lines (pino).
// Published as `baton/metrics`, not from `baton`: job modules import `baton` in every worker thread,
// which need neither library.
export { attachJobMetrics } from './attach-job-metrics.ts';
export { MetricsServerError } from './errors.ts';
export { attachJobLogger, createLifecycleLogger } from './job-logger.ts';
export { jobMetricFamilies, type JobMetricFamilies } from './metric-families.ts';
export { startMetricsServer } from './metrics-server.ts';
export { redactCredentials } from './redact.ts';
export type { HandoverEvent, JobObserver, LifecycleEvent, LifecycleRecord, MetricsServer, StopRequestEvent } from './types.ts';

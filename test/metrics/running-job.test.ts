// A real job with metrics attached and the endpoint scraped over HTTP while it runs and after it ended.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { runJob, type JobProgress } from '../../src/index.ts';
import { attachJobMetrics, type MetricsServer, startMetricsServer } from '../../src/metrics/index.ts';
import type { CheckpointStats } from '../../src/runtime/index.ts';
import { jobDirs } from '../e2e/checkpoint-helpers.ts';
import { jobUrl } from '../e2e/helpers.ts';
import { nextEvent, sample, scrape } from './scrape.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-metrics-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

async function withServer<T>(registry: Registry, body: (server: MetricsServer) => Promise<T>): Promise<T> {
  const server = await startMetricsServer(registry, 0);
  try {
    return await body(server);
  } finally {
    await server.close();
  }
}

describe('metrics of a running job, scraped over HTTP', () => {
  it('shows records, checkpoints and status while running, and the final counts once finished', async () => {
    const t = fresh('scrape');
    const registry = new Registry();
    const to = 20_000;
    const job = await runJob(jobUrl('checkpointed-sum'), {
      jobId: t.jobId,
      parallelism: 2,
      checkpointStorage: t.storage,
      metricsIntervalMs: 50,
      params: { output: t.output, to, rate: 10_000 },
    });
    attachJobMetrics(job, registry);
    await withServer(registry, async (server) => {
      // Events, not sleeps: a completed checkpoint and a progress report with records at 'sum'.
      await Promise.all([
        nextEvent<CheckpointStats>(job, 'checkpoint', (c) => c.status === 'COMPLETED'),
        nextEvent<JobProgress>(job, 'progress', (p) => (p.operators.sum?.recordsIn ?? 0) > 0),
      ]);
      const running = await scrape(server.url);
      expect(running.status).toBe(200);
      expect(running.contentType).toContain('text/plain');
      expect(running.contentType).toContain('version=0.0.4');
      const job_ = { job: t.jobId };
      expect(sample(running.body, 'baton_records_in_total', { ...job_, operator: 'sum' })).toBeGreaterThan(0);
      expect(sample(running.body, 'baton_checkpoints_completed_total', job_)).toBeGreaterThanOrEqual(1);
      expect(sample(running.body, 'baton_checkpoint_duration_seconds_count', job_)).toBeGreaterThanOrEqual(1);
      expect(sample(running.body, 'baton_checkpoint_duration_seconds_sum', job_)).toBeGreaterThan(0);
      expect(sample(running.body, 'baton_checkpoint_last_completed_id', job_)).toBeGreaterThanOrEqual(1);
      expect(sample(running.body, 'baton_job_status', { ...job_, status: 'RUNNING' })).toBe(1);
      expect(sample(running.body, 'baton_job_status', { ...job_, status: 'FINISHED' })).toBe(0);

      const result = await job.done;
      expect(result.status).toBe('FINISHED');
      const finished = await scrape(server.url);
      expect(sample(finished.body, 'baton_job_status', { ...job_, status: 'FINISHED' })).toBe(1);
      expect(sample(finished.body, 'baton_job_status', { ...job_, status: 'RUNNING' })).toBe(0);
      // The counters end on the job result's exact totals.
      expect(sample(finished.body, 'baton_records_in_total', { ...job_, operator: 'sum' })).toBe(to);
      expect(sample(finished.body, 'baton_records_out_total', { ...job_, operator: 'numbers' })).toBe(to);
      const completed = result.checkpoints.filter((c) => c.status === 'COMPLETED').length;
      expect(sample(finished.body, 'baton_checkpoints_completed_total', job_)).toBe(completed);
      expect(sample(finished.body, 'baton_job_status_seconds', { ...job_, status: 'RUNNING' })).toBeGreaterThan(0);
    });
  });

  it('shows back-pressure at the operator feeding a slow stage, none at the slow stage itself', async () => {
    const t = fresh('backpressure');
    const registry = new Registry();
    const job = await runJob(jobUrl('checkpointed-sum'), {
      jobId: t.jobId,
      parallelism: 1,
      checkpointStorage: t.storage,
      metricsIntervalMs: 50,
      // Few credits and more input than they can hold: the source must wait for the slow chain
      // (with 6 000 records it could fit all its batches in flight and, on a fast run, never wait).
      channelCredits: 2,
      params: { output: t.output, to: 60_000, rate: 8_000, slowMicros: 300, sink: 'discard' },
    });
    attachJobMetrics(job, registry);
    await withServer(registry, async (server) => {
      // sum → slow → out run chained in one task that takes ~300 µs a record: the source waits for credit.
      await nextEvent<JobProgress>(job, 'progress', (p) => (p.operators.numbers?.backpressuredMs ?? 0) > 0);
      const { body } = await scrape(server.url);
      expect(sample(body, 'baton_backpressured_seconds_total', { job: t.jobId, operator: 'numbers' })).toBeGreaterThan(0);
      // A chain ending in a sink has no output channel: it is never back-pressured.
      expect(sample(body, 'baton_backpressured_seconds_total', { job: t.jobId, operator: 'out' })).toBe(0);
      await job.cancel();
      expect((await job.done).status).toBe('CANCELED');
    });
  });
});

describe('metrics server', () => {
  it('answers 404 outside /metrics and 405 for other methods, and picks a free port for 0', async () => {
    const registry = new Registry();
    await withServer(registry, async (server) => {
      expect(server.port).toBeGreaterThan(0);
      expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);
      const missing = await scrape(`http://127.0.0.1:${server.port}/`);
      expect(missing.status).toBe(404);
      expect((await scrape(`http://127.0.0.1:${server.port}/metricsx`)).status).toBe(404);
      expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
      expect((await scrape(`${server.url}?name=x`)).status).toBe(200);
    });
  });

  it('fails with a typed error naming the port when it is taken', async () => {
    const registry = new Registry();
    await withServer(registry, async (server) => {
      await expect(startMetricsServer(registry, server.port)).rejects.toThrow(`metrics server cannot listen on 127.0.0.1:${server.port}: EADDRINUSE`);
    });
  });
});

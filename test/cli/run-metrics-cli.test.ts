// baton run --metrics-port / --log-json: the endpoint answers while the job runs, lifecycle lines are JSON on stderr.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { jobDirs } from '../e2e/checkpoint-helpers.ts';
import { sample, scrape } from '../metrics/scrape.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-cli-metrics-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);
const checkpointedSum = fileURLToPath(new URL('../e2e/jobs/checkpointed-sum.ts', import.meta.url));

describe('baton run --metrics-port --log-json', () => {
  it('prints the metrics URL, serves metrics while the job runs, and logs lifecycle events as JSON lines', async () => {
    const t = fresh('cli');
    const out: string[] = [];
    const lines: Array<Record<string, unknown>> = [];
    let url: string | undefined;
    let scraped: Promise<Awaited<ReturnType<typeof scrape>>> | undefined;
    const io = {
      out: (line: string) => {
        out.push(line);
        url ??= /^metrics at (http:\S+)$/.exec(line)?.[1];
      },
      err: (line: string) => {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        lines.push(parsed);
        // The first completed checkpoint: the job is running and has a checkpoint to show.
        if (!scraped && parsed.event === 'checkpoint' && parsed.status === 'COMPLETED') {
          scraped = scrape(url!);
          // Awaited after the run; handled now so a failure is reported there, not as unhandled.
          scraped.catch(() => {});
        }
      },
    };
    const argv = ['node', 'baton', 'run', checkpointedSum, '--job-id', t.jobId, '--checkpoint-storage', t.storage, '--progress-ms', '50'];
    const params = ['--param', `output=${t.output}`, '--param', 'to=20000', '--param', 'rate=10000'];
    const code = await main([...argv, ...params, '--metrics-port', '0', '--log-json'], io);
    expect(code).toBe(0);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const during = await scraped!;
    expect(during.status).toBe(200);
    expect(sample(during.body, 'baton_checkpoints_completed_total', { job: t.jobId })).toBeGreaterThanOrEqual(1);
    expect(sample(during.body, 'baton_job_status', { job: t.jobId, status: 'RUNNING' })).toBe(1);
    // Node's own process metrics come along.
    expect(during.body).toContain('process_cpu_user_seconds_total');
    expect(lines.filter((l) => l.event === 'status').map((l) => l.status)).toContain('RUNNING');
    expect(lines.at(-1)).toMatchObject({ event: 'job-done', status: 'FINISHED', job: t.jobId });
    // The human lifecycle lines are replaced, the final table stays.
    expect(out.some((l) => /^\s*\d+\.\d+s\s/.test(l))).toBe(false);
    expect(out.join('\n')).toContain(`job '${t.jobId}' FINISHED`);
    // The endpoint closed with the job.
    await expect(fetch(url!)).rejects.toThrow();
  });

  it('rejects a bad port naming the flag', async () => {
    const err: string[] = [];
    const code = await main(['node', 'baton', 'run', checkpointedSum, '--metrics-port', '70000'], { out: () => {}, err: (l) => err.push(l) });
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('--metrics-port must be an integer from 0 to 65535');
  });
});

// The baton command: run prints status, progress and counters; demo runs end to end; bad flags are named.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { parseParam } from '../../src/cli/parse-params.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

const runningSum = fileURLToPath(new URL('../e2e/jobs/running-sum.ts', import.meta.url));

describe('baton run', () => {
  it('runs a job and prints its lifecycle and final counters', async () => {
    const { io, out } = capture();
    const code = await main(['node', 'baton', 'run', runningSum, '--parallelism', '2', '--param', 'to=5000', '--progress-ms', '50'], io);
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('RUNNING');
    expect(text).toMatch(/running-sum\s+process\s+2\s+5,000\s+5,000/);
    expect(text).toMatch(/job 'running-sum' FINISHED/);
  });

  it('rejects a bad flag value naming the flag', async () => {
    const { io, err } = capture();
    const code = await main(['node', 'baton', 'run', runningSum, '--parallelism', '0'], io);
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('--parallelism must be an integer >= 1');
  });

  it("answers --restore-from chk-3 with the flag to use: --restore-from 3", async () => {
    const { io, err } = capture();
    const code = await main(['node', 'baton', 'run', runningSum, '--checkpoint-storage', join(tmpdir(), 'baton-cli-nowhere'), '--restore-from', 'chk-3'], io);
    expect(code).toBe(1);
    expect(err.join('\n')).toContain("'chk-3' is a checkpoint directory name: to restore checkpoint 3 use restoreFrom: 3 (CLI: --restore-from 3)");
  });

  it('reports a job that cannot be found by the path given, not a file of the runtime', async () => {
    const { io, err } = capture();
    const code = await main(['node', 'baton', 'run', 'nonexistent/job.ts'], io);
    expect(code).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^baton: job module nonexistent\/job\.ts \(.*\/nonexistent\/job\.ts\): not found/);
    expect(err[0]).not.toMatch(/imported from|src\/runtime/);
  });

  it("--restore-from latest on a directory without checkpoints fails naming it; latest-or-empty starts empty and says so", async () => {
    const storage = mkdtempSync(join(tmpdir(), 'baton-cli-latest-'));
    try {
      const job = fileURLToPath(new URL('../e2e/jobs/thread-marked.ts', import.meta.url));
      const args = ['node', 'baton', 'run', job, '--job-id', 'orders', '--checkpoint-storage', storage];
      const latest = capture();
      expect(await main([...args, '--restore-from', 'latest'], latest.io)).toBe(1);
      expect(latest.err.join('\n')).toContain(`restoreFrom 'latest': no checkpoint to restore in file://${storage}/orders (it holds no checkpoint)`);
      const orEmpty = capture();
      expect(await main([...args, '--restore-from', 'latest-or-empty'], orEmpty.io)).toBe(0);
      expect(orEmpty.out.join('\n')).toMatch(new RegExp(`s  started empty: no checkpoint in file://${storage}/orders \\(restoreFrom 'latest-or-empty'\\)`));
      // A restored run prints "restored checkpoint <n> from ..." the same way (the 'restore' event's message; test/e2e/fail-fast.test.ts).
    } finally {
      rmSync(storage, { recursive: true, force: true });
    }
  });
});

describe('baton demo', () => {
  it('runs the example job and accounts for every click', async () => {
    const { io, out } = capture();
    const code = await main(['node', 'baton', 'demo', 'clickstream', '--clicks', '20000'], io);
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('every click counted once: 20,000 of 20,000 in windows');
    expect(text).toContain('worker threads left: 0');
  });
});

describe('baton demo (handover)', { timeout: 180_000 }, () => {
  it('hands over from A to B exactly once when B is ready (when-ready), prints the timeline with metrics and writes the SVG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-demo-test-'));
    try {
      const svg = join(dir, 'timeline.svg');
      const { io, out } = capture();
      // A slow input (24 s) keeps A running while B starts, however busy the machine (B took 10 s here under load).
      const code = await main(['node', 'baton', 'demo', '--ref-mb', '8', '--orders', '24000', '--rate', '1000', '--svg', svg], io);
      const text = out.join('\n');
      expect(code, text).toBe(0);
      expect(text).toContain('together they equal one uninterrupted run: yes');
      expect(text).toMatch(/target chosen\s+when B was ready/);
      expect(text).toMatch(/target ready before job\s+false/);
      expect(text).toMatch(/A STANDBY/);
      expect(text).not.toMatch(/B STANDBY/);
      expect(text).toMatch(/B WAITING_FOR_START_SIGNAL/);
      expect(text).toMatch(/downtime \(ms\)\s+\d+/);
      expect(text).toMatch(/B loaded 8,388,608 bytes of reference data/);
      const picture = readFileSync(svg, 'utf8');
      expect(picture.startsWith('<svg') || picture.startsWith('<?xml')).toBe(true);
      expect(picture).toContain('WAITING_FOR_START_SIGNAL');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('baton demo rollback', { timeout: 180_000 }, () => {
  it('stops B once A stands by (before B\'s first checkpoint): A stands by after its stop checkpoint, resumes by itself, and its output alone is the whole run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-demo-rollback-'));
    try {
      const svg = join(dir, 'rollback.svg');
      const { io, out } = capture();
      // A slow input (24 s) keeps A running while B starts, however busy the machine (B took 17 s here under load).
      const code = await main(['node', 'baton', 'demo', 'rollback', '--ref-mb', '4', '--orders', '12000', '--rate', '500', '--svg', svg], io);
      const text = out.join('\n');
      expect(code, text).toBe(0);
      expect(text).toMatch(/A STANDBY[\s\S]*A RUNNING/);
      expect(text).toMatch(/A handover rollback chk-\d+/);
      expect(text).toMatch(/rollback downtime \d+ ms/);
      expect(text).toContain('together they equal one uninterrupted run: yes');
      expect(readFileSync(svg, 'utf8')).toContain('STANDBY');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('--param', () => {
  it('types numbers and booleans and keeps strings', () => {
    let params = parseParam('n=42');
    params = parseParam('fast=true', params);
    params = parseParam('path=/tmp/x=1', params);
    expect(params).toEqual({ n: 42, fast: true, path: '/tmp/x=1' });
    expect(() => parseParam('novalue')).toThrow(/key=value/);
  });
});

describe('bin/baton.mjs', () => {
  it('works as an executable (loads TypeScript jobs without a build)', async () => {
    const { spawnSync } = await import('node:child_process');
    const bin = fileURLToPath(new URL('../../bin/baton.mjs', import.meta.url));
    const run = spawnSync(process.execPath, [bin, 'run', runningSum, '--param', 'to=1000'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/running-sum\s+process\s+1\s+1,000\s+1,000/);
  });
});

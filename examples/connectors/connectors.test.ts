// "Write your own connector", part 3: testing it. testJob with `inputs: []` runs the real source; a crash
// and a restore at another parallelism must leave exactly the output of one uninterrupted run.
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineJob, Sources } from 'baton';
import { type TestDriver, testJob } from 'baton/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { ledger } from './ledger-sink.ts';
import { tail } from './tail-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'baton-connector-guide-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const logs = [join(dir, 'a.log'), join(dir, 'b.log')];
const out = join(dir, 'ledger');

const job = defineJob((env) => {
  env.enableCheckpointing({ intervalMs: 1_000 });
  env
    .fromSource(tail({ paths: logs, pollMs: 5 }), 'logs')
    .uid('logs')
    .map((l) => `${l.file.endsWith('a.log') ? 'a' : 'b'}:${l.line}`)
    .uid('tag')
    .sinkTo(ledger<string>({ dir: out }))
    .uid('ledger');
});

/** Every line of the published ledger files (pending ones are not output). */
function published(): string[] {
  return readdirSync(out)
    .filter((f) => f.startsWith('ledger-'))
    .flatMap((f) => readFileSync(join(out, f), 'utf8').split('\n').filter(Boolean))
    .map((json) => JSON.parse(json) as string)
    .sort();
}

/** Waits until the driver's sink has received `n` records (the source polls the files every 5 ms). */
async function written(driver: TestDriver, n: number): Promise<void> {
  while (driver.output('ledger').written.length < n) await new Promise((r) => setTimeout(r, 5));
}

describe('a connector of our own: tail source → ledger sink', () => {
  it('exactly once across a crash and a restore at another parallelism', async () => {
    appendFileSync(logs[0], 'a1\na2\n');
    appendFileSync(logs[1], 'b1\n');
    const first = await testJob(job, { parallelism: 2, inputs: [] });
    await written(first, 3);
    const checkpoint = await first.checkpoint();
    expect(published()).toEqual(['a:a1', 'a:a2', 'b:b1']);
    // Appended after the checkpoint, read, but never committed: the crash loses it, the restore reads it again.
    appendFileSync(logs[0], 'a3\n');
    // A line being written is not read until it is complete.
    appendFileSync(logs[1], 'b2\nb3 (half');
    await written(first, 5);
    await first.crash();
    expect(published()).toEqual(['a:a1', 'a:a2', 'b:b1']);

    appendFileSync(logs[1], ' written)\n');
    const second = await testJob(job, { parallelism: 1, inputs: [], restoreFrom: checkpoint });
    await written(second, 3);
    await second.checkpoint();
    expect(published()).toEqual(['a:a1', 'a:a2', 'a:a3', 'b:b1', 'b:b2', 'b:b3 (half written)']);
    await second.close();
  });

  it('refuses a checkpoint that points the source at another file', () => {
    const source = tail({ paths: logs });
    expect(source.checkRestoredSplit?.({ id: 'tail:/etc/passwd', path: '/etc/passwd', offset: 0 })?.field).toBe('.path');
    expect(source.checkRestoredSplit?.(source.createSplits(1)[0])).toBeUndefined();
  });

  it('is an ordinary source next to the built-in ones', () => {
    expect(tail({ paths: logs }).kind).toBe('tail');
    expect(Sources.sequence({ from: 1, to: 2 }).kind).toBe('sequence');
  });
});

// `baton checkpoints list|status|inspect` read a job directory from storage alone.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFailedMarker } from '../../src/checkpoint/status/checkpoint-status.ts';
import { openStorage } from '../../src/checkpoint/storage/index.ts';
import { main } from '../../src/cli/main.ts';
import { testJob } from '../../src/testing/index.ts';
import checkpointedSum from '../e2e/jobs/checkpointed-sum.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-cli-checkpoints-'));
const storageUri = pathToFileURL(join(root, 'store')).href;
const jobDir = `${storageUri}/cli-job`;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

// A job directory with three completed checkpoints (the job ran on between them), made in
// testJob: the CLI reads storage alone, whichever runtime wrote it.
beforeAll(async () => {
  const driver = await testJob(checkpointedSum, { jobId: 'cli-job', parallelism: 2, checkpointStorage: storageUri, params: { output: join(root, 'out') } });
  for (let round = 0; round < 3; round++) {
    await driver.input<number>('numbers').pushAll(Array.from({ length: 1_000 }, (_, i) => round * 1_000 + i + 1));
    await driver.checkpoint();
  }
  await driver.close();
  await writeFailedMarker(openStorage(jobDir), 4, 'declined by 1/0: disk full');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('baton checkpoints', () => {
  it('list shows every checkpoint with its status', async () => {
    const { io, out } = capture();
    expect(await main(['node', 'baton', 'checkpoints', 'list', jobDir], io)).toBe(0);
    expect(out).toEqual(['chk-1\tCOMPLETED', 'chk-2\tCOMPLETED', 'chk-3\tCOMPLETED', 'chk-4\tFAILED']);
  });

  it('status exits 0 for COMPLETED and non-zero otherwise', async () => {
    for (const [n, status, code] of [
      [3, 'COMPLETED', 0],
      [4, 'FAILED', 3],
    ] as const) {
      const { io, out } = capture();
      expect(await main(['node', 'baton', 'checkpoints', 'status', jobDir, String(n)], io)).toBe(code);
      expect(out).toEqual([status]);
    }
  });

  it('status tells a checkpoint deleted by retention (exit 8) from one that never existed (UNKNOWN, exit 5)', async () => {
    // What retention leaves after the job went on: the oldest checkpoint is gone, newer ones stay.
    const retained = join(root, 'store', 'cli-job-retained');
    cpSync(join(root, 'store', 'cli-job'), retained, { recursive: true });
    rmSync(join(retained, 'chk-1'), { recursive: true });
    const dir = `${storageUri}/cli-job-retained`;
    const deleted = capture();
    expect(await main(['node', 'baton', 'checkpoints', 'status', dir, '1'], deleted.io)).toBe(8);
    expect(deleted.out).toEqual([`DELETED: chk-1 no longer exists in ${dir}: older than every checkpoint left, deleted by retention (left: chk-2..chk-4)`]);
    const never = capture();
    expect(await main(['node', 'baton', 'checkpoints', 'status', dir, '9'], never.io)).toBe(5);
    expect(never.out).toEqual([`UNKNOWN: chk-9 never existed: the newest checkpoint in ${dir} is chk-4`]);
    const nothing = capture();
    expect(await main(['node', 'baton', 'checkpoints', 'status', `${storageUri}/no-such-job`, '1'], nothing.io)).toBe(5);
    expect(nothing.out).toEqual([`UNKNOWN: chk-1 never existed: ${storageUri}/no-such-job holds no checkpoint`]);
  });

  it('list (and status) on the storage root name the job directories it holds and exit non-zero', async () => {
    const { io, out, err } = capture();
    expect(await main(['node', 'baton', 'checkpoints', 'list', storageUri], io)).toBe(1);
    expect(out).toEqual([]);
    const message = err.join('\n');
    expect(message).toContain(`${storageUri} is not a job directory: it is a checkpoint storage root holding the job directories`);
    expect(message).toContain(`${storageUri}/cli-job,`);
    expect(message).toContain(': give one of them');
    const status = capture();
    expect(await main(['node', 'baton', 'checkpoints', 'status', storageUri, '1'], status.io)).toBe(1);
    expect(status.err.join('\n')).toContain(`${storageUri} is not a job directory: it is a checkpoint storage root`);
    const missing = capture();
    expect(await main(['node', 'baton', 'checkpoints', 'list', `${storageUri}/no-such-job`], missing.io)).toBe(1);
    expect(missing.err.join('\n')).toContain("is not a job directory: it holds no job's files");
  });

  it('list and status verify _metadata: a damaged one is CORRUPT (exit 6), not COMPLETED', async () => {
    const damaged = join(root, 'store', 'cli-job-damaged');
    cpSync(join(root, 'store', 'cli-job'), damaged, { recursive: true });
    const key = join(damaged, 'chk-3', '_metadata');
    const bytes = readFileSync(key);
    bytes[bytes.length - 2] ^= 0x20;
    writeFileSync(key, bytes);
    const listed = capture();
    expect(await main(['node', 'baton', 'checkpoints', 'list', `${storageUri}/cli-job-damaged`], listed.io)).toBe(6);
    expect(listed.out).toEqual(['chk-1\tCOMPLETED', 'chk-2\tCOMPLETED', 'chk-3\tCORRUPT', 'chk-4\tFAILED']);
    const status = capture();
    expect(await main(['node', 'baton', 'checkpoints', 'status', `${storageUri}/cli-job-damaged`, '3'], status.io)).toBe(6);
    expect(status.out).toHaveLength(1);
    expect(status.out[0]).toMatch(/^CORRUPT: corrupt checkpoint metadata .*chk-3\/_metadata of checkpoint 3 \(checksum\)/);
  });

  it('inspect shows operators, key-group ranges, chains and bytes', async () => {
    const { io, out } = capture();
    expect(await main(['node', 'baton', 'checkpoints', 'inspect', jobDir, '3'], io)).toBe(0);
    const text = out.join('\n');
    expect(text).toContain("checkpoint 3 of job 'cli-job'");
    expect(text).toMatch(/operator 'sum' parallelism 2: 2 key-group range\(s\)/);
    expect(text).toMatch(/key groups 0-63: chain of \d+ \(base \+ \d+ delta\), [\d,]+ bytes/);
    expect(text).toMatch(/key groups 64-127: chain of/);
    expect(text).toContain("operator 'numbers' parallelism 1");
  });

  it('inspect of a missing checkpoint is a clear error', async () => {
    const { io, err } = capture();
    expect(await main(['node', 'baton', 'checkpoints', 'inspect', jobDir, '42'], io)).toBe(1);
    expect(err.join('\n')).toMatch(/42/);
  });
});

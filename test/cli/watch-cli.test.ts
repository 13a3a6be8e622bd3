// `baton watch <job-dir> --target N`: prints what changed, exits 0 when ready, 6 on timeout, 2 on a bad flag.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMetadata } from '../../src/checkpoint/metadata/metadata-codec.ts';
import { writeFailedMarker } from '../../src/checkpoint/status/checkpoint-status.ts';
import { FileStorage } from '../../src/checkpoint/storage/index.ts';
import { WATCH_EXIT_CODES } from '../../src/cli/commands/watch.ts';
import { main } from '../../src/cli/main.ts';
import { makeMetadata } from '../checkpoint/metadata/fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-cli-watch-'));
const jobDir = pathToFileURL(join(root, 'job')).href;
const flinkDir = join(root, 'flink-job');

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

const watch = (io: ReturnType<typeof capture>['io'], ...args: string[]) => main(['node', 'baton', 'watch', ...args], io);

/** chk-1 COMPLETED, chk-2 FAILED, chk-3 COMPLETED, chk-4 IN_PROGRESS; a Flink job dir with chk-12 COMPLETED. */
beforeAll(async () => {
  const storage = new FileStorage(jobDir);
  await storage.put('chk-1/_metadata', encodeMetadata(makeMetadata(1)));
  await storage.put('chk-2/op-count.0', new Uint8Array([1]));
  await writeFailedMarker(storage, 2, 'declined by 0/1: disk full');
  await storage.put('chk-3/_metadata', encodeMetadata(makeMetadata(3)));
  await storage.put('chk-4/op-count.0', new Uint8Array([1]));
  await new FileStorage(flinkDir).put('chk-12/_metadata', Uint8Array.from([0x49, 0x60, 0x67, 0x2d, 0, 0, 0, 3]));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('baton watch', () => {
  it('exits 0 when the target is COMPLETED and names its format', async () => {
    const { io, out } = capture();
    expect(await watch(io, jobDir, '--target', '3')).toBe(0);
    expect(out).toEqual(['chk-3 COMPLETED (baton)']);

    const flink = capture();
    expect(await watch(flink.io, flinkDir, '--target', '12')).toBe(0);
    expect(flink.out).toEqual(['chk-12 COMPLETED (flink)']);
  });

  it('moves past a FAILED target and says why', async () => {
    const { io, out } = capture();
    expect(await watch(io, jobDir, '--target', '2')).toBe(0);
    expect(out).toEqual(['target moved 2 -> 3: chk-2 FAILED', 'chk-3 COMPLETED (baton)']);
  });

  it(`exits ${WATCH_EXIT_CODES['timed-out']} on timeout after printing the target's status`, async () => {
    expect(WATCH_EXIT_CODES).toEqual({ ready: 0, 'timed-out': 6 });
    const { io, out } = capture();
    expect(await watch(io, jobDir, '--target', '4', '--timeout', '60', '--poll', '20')).toBe(6);
    expect(out[0]).toBe('chk-4 IN_PROGRESS');
    expect(out).toHaveLength(2);
    expect(out[1]).toMatch(/^timed out after \d+ ms: chk-4 is IN_PROGRESS$/);
  });

  it('exits 1 for a target older than the newest completed checkpoint', async () => {
    const { io, err } = capture();
    expect(await watch(io, jobDir, '--target', '1', '--timeout', '1000')).toBe(1);
    expect(err.join('\n')).toMatch(/handover target chk-1 is older than the newest completed checkpoint chk-3/);
  });

  it('exits 2 for a bad or missing --target, naming it', async () => {
    for (const bad of ['abc', '0', '-5', '1.5']) {
      const { io, err } = capture();
      expect(await watch(io, jobDir, '--target', bad)).toBe(2);
      expect(err.join('\n')).toContain(`--target must be an integer >= 1, got '${bad}'`);
    }
    const missing = capture();
    expect(await watch(missing.io, jobDir)).toBe(2);
    expect(missing.err.join('\n')).toContain('--target');
  });
});

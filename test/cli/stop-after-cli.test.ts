// `baton stop-after <job-dir> <n>`: writes the stop request the running job polls.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readStopRequest } from '../../src/checkpoint/status/stop-request.ts';
import { openStorage } from '../../src/checkpoint/storage/index.ts';
import { main } from '../../src/cli/main.ts';

describe('baton stop-after', () => {
  it('writes the request for checkpoint n, and refuses a bad n naming the argument', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-stop-after-'));
    // A job's directory: it has written a checkpoint.
    mkdirSync(join(dir, 'chk-1'));
    try {
      const jobDir = pathToFileURL(dir).href;
      const out: string[] = [];
      const err: string[] = [];
      const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
      expect(await main(['node', 'baton', 'stop-after', jobDir, '7'], io)).toBe(0);
      expect(out.join('\n')).toContain('stop right after chk-7');
      expect(await readStopRequest(openStorage(jobDir))).toMatchObject({ afterCheckpoint: 7, requestedBy: 'baton stop-after' });
      expect(await main(['node', 'baton', 'stop-after', jobDir, 'soon'], io)).toBe(2);
      expect(err.join('\n')).toContain('<n>');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a directory with no job (missing, empty, or the storage root) without creating anything', async () => {
    const root = mkdtempSync(join(tmpdir(), 'baton-stop-after-root-'));
    try {
      const missing = join(root, 'nonexistent');
      mkdirSync(join(root, 'orders', 'chk-3'), { recursive: true });
      mkdirSync(join(root, 'empty'));
      for (const [dir, expected] of [
        [missing, /is not a job directory: it holds no job's files/],
        [join(root, 'empty'), /is not a job directory: it holds no job's files/],
        [root, /checkpoint storage root holding the job directories .*\/orders: give one of them/],
      ] as const) {
        const out: string[] = [];
        const err: string[] = [];
        expect(await main(['node', 'baton', 'stop-after', dir, '5'], { out: (l) => out.push(l), err: (l) => err.push(l) })).toBe(1);
        expect(out.join('\n')).not.toContain('requested');
        expect(err.join('\n')).toMatch(expected);
      }
      expect(existsSync(missing)).toBe(false);
      expect(existsSync(join(root, 'handover'))).toBe(false);
      expect(existsSync(join(root, 'empty', 'handover'))).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

// `baton stop-after <job-dir> <n>`: writes the stop request the running job polls.
import { mkdtempSync, rmSync } from 'node:fs';
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
});

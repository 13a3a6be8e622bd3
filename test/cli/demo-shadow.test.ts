// `baton demo shadow`: A live, B in SHADOW beside it on the same live input, the guard compares B with A, one cut, every order committed once.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';

describe('baton demo shadow', { timeout: 120_000 }, () => {
  it('runs B in shadow beside A, asks the guard, cuts, and A’s and B’s committed output equal one uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-demo-shadow-'));
    try {
      const svg = join(dir, 'shadow.svg');
      const out: string[] = [];
      const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
      // A live stream of 10 s: B starts after A's second checkpoint and asks for promotion after 500 ms in SHADOW.
      const code = await main(['node', 'baton', 'demo', 'shadow', '--ref-mb', '4', '--orders', '15000', '--rate', '1500', '--shadow-ms', '500', '--svg', svg], io);
      const text = out.join('\n');
      expect(code, text).toBe(0);
      expect(text).toMatch(/B SHADOW/);
      expect(text).toMatch(/B handover guard \(promote\)/);
      expect(text).toMatch(/guard: \d+ of \d+ sampled lines of B compared with A's committed ones, 0 differ/);
      expect(text).toMatch(/B handover cut chk-\d+/);
      expect(text).toContain('together they equal one uninterrupted run: yes');
      expect(readFileSync(svg, 'utf8')).toContain('SHADOW');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

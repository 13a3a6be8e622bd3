// Tests of Sources.file: exact line coverage over any split size, resuming anywhere, directories, validation.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FileSplit } from '../../../src/api/sources/index.ts';
import { Sources } from '../../../src/api/sources/index.ts';
import type { Source, SourceSplit } from '../../../src/runtime/types.ts';
import { configError, drain } from '../helpers.ts';

const ctx = { subtaskIndex: 0, parallelism: 1, uid: 'lines' };
const root = mkdtempSync(join(tmpdir(), 'baton-file-source-'));
let fileCounter = 0;

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function writeTemp(content: string | Buffer): string {
  const path = join(root, `input-${fileCounter++}.txt`);
  writeFileSync(path, content);
  return path;
}

/** mulberry32: a small seeded PRNG so a failing case can be reproduced. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'b', 'z', ' ', '0', 'é', 'ß', '€', '中', '😀', '\r'];

/** Random text: lines of random length (many empty), mixed '\n' and '\r\n', multi-byte characters. */
function randomText(seed: number, lines: number, maxLength: number, finalNewline: boolean): string {
  const next = random(seed);
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) {
    const length = next() < 0.2 ? 0 : Math.floor(next() * maxLength);
    let line = '';
    for (let j = 0; j < length; j++) line += ALPHABET[Math.floor(next() * ALPHABET.length)];
    // A '\r' that ends a line's content would be taken for part of '\r\n'.
    if (line.endsWith('\r')) line += 'x';
    parts.push(line);
    if (i < lines - 1 || finalNewline) parts.push(next() < 0.3 ? '\r\n' : '\n');
  }
  return parts.join('');
}

/** What a reader must produce: the text's lines without terminators. */
function expectedLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}


function readSplits(source: Source<string>, max = 1000): string[][] {
  return source.createSplits(4).map((split) => drain(source.createReader(split, ctx), max));
}


describe('Sources.file', () => {
  const text = randomText(42, 300, 14, false);
  const path = writeTemp(text);
  const size = Buffer.byteLength(text);
  const expected = expectedLines(text);

  it('generates the awkward cases it is meant to test', () => {
    expect(expected).toContain('');
    expect(text).toContain('\r\n');
    expect(text.endsWith('\n')).toBe(false);
    expect(size).toBeGreaterThan(text.length);
  });

  it('reads every line exactly once, in order, for any split size', () => {
    for (const splitBytes of [1, 2, 3, 7, 64, 1000, size, size + 1]) {
      const source = Sources.file({ path, splitBytes });
      source.validate();
      const splits = source.createSplits(3) as FileSplit[];
      expect(splits).toHaveLength(Math.ceil(size / splitBytes));
      expect(splits[0]).toMatchObject({ start: 0, offset: 0, end: Math.min(size, splitBytes) });
      expect(readSplits(source).flat()).toEqual(expected);
      expect(readSplits(source, 1).flat()).toEqual(expected);
    }
    expect(readSplits(Sources.file({ path })).flat()).toEqual(expected);
    expect(Sources.file({ path }).createSplits(8)).toHaveLength(1);
  });

  it('reads files ending with a newline, blank lines only, and empty files', () => {
    for (const content of ['', '\n', '\n\n', '\r\n', 'x', 'x\n', 'x\r\n', 'a\r', '\n\nlast', randomText(7, 100, 9, true)]) {
      const p = writeTemp(content);
      for (const splitBytes of [1, 2, 3, 5, 1000]) {
        expect(readSplits(Sources.file({ path: p, splitBytes })).flat(), JSON.stringify(content)).toEqual(expectedLines(content));
      }
    }
  });

  it('resumes from currentSplit() at every line position with no line lost or repeated', () => {
    for (const splitBytes of [3, 7, 64, size]) {
      const source = Sources.file({ path, splitBytes });
      for (const split of source.createSplits(1)) {
        const whole = drain(source.createReader(split, ctx));
        const reader = source.createReader(split, ctx);
        // Checkpoint before any poll, then after every line.
        const checkpoints: SourceSplit[] = [structuredClone(reader.currentSplit())];
        const prefix: string[] = [];
        while (!reader.finished) {
          reader.poll(1, (line) => prefix.push(line));
          checkpoints.push(structuredClone(reader.currentSplit()));
        }
        expect(prefix).toEqual(whole);
        checkpoints.forEach((checkpoint, i) => {
          const resumed = source.createReader(checkpoint, ctx);
          const rest = drain(resumed);
          resumed.close();
          expect([...whole.slice(0, Math.min(i, whole.length)), ...rest]).toEqual(whole);
        });
      }
    }
  });

  it('assembles lines longer than a read chunk and characters cut by chunk boundaries', () => {
    const chunk = 64 * 1024;
    const longLine = 'é'.repeat(100_000); // 200 000 bytes
    const lines = [
      // Puts a 4-byte character across the first 64 KiB boundary, then a 3-byte one across the next.
      `${'a'.repeat(chunk - 2)}😀b`,
      `${'c'.repeat(chunk - 4)}€€d`,
      longLine,
      '',
      `${'😀'.repeat(40_000)}\r`,
      'tail',
    ];
    const content = lines.join('\n');
    const p = writeTemp(content);
    const want = expectedLines(content);
    expect(want[4]).toBe('😀'.repeat(40_000));
    const bytes = Buffer.byteLength(content);
    for (const splitBytes of [1000, chunk - 1, chunk + 1, 100_003, bytes]) {
      expect(readSplits(Sources.file({ path: p, splitBytes })).flat()).toEqual(want);
    }
    // Resuming after each line of a split that spans several long lines.
    const source = Sources.file({ path: p });
    const reader = source.createReader(source.createSplits(1)[0], ctx);
    const seen: string[] = [];
    while (!reader.finished) {
      reader.poll(1, (line) => seen.push(line));
      const rest = drain(source.createReader(structuredClone(reader.currentSplit()), ctx));
      expect([...seen, ...rest]).toEqual(want);
    }
  });

  it('reads the regular files of a directory in name order', () => {
    const dir = join(root, 'dir-input');
    mkdirSync(dir);
    writeFileSync(join(dir, 'b.txt'), 'b1\nb2\n');
    writeFileSync(join(dir, 'a.txt'), 'a1\r\na2');
    writeFileSync(join(dir, 'c-empty.txt'), '');
    writeFileSync(join(dir, 'd.txt'), randomText(3, 50, 20, true));
    mkdirSync(join(dir, 'nested'));
    writeFileSync(join(dir, 'nested', 'ignored.txt'), 'nope\n');
    const want = ['a1', 'a2', 'b1', 'b2', ...expectedLines(randomText(3, 50, 20, true))];
    for (const splitBytes of [1, 4, 1000]) {
      const source = Sources.file({ path: dir, splitBytes });
      source.validate();
      const splits = source.createSplits(2) as FileSplit[];
      expect(new Set(splits.map((s) => s.id)).size).toBe(splits.length);
      expect(splits.map((s) => s.path).filter((p, i, all) => all.indexOf(p) === i)).toEqual(
        ['a.txt', 'b.txt', 'c-empty.txt', 'd.txt'].map((name) => join(dir, name)),
      );
      expect(readSplits(source).flat()).toEqual(want);
    }
    const emptyDir = join(root, 'empty-dir');
    mkdirSync(emptyDir);
    expect(Sources.file({ path: emptyDir }).createSplits(2)).toEqual([]);
  });

  it('closes its file at the end and on close(), and reopens lazily', () => {
    const source = Sources.file({ path, splitBytes: 64 });
    const split = source.createSplits(1)[1];
    const whole = drain(source.createReader(split, ctx));
    const reader = source.createReader(split, ctx);
    const out: string[] = [];
    reader.poll(1, (line) => out.push(line));
    reader.close();
    out.push(...drain(reader));
    expect(out).toEqual(whole);
    reader.close();
    expect(reader.poll(5, () => {})).toBe(0);
  });

  it('names the bad option in validation errors', () => {
    const bad = (options: unknown) => configError(() => Sources.file(options as { path: string }).validate());
    expect(bad({ path: '' }).option).toBe('Sources.file path');
    expect(bad({}).option).toBe('Sources.file path');
    expect(bad({ path: join(root, 'does-not-exist') }).option).toBe('Sources.file path');
    expect(bad({ path, splitBytes: 0 }).option).toBe('Sources.file splitBytes');
    expect(bad({ path, splitBytes: -3 }).option).toBe('Sources.file splitBytes');
    expect(bad({ path, splitBytes: 1.5 }).option).toBe('Sources.file splitBytes');
    expect(bad({ path, splitBytes: '10' }).option).toBe('Sources.file splitBytes');
    expect(bad({ path: join(root, 'does-not-exist') }).message).toMatch(/^invalid Sources\.file path: /);
    expect(() => Sources.file({ path, splitBytes: 1 }).validate()).not.toThrow();
  });
});

describe('Sources.file restored splits from storage (hostile input)', () => {
  const dir = join(root, 'configured');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'a.txt'), 'one\ntwo\n');
  const outside = writeTemp('secret\n');

  it('checkRestoredSplit accepts its own splits and refuses paths the job did not configure', () => {
    const source = Sources.file({ path: dir });
    for (const split of source.createSplits(2)) expect(source.checkRestoredSplit?.(split)).toBeUndefined();
    for (const path of [outside, `${dir}/../${outside.split('/').at(-1)}`, `${dir}/./a.txt`, 'configured/a.txt', join(dir, 'sub', 'a.txt')]) {
      expect(source.checkRestoredSplit?.({ id: 'x', path, start: 0, end: 4, offset: 0 }), path).toMatchObject({ field: '.path', value: path });
    }
    expect(source.checkRestoredSplit?.({ id: 'x', path: join(dir, 'a.txt'), start: 4, end: 2, offset: 4 })).toMatchObject({ field: '.end' });
    expect(source.checkRestoredSplit?.({ id: 'x', path: join(dir, 'a.txt'), start: 0, end: 8, offset: -1 })).toMatchObject({ field: '.offset' });
    const single = Sources.file({ path: outside });
    expect(single.checkRestoredSplit?.({ id: 'x', path: outside, start: 0, end: 7, offset: 0 })).toBeUndefined();
    expect(single.checkRestoredSplit?.({ id: 'x', path: join(dir, 'a.txt'), start: 0, end: 7, offset: 0 })).toMatchObject({ field: '.path' });
  });

  it('createReader never opens a path the job did not configure', () => {
    const source = Sources.file({ path: dir });
    expect(() => source.createReader({ id: 'x', path: outside, start: 0, end: 7, offset: 0 } as FileSplit, ctx)).toThrow(/refusing split 'x'\.path/);
  });
});

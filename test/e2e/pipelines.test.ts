// Whole jobs at parallelism 1, 2 and 4 give identical results, equal to a direct computation.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickFor, expectedWindows } from './jobs/event-time-windows.ts';
import { runToCompletion, sortedJson } from './helpers.ts';

const PARALLELISMS = [1, 2, 4] as const;

describe('word count over a file', () => {
  let dir: string;
  let input: string;
  const expected = new Map<string, number>();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'baton-wordcount-'));
    input = join(dir, 'input.txt');
    const vocabulary = ['stream', 'state', 'barrier', 'handover', 'checkpoint', "don't", 'key', 'group', 'window', 'flink'];
    const lines: string[] = [];
    let seed = 7;
    for (let i = 0; i < 3_000; i++) {
      const words: string[] = [];
      for (let w = (i % 9) + 1; w > 0; w--) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        const word = vocabulary[seed % vocabulary.length];
        words.push(i % 5 === 0 ? word.toUpperCase() : word);
        expected.set(word, (expected.get(word) ?? 0) + 1);
      }
      lines.push(words.join(i % 3 === 0 ? ', ' : ' '));
    }
    writeFileSync(input, `${lines.join('\n')}\n`);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const finals: Array<Record<string, number>> = [];
  for (const parallelism of PARALLELISMS) {
    it(`counts every word at parallelism ${parallelism}`, async () => {
      const output = join(dir, `out-p${parallelism}`);
      const result = await runToCompletion('word-count', { parallelism, params: { input, output, splitBytes: 2048 } });
      const final: Record<string, number> = {};
      for (const [word, count] of result.collected.collected as Array<[string, number]>) final[word] = Math.max(final[word] ?? 0, count);
      expect(final).toEqual(Object.fromEntries(expected));
      const totalWords = [...expected.values()].reduce((a, b) => a + b, 0);
      expect(result.operators.words.recordsOut).toBe(totalWords);
      expect(result.operators.counts.recordsIn).toBe(totalWords);
      expect(result.operators.lines.recordsOut).toBe(3_000);
      // The file sink committed one visible part file per subtask, with every update record.
      const visible = readdirSync(output).filter((f) => !f.startsWith('.'));
      expect(visible).toHaveLength(parallelism);
      const written = visible.flatMap((f) => readFileSync(join(output, f), 'utf8').split('\n').filter(Boolean));
      expect(written).toHaveLength(totalWords);
      expect(readdirSync(output).filter((f) => f.startsWith('.'))).toEqual([]);
      finals.push(final);
    });
  }

  it('gives identical results at every parallelism', () => {
    expect(finals).toHaveLength(PARALLELISMS.length);
    for (const final of finals) expect(final).toEqual(finals[0]);
  });
});

describe('keyed running sum over a sequence', () => {
  const to = 20_000;
  const expected: string[] = (() => {
    const sums = new Map<number, number>();
    const out: Array<[number, number]> = [];
    for (let n = 1; n <= to; n++) {
      const key = n % 13;
      const next = (sums.get(key) ?? 0) + n;
      sums.set(key, next);
      out.push([key, next]);
    }
    return sortedJson(out);
  })();

  for (const parallelism of PARALLELISMS) {
    it(`emits every running sum at parallelism ${parallelism}`, async () => {
      const result = await runToCompletion('running-sum', { parallelism, params: { to } });
      expect(sortedJson(result.collected.sums)).toEqual(expected);
      expect(result.operators['running-sum']).toMatchObject({ recordsIn: to, recordsOut: to, parallelism });
    });
  }
});

describe('event-time windows over out-of-order input', () => {
  const count = 30_000;
  const expected = expectedWindows(count);


  it('really is out of order', () => {
    let inversions = 0;
    for (let n = 1; n < 1000; n++) if (clickFor(n).at < clickFor(n - 1).at) inversions++;
    expect(inversions).toBeGreaterThan(100);
  });

  for (const parallelism of PARALLELISMS) {
    it(`aggregates every window exactly once at parallelism ${parallelism}`, async () => {
      const result = await runToCompletion('event-time-windows', { parallelism, params: { count } });
      expect(sortedJson(result.collected.windows)).toEqual(expected);
    });
  }
});

describe('timers per key', () => {
  const count = 5_000;
  const outputs: string[][] = [];
  for (const parallelism of PARALLELISMS) {
    it(`fires one event-time and one processing-time timer per key at parallelism ${parallelism}`, async () => {
      const result = await runToCompletion('timers', { parallelism, params: { count } });
      const fired = result.collected.fired as Array<{ sensor: string; domain: string; timer: number; seen: number }>;
      expect(fired).toHaveLength(100);
      for (let k = 0; k < 50; k++) {
        const sensor = `s${k}`;
        const eventTimer = fired.find((f) => f.sensor === sensor && f.domain === 'event-time');
        const processingTimer = fired.find((f) => f.sensor === sensor && f.domain === 'processing-time');
        expect(eventTimer?.timer).toBe(k * 10 + 1_000);
        // The watermark passed the timer only after every record at or before it was processed.
        const recordsUpToTimer = Math.floor((1_000 + k * 10 - k * 10) / 500) + 1;
        expect(eventTimer!.seen).toBeGreaterThanOrEqual(recordsUpToTimer);
        expect(processingTimer?.seen).toBe(count / 50);
      }
      outputs.push(sortedJson(fired));
    });
  }

  it('fires the same timers with the same state at every parallelism', () => {
    expect(outputs).toHaveLength(PARALLELISMS.length);
    for (const output of outputs) expect(output).toEqual(outputs[0]);
  });
});

describe('union, filter, MapState and ListState', () => {
  for (const parallelism of PARALLELISMS) {
    it(`keeps every non-gift order exactly once in some basket at parallelism ${parallelism}`, async () => {
      const result = await runToCompletion('union-state', { parallelism });
      const baskets = result.collected['full-baskets'] as Array<{ customer: string; items: Record<string, number>; history: string[] }>;
      expect(result.operators['no-gifts']).toMatchObject({ recordsIn: 800, recordsOut: 720 });
      // Shop orders of c0 and c5 are all gifts: 40 orders (10 baskets) for them, 80 (20) for the others.
      expect(baskets).toHaveLength(180);
      for (const basket of baskets) {
        expect(basket.history).toHaveLength(4);
        const counted = Object.values(basket.items).reduce((a, b) => a + b, 0);
        expect(counted).toBe(4);
        for (const item of basket.history) expect(basket.items[item]).toBeGreaterThan(0);
      }
      const perCustomer = new Map<string, number>();
      for (const b of baskets) perCustomer.set(b.customer, (perCustomer.get(b.customer) ?? 0) + 1);
      for (let c = 0; c < 10; c++) expect(perCustomer.get(`c${c}`)).toBe(c % 5 === 0 ? 10 : 20);
    });
  }
});

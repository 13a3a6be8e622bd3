// AsyncResultQueue: the order in which asyncMap's results and watermarks may leave (pure logic).
import { describe, expect, it } from 'vitest';
import { type AsyncEmission, AsyncResultQueue } from '../../../src/runtime/operators/async-queue.ts';
import { seededRandom } from '../../support/seeded-random.ts';

/** What `poll` emits, as short strings: `r:<value>@<ts>` and `w:<watermark>`. */
function drain<R>(q: AsyncResultQueue<unknown, R>): string[] {
  const out: string[] = [];
  q.poll((e: AsyncEmission<R>) => out.push(e.kind === 'record' ? `r:${String(e.value)}@${e.timestamp}` : `w:${e.watermark}`));
  return out;
}

describe('ordered', () => {
  it('emits results in input order: a completed result waits for every earlier one', () => {
    const q = new AsyncResultQueue<number, string>(true);
    const a = q.add(1, 10);
    const b = q.add(2, 20);
    const c = q.add(3, 30);
    q.complete(c, ['c']);
    q.complete(b, ['b']);
    expect(drain(q)).toEqual([]);
    expect(q.recordCount).toBe(3);
    q.complete(a, ['a']);
    expect(drain(q)).toEqual(['r:a@10', 'r:b@20', 'r:c@30']);
    expect(q.recordCount).toBe(0);
    expect(q.isEmpty).toBe(true);
  });

  it('a watermark leaves after the records before it and before those after it', () => {
    const q = new AsyncResultQueue<number, string>(true);
    const a = q.add(1, 10);
    q.addWatermark(15);
    const b = q.add(2, 20);
    q.complete(b, ['b']);
    expect(drain(q)).toEqual([]);
    q.complete(a, ['a']);
    expect(drain(q)).toEqual(['r:a@10', 'w:15', 'r:b@20']);
  });

  it('a watermark with nothing before it leaves at once', () => {
    const q = new AsyncResultQueue<number, string>(true);
    q.addWatermark(5);
    expect(drain(q)).toEqual(['w:5']);
    expect(q.isEmpty).toBe(true);
  });
});

describe('unordered', () => {
  it('emits results as they complete', () => {
    const q = new AsyncResultQueue<number, string>(false);
    const a = q.add(1, 10);
    const b = q.add(2, 20);
    q.complete(b, ['b']);
    expect(drain(q)).toEqual(['r:b@20']);
    expect(q.recordCount).toBe(1);
    q.complete(a, ['a']);
    expect(drain(q)).toEqual(['r:a@10']);
    expect(q.isEmpty).toBe(true);
  });

  it('never across a watermark: later records wait for it, it waits for earlier records', () => {
    const q = new AsyncResultQueue<number, string>(false);
    const a = q.add(1, 10);
    const b = q.add(2, 11);
    q.addWatermark(15);
    const c = q.add(3, 20);
    q.addWatermark(25);
    const d = q.add(4, 30);
    q.complete(d, ['d']);
    q.complete(c, ['c']);
    expect(drain(q)).toEqual([]);
    q.complete(b, ['b']);
    expect(drain(q)).toEqual(['r:b@11']);
    q.complete(a, ['a']);
    // The first segment is done: its watermark, then the second (completion order), its watermark, then d.
    expect(drain(q)).toEqual(['r:a@10', 'w:15', 'r:c@20', 'w:25', 'r:d@30']);
    expect(q.isEmpty).toBe(true);
  });

  it('consecutive watermarks each leave in order', () => {
    const q = new AsyncResultQueue<number, string>(false);
    const a = q.add(1, 10);
    q.addWatermark(11);
    q.addWatermark(12);
    expect(drain(q)).toEqual([]);
    q.complete(a, ['a']);
    expect(drain(q)).toEqual(['r:a@10', 'w:11', 'w:12']);
  });

  it('an emptied open segment is dropped; the next record opens a new one', () => {
    const q = new AsyncResultQueue<number, string>(false);
    const a = q.add(1, 10);
    q.complete(a, ['a']);
    expect(drain(q)).toEqual(['r:a@10']);
    expect(q.isEmpty).toBe(true);
    const b = q.add(2, 20);
    q.addWatermark(25);
    q.complete(b, ['b']);
    expect(drain(q)).toEqual(['r:b@20', 'w:25']);
  });
});

describe('both modes', () => {
  for (const ordered of [true, false]) {
    it(`${ordered ? 'ordered' : 'unordered'}: a result of no records frees its slot and emits nothing; a second completion is ignored`, () => {
      const q = new AsyncResultQueue<number, string>(ordered);
      const a = q.add(1, 10);
      q.complete(a, []);
      q.complete(a, ['late']);
      expect(drain(q)).toEqual([]);
      expect(q.recordCount).toBe(0);
      expect(q.isEmpty).toBe(true);
    });

    it(`${ordered ? 'ordered' : 'unordered'}: elements() lists every record not emitted (done or not) and watermark, in input order`, () => {
      const q = new AsyncResultQueue<string, string>(ordered);
      const a = q.add('a', 1);
      const b = q.add('b', 2);
      q.addWatermark(3);
      const c = q.add('c', 4);
      q.complete(b, ['B']);
      q.complete(c, ['C']);
      drain(q);
      const expected = ordered
        ? [
            { kind: 'record', value: 'a', timestamp: 1 },
            { kind: 'record', value: 'b', timestamp: 2 },
            { kind: 'watermark', watermark: 3 },
            { kind: 'record', value: 'c', timestamp: 4 },
          ]
        : [
            // b left already (its segment is the first); c is done but waits behind the watermark.
            { kind: 'record', value: 'a', timestamp: 1 },
            { kind: 'watermark', watermark: 3 },
            { kind: 'record', value: 'c', timestamp: 4 },
          ];
      expect(q.elements()).toEqual(expected);
      q.complete(a, ['A']);
      drain(q);
      expect(q.elements()).toEqual([]);
    });

    it(`${ordered ? 'ordered' : 'unordered'}: random completions keep the contract (seeded)`, () => {
      const random = seededRandom(ordered ? 7 : 8);
      const q = new AsyncResultQueue<number, number>(ordered);
      const pending: Array<{ n: number; entry: ReturnType<typeof q.add> }> = [];
      const emitted: AsyncEmission<number>[] = [];
      const watermarksAt = new Map<number, number>();
      let next = 0;
      for (let step = 0; step < 5_000; step++) {
        const roll = random();
        if (roll < 0.45) {
          pending.push({ n: next, entry: q.add(next, next) });
          next++;
        } else if (roll < 0.5) {
          // A watermark below every later record's timestamp, above every earlier one's (one per gap).
          if (watermarksAt.has(next - 0.5)) continue;
          watermarksAt.set(next - 0.5, next);
          q.addWatermark(next - 0.5);
        } else if (pending.length > 0) {
          const [p] = pending.splice(Math.floor(random() * pending.length), 1);
          q.complete(p.entry, [p.n]);
        }
        q.poll((e) => emitted.push(e));
      }
      for (const p of pending) q.complete(p.entry, [p.n]);
      q.poll((e) => emitted.push(e));
      expect(q.isEmpty).toBe(true);
      const records = emitted.flatMap((e) => (e.kind === 'record' ? [e.value] : []));
      expect(records.slice().sort((x, y) => x - y)).toEqual(Array.from({ length: next }, (_, i) => i));
      if (ordered) expect(records).toEqual(Array.from({ length: next }, (_, i) => i));
      // No record crosses a watermark either way: before it exactly the records with smaller numbers.
      let seen = 0;
      for (const e of emitted) {
        if (e.kind === 'record') {
          seen++;
          continue;
        }
        expect(seen).toBe(watermarksAt.get(e.watermark));
      }
      expect(emitted.filter((e) => e.kind === 'watermark').map((e) => (e as { watermark: number }).watermark)).toEqual([...watermarksAt.keys()]);
    });
  }

  it('ordered: a long queue is compacted as it drains and keeps its order', () => {
    const q = new AsyncResultQueue<number, number>(true);
    const entries = Array.from({ length: 3_000 }, (_, i) => q.add(i, i));
    const out: number[] = [];
    // Complete the first 2 500 (drained, compacting past 1024), then the rest.
    for (const e of entries.slice(0, 2_500)) q.complete(e, [e.value]);
    q.poll((e) => e.kind === 'record' && out.push(e.value));
    expect(q.elements()).toHaveLength(500);
    for (const e of entries.slice(2_500).reverse()) q.complete(e, [e.value]);
    q.poll((e) => e.kind === 'record' && out.push(e.value));
    expect(out).toEqual(entries.map((e) => e.value));
  });
});

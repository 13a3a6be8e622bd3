// Event/processing-time timers of one subtask: a binary min-heap with lazy deletion, deduplicated per (key, timestamp).
import type { KeyValue } from '../types.ts';

export interface Timer {
  key: KeyValue;
  timestamp: number;
}

interface HeapEntry {
  readonly key: KeyValue;
  readonly timestamp: number;
  /** Insertion sequence: breaks timestamp ties so firing order is deterministic. */
  readonly seq: number;
  /** Cleared by delete(); the entry stays in the heap until it surfaces and is discarded. */
  live: boolean;
}

function before(a: HeapEntry, b: HeapEntry): boolean {
  return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.seq < b.seq);
}

function byFiringOrder(a: HeapEntry, b: HeapEntry): number {
  return a.timestamp - b.timestamp || a.seq - b.seq;
}

export class TimerQueue {
  private heap: HeapEntry[] = [];
  /**
   * Live timers by timestamp, then key. Map keys compare with SameValueZero, so 1 and "1" (and
   * 1 and 1n) stay distinct while 0 and -0 coincide, matching key equality elsewhere in state.
   * Timestamp first because many keys usually share one timestamp (e.g. a window end).
   */
  private readonly live = new Map<number, Map<KeyValue, HeapEntry>>();
  private liveCount = 0;
  private nextSeq = 0;

  get size(): number {
    return this.liveCount;
  }

  /** Adds a timer; a no-op if the same key already has a live timer at this timestamp. */
  register(key: KeyValue, timestamp: number): void {
    if (typeof timestamp !== 'number' || Number.isNaN(timestamp)) {
      throw new TypeError(`timer timestamp must be a number, got ${String(timestamp)}`);
    }
    let byKey = this.live.get(timestamp);
    if (byKey === undefined) {
      byKey = new Map();
      this.live.set(timestamp, byKey);
    } else if (byKey.has(key)) {
      return;
    }
    const entry: HeapEntry = { key, timestamp, seq: this.nextSeq++, live: true };
    byKey.set(key, entry);
    this.liveCount++;
    this.push(entry);
  }

  /** Removes the timer of `key` at `timestamp`, if any. */
  delete(key: KeyValue, timestamp: number): void {
    const byKey = this.live.get(timestamp);
    const entry = byKey?.get(key);
    if (byKey === undefined || entry === undefined) return;
    this.unlink(byKey, entry);
    // Without compaction, a workload that keeps re-registering and deleting would grow the heap unboundedly.
    if (this.heap.length > 64 && this.heap.length > 2 * this.liveCount) this.compact();
  }

  /** Timestamp of the earliest live timer. */
  peekTimestamp(): number | undefined {
    return this.top()?.timestamp;
  }

  /** Removes and returns the earliest live timer if its timestamp is at most `upTo`. */
  pollDue(upTo: number): Timer | undefined {
    const entry = this.top();
    // Written as !(<=) so that a NaN bound fires nothing.
    if (entry === undefined || !(entry.timestamp <= upTo)) return undefined;
    this.pop();
    // top() only returns live entries, so the timestamp map is present.
    this.unlink(this.live.get(entry.timestamp)!, entry);
    return { key: entry.key, timestamp: entry.timestamp };
  }

  /** Live timers in firing order. */
  entries(): Timer[] {
    const all: HeapEntry[] = [];
    for (const byKey of this.live.values()) for (const e of byKey.values()) all.push(e);
    all.sort(byFiringOrder);
    return all.map((e) => ({ key: e.key, timestamp: e.timestamp }));
  }

  private unlink(byKey: Map<KeyValue, HeapEntry>, entry: HeapEntry): void {
    entry.live = false;
    byKey.delete(entry.key);
    if (byKey.size === 0) this.live.delete(entry.timestamp);
    this.liveCount--;
  }

  /** The earliest live entry, discarding deleted ones that reached the top. */
  private top(): HeapEntry | undefined {
    const heap = this.heap;
    while (heap.length > 0 && !heap[0].live) this.pop();
    return heap[0];
  }

  private push(entry: HeapEntry): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    this.siftDown(0, last);
  }

  private siftDown(start: number, entry: HeapEntry): void {
    const heap = this.heap;
    const n = heap.length;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(heap[child + 1], heap[child])) child++;
      if (!before(heap[child], entry)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = entry;
  }

  private compact(): void {
    const heap = this.heap.filter((e) => e.live);
    this.heap = heap;
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i, heap[i]);
  }
}

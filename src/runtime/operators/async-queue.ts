// The queue of asyncMap: which results may leave, and in what order (Flink's ordered and unordered StreamElementQueue).

/** An element as it entered asyncMap: a record (value, event time) or a watermark. What a checkpoint stores. */
export type AsyncElement<I> =
  | { readonly kind: 'record'; readonly value: I; readonly timestamp: number }
  | { readonly kind: 'watermark'; readonly watermark: number };

/** What may leave asyncMap now, in order: a result record (with its input's event time) or a watermark. */
export type AsyncEmission<R> = { readonly kind: 'record'; readonly value: R; readonly timestamp: number } | { readonly kind: 'watermark'; readonly watermark: number };

/** One record in the queue: its request is in flight until `complete`. */
export interface AsyncQueueEntry<I, R> {
  readonly value: I;
  readonly timestamp: number;
  /** The request completed (or timed out): `results` are set. */
  readonly done: boolean;
  /** @internal */
  results: readonly R[] | undefined;
  /** @internal Unordered: the watermark-delimited segment the record belongs to. */
  segment: Segment<I, R> | undefined;
}

/** Unordered: the records between two watermarks, and the watermark that closes them. */
interface Segment<I, R> {
  /** Records not emitted yet, in input order. */
  readonly records: Set<AsyncQueueEntry<I, R>>;
  /** Completed records not emitted yet, in completion order. */
  readonly ready: AsyncQueueEntry<I, R>[];
  /** The watermark after these records; undefined while the segment is the open tail. */
  watermark: number | undefined;
}

type OrderedItem<I, R> = AsyncQueueEntry<I, R> | { readonly watermark: number };

/**
 * The results of asyncMap's requests in the order they may leave. Ordered: in input order, a
 * result waits for every earlier one. Unordered: as they complete, but never across a watermark:
 * records before a watermark leave before it, records after it leave after it (the watermark
 * waits for the records before it). A result may be zero records (a timeout fallback that drops
 * the input) or one. Pure logic: the operator issues requests, this only orders what comes back.
 *
 * @example
 * const q = new AsyncResultQueue<number, string>(true);
 * const a = q.add(1, 10);
 * const b = q.add(2, 20);
 * q.complete(b, ['two']);
 * q.poll((e) => out.push(e)); // nothing: ordered, b waits for a
 * q.complete(a, ['one']);
 * q.poll((e) => out.push(e)); // 'one' then 'two'
 */
export class AsyncResultQueue<I, R> {
  /** Ordered: every record and watermark not emitted, in input order, from `head`. */
  private items: OrderedItem<I, R>[] = [];
  private head = 0;
  /** Unordered: segments not emitted, oldest first. */
  private readonly segments: Segment<I, R>[] = [];
  private records = 0;

  constructor(readonly ordered: boolean) {}

  /** Records not emitted yet, in flight or completed and waiting: what the capacity counts. */
  get recordCount(): number {
    return this.records;
  }

  /** Nothing waits to be emitted (no record, no watermark). */
  get isEmpty(): boolean {
    return this.ordered ? this.head === this.items.length : this.segments.length === 0;
  }

  /** A record whose request was just issued. */
  add(value: I, timestamp: number): AsyncQueueEntry<I, R> {
    const entry: AsyncQueueEntry<I, R> = { value, timestamp, done: false, results: undefined, segment: undefined };
    this.records++;
    if (this.ordered) {
      this.items.push(entry);
      return entry;
    }
    let tail = this.segments[this.segments.length - 1];
    if (tail === undefined || tail.watermark !== undefined) {
      tail = { records: new Set(), ready: [], watermark: undefined };
      this.segments.push(tail);
    }
    tail.records.add(entry);
    entry.segment = tail;
    return entry;
  }

  /** A watermark: it leaves once every record before it has (at once if there is none). */
  addWatermark(watermark: number): void {
    if (this.ordered) {
      this.items.push({ watermark });
      return;
    }
    const tail = this.segments[this.segments.length - 1];
    if (tail !== undefined && tail.watermark === undefined) tail.watermark = watermark;
    else this.segments.push({ records: new Set(), ready: [], watermark });
  }

  /** The request of `entry` completed with `results` (usually one). A second completion is ignored. */
  complete(entry: AsyncQueueEntry<I, R>, results: readonly R[]): void {
    if (entry.done) return;
    (entry as { done: boolean }).done = true;
    entry.results = results;
    entry.segment?.ready.push(entry);
  }

  /** Emits everything that may leave now, in order; returns how many records left the queue. */
  poll(emit: (emission: AsyncEmission<R>) => void): number {
    const before = this.records;
    if (this.ordered) this.pollOrdered(emit);
    else this.pollUnordered(emit);
    return before - this.records;
  }

  /** Every record and watermark not emitted yet, in input order (completed records too: a restore issues them again). */
  elements(): AsyncElement<I>[] {
    const out: AsyncElement<I>[] = [];
    if (this.ordered) {
      for (let i = this.head; i < this.items.length; i++) {
        const item = this.items[i];
        out.push('watermark' in item ? { kind: 'watermark', watermark: item.watermark } : { kind: 'record', value: item.value, timestamp: item.timestamp });
      }
      return out;
    }
    for (const segment of this.segments) {
      for (const e of segment.records) out.push({ kind: 'record', value: e.value, timestamp: e.timestamp });
      if (segment.watermark !== undefined) out.push({ kind: 'watermark', watermark: segment.watermark });
    }
    return out;
  }

  private pollOrdered(emit: (emission: AsyncEmission<R>) => void): void {
    const items = this.items;
    while (this.head < items.length) {
      const item = items[this.head];
      if ('watermark' in item) {
        this.head++;
        emit({ kind: 'watermark', watermark: item.watermark });
        continue;
      }
      if (!item.done) break;
      this.head++;
      this.records--;
      for (const value of item.results!) emit({ kind: 'record', value, timestamp: item.timestamp });
    }
    // Emitted items are dropped in bulk, not shifted one by one.
    if (this.head === items.length) {
      items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    }
  }

  private pollUnordered(emit: (emission: AsyncEmission<R>) => void): void {
    while (this.segments.length > 0) {
      const first = this.segments[0];
      // Only the oldest segment may emit: a later one's records must not overtake the watermark before them.
      for (let i = 0; i < first.ready.length; i++) {
        const entry = first.ready[i];
        first.records.delete(entry);
        this.records--;
        for (const value of entry.results!) emit({ kind: 'record', value, timestamp: entry.timestamp });
      }
      first.ready.length = 0;
      if (first.records.size > 0) return;
      this.segments.shift();
      // An emptied open tail is dropped: the next record opens a new one.
      if (first.watermark === undefined) return;
      emit({ kind: 'watermark', watermark: first.watermark });
    }
  }
}

// Reads one Redis stream (one split): fetches ahead into a buffer asynchronously, emits only inside poll,
// and keeps the last entry ID emitted as the split's position.
import type { Redis } from 'ioredis';
import { NO_TIMESTAMP, type SourceReader, type SourceSplit } from '../connector-api.ts';
import { RedisStreamsEventTimeError, RedisStreamsReadError } from './errors.ts';
import { compareStreamIds, MIN_STREAM_ID, streamIdMs } from './stream-id.ts';

/** One stream entry, as the source emits it. */
export interface RedisStreamEntry {
  /** The stream key it was read from. */
  readonly stream: string;
  /** Its entry ID, `<ms>-<seq>`. */
  readonly id: string;
  /** Its fields (a field given twice in one entry: the last value). */
  readonly fields: Record<string, string>;
}

/**
 * One stream of the source. `offset` is the ID of the last entry read (entries after it come
 * next), or `'$'` while a `'latest'` start is not resolved yet (nothing was read then); `end` is,
 * in bounded mode, the last ID to read once the reader has fixed it.
 */
export interface RedisStreamSplit extends SourceSplit {
  readonly stream: string;
  readonly offset: string;
  readonly end?: string;
}

/** Where the reader resolves `'latest'`: the stream's last entry when the reader first reads. */
export const LATEST = '$';

export interface RedisStreamReaderSettings {
  readonly url: string;
  /** `url` with the password redacted, for errors. */
  readonly shownUrl: string;
  readonly bounded: boolean;
  readonly eventTime: 'entry-id' | { readonly field: string } | undefined;
  readonly maxOutOfOrdernessMs: number;
  readonly idleMs: number | undefined;
  readonly batch: number;
  readonly blockMs: number;
  /** CLIENT SETNAME, so an operator can tell the job's connections apart (`CLIENT LIST`). */
  readonly connectionName: string;
}

type RawEntry = readonly [id: string, fields: readonly string[]];

/** Entries of an XRANGE reply (or of one stream of an XREAD reply), with anything malformed dropped. */
function parseEntries(reply: unknown): RawEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: RawEntry[] = [];
  for (const item of reply) {
    if (!Array.isArray(item) || typeof item[0] !== 'string') continue;
    entries.push([item[0], Array.isArray(item[1]) ? (item[1] as string[]) : []]);
  }
  return entries;
}

/** An XREAD reply for one stream: `null` (nothing) or `[[key, entries]]`. */
function parseXread(reply: unknown): RawEntry[] {
  if (!Array.isArray(reply) || reply.length === 0 || !Array.isArray(reply[0])) return [];
  return parseEntries((reply[0] as unknown[])[1]);
}

function toFields(flat: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const key = String(flat[i]);
    // A field named __proto__ (entries are anyone's input) stays a plain field, not a prototype.
    if (key === '__proto__') Object.defineProperty(fields, key, { value: String(flat[i + 1]), enumerable: true, writable: true, configurable: true });
    else fields[key] = String(flat[i + 1]);
  }
  return fields;
}

const NUMERIC = /^-?\d+(\.\d+)?$/;

export class RedisStreamReader implements SourceReader<RedisStreamEntry> {
  private readonly splitId: string;
  private readonly stream: string;
  /** ID of the last entry emitted: the split's position. */
  private position: string;
  /** Bounded: the last ID to read (undefined until fixed). */
  private endId: string | undefined;
  /** ID of the last entry fetched into the buffer: the next fetch reads after it. */
  private readUpTo: string;
  private buffer: RawEntry[] = [];
  private index = 0;
  private fetching: Promise<void> | undefined;
  /** Resolves the poll that waits, when the task needs its thread back (wakeUp). */
  private waiter: ((emitted: number) => void) | undefined;
  private failure: Error | undefined;
  /** Bounded: nothing is left up to endId beyond the buffer. */
  private exhausted = false;
  private closed = false;
  private client: Redis | undefined;
  private lastEntryAt = performance.now();
  /** Redis's clock when the last read that found nothing was issued: entries after it have later IDs. */
  private quietSince: number | undefined;
  private watermark = Number.NEGATIVE_INFINITY;
  private maxTimestamp = Number.NEGATIVE_INFINITY;

  constructor(
    split: RedisStreamSplit,
    private readonly settings: RedisStreamReaderSettings,
  ) {
    this.splitId = split.id;
    this.stream = split.stream;
    this.position = split.offset;
    this.readUpTo = split.offset;
    this.endId = settings.bounded ? split.end : undefined;
  }

  get finished(): boolean {
    return this.settings.bounded && this.exhausted && this.index >= this.buffer.length && this.fetching === undefined;
  }

  poll(max: number, emit: (value: RedisStreamEntry, timestamp: number) => void, emitWatermark?: (watermark: number) => void): number | Promise<number> {
    if (this.failure) throw this.failure;
    if (this.closed || max <= 0) return 0;
    let emitted = 0;
    const buffer = this.buffer;
    while (emitted < max && this.index < buffer.length) {
      const [id, flat] = buffer[this.index];
      if (this.endId !== undefined && compareStreamIds(id, this.endId) > 0) {
        this.exhausted = true;
        this.index = buffer.length;
        break;
      }
      this.index++;
      const fields = toFields(flat);
      const timestamp = this.timestampOf(id, fields);
      this.position = id;
      emitted++;
      emit({ stream: this.stream, id, fields }, timestamp);
    }
    if (this.index >= this.buffer.length && this.buffer.length > 0) {
      this.buffer = [];
      this.index = 0;
    }
    if (emitted > 0) {
      this.lastEntryAt = performance.now();
      this.quietSince = undefined;
      if (emitWatermark) this.advanceWatermark(emitWatermark);
      // Fetch the next entries while the runtime processes these (no BLOCK: data is likely there).
      if (this.buffer.length === 0 && this.fetching === undefined && !this.exhausted) this.fetching = this.fetch(false);
      return emitted;
    }
    if (this.finished) return 0;
    if (emitWatermark) this.idleWatermark(emitWatermark);
    if (this.fetching === undefined) this.fetching = this.fetch(!this.settings.bounded);
    const fetching = this.fetching;
    return new Promise<number>((resolve) => {
      this.waiter = resolve;
      void fetching.then(() => {
        if (this.waiter !== resolve) return;
        this.waiter = undefined;
        resolve(0);
      });
    });
  }

  /** The task needs its thread (a checkpoint barrier): the waiting poll resolves now; a read in flight lands in the buffer. */
  wakeUp(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(0);
  }

  currentSplit(): RedisStreamSplit {
    return this.endId === undefined ? { id: this.splitId, stream: this.stream, offset: this.position } : { id: this.splitId, stream: this.stream, offset: this.position, end: this.endId };
  }

  close(): void {
    this.closed = true;
    this.wakeUp();
    // Ends a blocking read at once; its rejection is ignored (closed).
    this.client?.disconnect();
    this.client = undefined;
  }

  private timestampOf(id: string, fields: Record<string, string>): number {
    const eventTime = this.settings.eventTime;
    if (eventTime === undefined) return NO_TIMESTAMP;
    let timestamp: number;
    if (eventTime === 'entry-id') {
      timestamp = streamIdMs(id);
      if (Number.isNaN(timestamp)) throw new RedisStreamsEventTimeError(this.stream, id, 'the ID time is beyond 2^53 ms');
    } else {
      const value = Object.hasOwn(fields, eventTime.field) ? fields[eventTime.field] : undefined;
      if (value === undefined) throw new RedisStreamsEventTimeError(this.stream, id, `field '${eventTime.field}' is missing`);
      timestamp = NUMERIC.test(value) ? Number(value) : Date.parse(value);
      if (!Number.isFinite(timestamp)) throw new RedisStreamsEventTimeError(this.stream, id, `field '${eventTime.field}' holds ${JSON.stringify(value.slice(0, 40))}, neither epoch ms nor a date`);
    }
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    return timestamp;
  }

  /**
   * Entry-ID time: every later entry has a greater ID, so its time is at least the last one's (ties
   * allowed: the watermark stays 1 ms below). Field time: the highest seen, less the allowed disorder.
   */
  private advanceWatermark(emitWatermark: (watermark: number) => void): void {
    const candidate = this.settings.eventTime === 'entry-id' ? streamIdMs(this.position) - 1 : this.maxTimestamp - this.settings.maxOutOfOrdernessMs - 1;
    if (candidate > this.watermark) {
      this.watermark = candidate;
      emitWatermark(candidate);
    }
  }

  /**
   * Idle for idleMs: nothing arrived since a read that found nothing, issued after Redis's clock read
   * `quietSince`; an entry added later gets an ID (Redis-assigned) at or after that time.
   */
  private idleWatermark(emitWatermark: (watermark: number) => void): void {
    const { idleMs } = this.settings;
    if (idleMs === undefined || this.quietSince === undefined || performance.now() - this.lastEntryAt < idleMs) return;
    const candidate = this.quietSince - this.settings.maxOutOfOrdernessMs - 1;
    if (candidate > this.watermark) {
      this.watermark = candidate;
      emitWatermark(candidate);
    }
  }

  private async connect(): Promise<Redis> {
    if (this.client) return this.client;
    // Loaded on first use: worker threads of jobs without this source never load the client.
    const { Redis: Client } = await import('ioredis');
    if (this.closed) throw new RedisStreamsReadError(this.stream, this.settings.shownUrl, 'the reader was closed');
    // RESP2: the reply shapes parsed here; errors reach the commands (the listener only keeps
    // ioredis from reporting them a second time as unhandled).
    const client = new Client(this.settings.url, { lazyConnect: true, protocol: 2, connectionName: this.settings.connectionName });
    client.on('error', () => undefined);
    this.client = client;
    await client.connect();
    return client;
  }

  /** The stream's last entry ID, or 0-0 for an empty or missing stream. */
  private async lastId(client: Redis): Promise<string> {
    const last = parseEntries(await client.call('XREVRANGE', this.stream, '+', '-', 'COUNT', 1));
    return last.length > 0 ? last[0][0] : MIN_STREAM_ID;
  }

  private async fetch(block: boolean): Promise<void> {
    const { batch, blockMs, bounded, idleMs } = this.settings;
    try {
      const client = await this.connect();
      if (bounded && this.endId === undefined) this.endId = await this.lastId(client);
      if (this.position === LATEST) {
        // Nothing was emitted from this split yet, so the position may move to the stream's end.
        this.position = this.readUpTo = bounded ? this.endId! : await this.lastId(client);
      }
      let entries: RawEntry[];
      if (bounded) {
        if (compareStreamIds(this.readUpTo, this.endId!) >= 0) {
          this.exhausted = true;
          return;
        }
        entries = parseEntries(await client.call('XRANGE', this.stream, `(${this.readUpTo}`, this.endId!, 'COUNT', batch));
        if (entries.length < batch) this.exhausted = true;
      } else {
        // TIME first, on the same connection: Redis runs it before the read, so an entry the read
        // does not see is added after that time (see idleWatermark).
        const time = idleMs === undefined ? undefined : client.call('TIME');
        const args: Array<string | number> = ['COUNT', batch];
        if (block) args.push('BLOCK', blockMs);
        args.push('STREAMS', this.stream, this.readUpTo);
        entries = parseXread(await client.call('XREAD', ...args));
        const now = time === undefined ? undefined : ((await time) as unknown[]);
        if (entries.length === 0 && now !== undefined) this.quietSince = Number(now[0]) * 1000 + Math.floor(Number(now[1]) / 1000);
      }
      if (this.closed || entries.length === 0) return;
      this.buffer = this.index < this.buffer.length ? [...this.buffer.slice(this.index), ...entries] : entries;
      this.index = 0;
      this.readUpTo = entries[entries.length - 1][0];
    } catch (error) {
      if (!this.closed) this.failure = new RedisStreamsReadError(this.stream, this.settings.shownUrl, error);
    } finally {
      this.fetching = undefined;
    }
  }
}

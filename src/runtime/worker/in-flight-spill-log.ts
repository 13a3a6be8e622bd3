// Continuous spilling of one subtask's input: batches appended as they arrive, written as immutable segments.
import { randomBytes } from 'node:crypto';
import { Packr, Unpackr } from 'msgpackr';
import { frameBody, SPILL_SEGMENT_MAGIC, unframeBody } from '../../checkpoint/checked-frame.ts';
import { CorruptCheckpointError } from '../../checkpoint/index.ts';
import { sharedChunkKey, spillSegmentPrefix } from '../../checkpoint/index.ts';
import { StorageIoError } from '../../checkpoint/storage/index.ts';
import type { CheckpointStorage } from '../../checkpoint/storage/types.ts';
import { CODEC_OPTIONS, type WireMessage } from '../channels/batch-codec.ts';
import type { RecordedBatch } from '../channels/input-gate.ts';
import type { ChannelMessage } from '../channels/types.ts';
import type { InFlightLog } from '../task/in-flight-log.ts';

/** Segment and flush settings of continuous spilling. */
export interface SpillSettings {
  /** A segment is written once its batches add up to this many bytes. */
  readonly segmentBytes: number;
  /** A segment holding anything is written at the latest this long after its first batch. */
  readonly flushMs: number;
}

/** One batch in a segment: channel, arrival number, how `b` is encoded (wire or channel-state codec), records, times. */
interface SegmentEntry {
  readonly c: number;
  readonly s: number;
  readonly w: 0 | 1;
  readonly b: Uint8Array;
  readonly t: Uint8Array | null;
}

interface Segment {
  readonly id: string;
  readonly entries: SegmentEntry[];
  bytes: number;
  lastSeq: number;
  written?: Promise<void>;
  failed?: unknown;
  referenced: boolean;
}

/** Where a spilled batch lives: segment (a shared chunk id) and position in it. */
export interface SpilledBatchRef {
  readonly segment: string;
  readonly index: number;
}

// Records keep Maps, Sets, bigints and dates (same-thread channels hand over live objects); with
// useRecords off, msgpackr would decode Maps as plain objects.
const recordPackr = new Packr({ useRecords: true, moreTypes: true, useBigIntExtension: true });
// Port channels already carry msgpackr bytes: those are stored as they came, decoded like the wire.
const wireUnpackr = new Unpackr(CODEC_OPTIONS);

/**
 * The in-flight log of one subtask. Segments are immutable shared chunks (`shared/spill-...`):
 * a checkpoint that refers to one lists it, so retention deletes it with the last checkpoint
 * using it; segments no checkpoint ever referred to are deleted here once no checkpoint can.
 */
export class InFlightSpillLog implements InFlightLog {
  private readonly prefix: string;
  private open: Segment | undefined;
  private segmentNo = 0;
  private readonly segments: Segment[] = [];
  private readonly located = new Map<number, SpilledBatchRef>();
  private readonly holds = new Map<number, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writtenBytes = 0;
  private closed = false;

  constructor(
    private readonly storage: CheckpointStorage,
    name: string,
    private readonly settings: SpillSettings,
  ) {
    this.prefix = spillSegmentPrefix(name, randomBytes(4).toString('hex'));
  }

  append(channel: number, seq: number, message: ChannelMessage | undefined, wire: WireMessage | undefined): void {
    if (this.closed) return;
    let entry: SegmentEntry;
    if (wire !== undefined) {
      if (wire.b === undefined) return;
      entry = { c: channel, s: seq, w: 1, b: new Uint8Array(wire.b), t: wire.t ? new Uint8Array(wire.t) : null };
    } else {
      if (!message || message.values === null || message.values.length === 0) return;
      const ts = message.timestamps;
      const times = ts === null ? null : ts instanceof Float64Array ? ts : Float64Array.from(ts);
      entry = { c: channel, s: seq, w: 0, b: recordPackr.pack(message.values), t: times ? new Uint8Array(times.buffer, times.byteOffset, times.byteLength) : null };
    }
    if (this.open === undefined) this.open = this.newSegment();
    const segment = this.open;
    this.located.set(seq, { segment: segment.id, index: segment.entries.length });
    segment.entries.push(entry);
    segment.bytes += entry.b.byteLength + (entry.t?.byteLength ?? 0);
    segment.lastSeq = seq;
    if (segment.bytes >= this.settings.segmentBytes) this.seal();
    else if (this.timer === undefined) this.timer = setTimeout(() => this.seal(), this.settings.flushMs);
  }

  hold(checkpointId: number, floorSeq: number): void {
    this.holds.set(checkpointId, floorSeq);
  }

  /** Writes the open segment; settles once every segment written so far is stored (or one failed). */
  async flush(): Promise<void> {
    this.seal();
    await Promise.all(this.segments.map((s) => s.written));
  }

  /**
   * Where batch `seq` is stored; undefined for a message without records. Throws when its
   * segment could not be written (the checkpoint referring to it fails, later ones need not).
   */
  locate(seq: number): SpilledBatchRef | undefined {
    const ref = this.located.get(seq);
    if (ref === undefined) return undefined;
    const segment = this.segments.find((s) => s.id === ref.segment);
    if (segment?.failed !== undefined) {
      const detail = `spilled segment ${ref.segment} could not be written: ${String((segment.failed as Error).message ?? segment.failed)}`;
      throw new StorageIoError(this.storage.uri, sharedChunkKey(ref.segment), 'put', segment.failed, detail);
    }
    return ref;
  }

  /** Checkpoint n lists these segments: from now on retention, not this log, deletes them. */
  markReferenced(segmentIds: Iterable<string>): void {
    const ids = new Set(segmentIds);
    for (const s of this.segments) if (ids.has(s.id)) s.referenced = true;
  }

  /**
   * Checkpoint n is written (or failed): drop its hold, then delete the segments no checkpoint
   * referred to and none can any more (every batch in them arrived before the lowest floor).
   */
  async release(checkpointId: number, floorSeq: number): Promise<void> {
    this.holds.delete(checkpointId);
    let floor = floorSeq;
    for (const held of this.holds.values()) floor = Math.min(floor, held);
    const keep: Segment[] = [];
    const drop: Segment[] = [];
    for (const s of this.segments) {
      // Below the floor: referenced segments are now retention's business, the others are garbage.
      if (s.written === undefined || s.lastSeq >= floor) keep.push(s);
      else if (!s.referenced && s.failed === undefined) drop.push(s);
    }
    this.segments.length = 0;
    this.segments.push(...keep);
    for (const seq of this.located.keys()) if (seq < floor) this.located.delete(seq);
    if (drop.length > 0) await this.storage.delete(drop.map((s) => sharedChunkKey(s.id)));
  }

  /** Bytes of segments written since the last call (for checkpoint statistics). */
  takeWrittenBytes(): number {
    const bytes = this.writtenBytes;
    this.writtenBytes = 0;
    return bytes;
  }

  /** The job ends: segments no checkpoint refers to are deleted. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.open = undefined;
    await Promise.allSettled(this.segments.map((s) => s.written));
    // A checkpoint still being written may yet refer to anything above its floor.
    const floor = Math.min(...this.holds.values());
    const drop = this.segments.filter((s) => !s.referenced && s.written !== undefined && s.failed === undefined && s.lastSeq < floor);
    this.segments.length = 0;
    if (drop.length > 0) await this.storage.delete(drop.map((s) => sharedChunkKey(s.id)));
  }

  private newSegment(): Segment {
    return { id: `${this.prefix}-${this.segmentNo++}`, entries: [], bytes: 0, lastSeq: -1, referenced: false };
  }

  /** Closes the open segment and starts writing it. */
  private seal(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const segment = this.open;
    if (!segment) return;
    this.open = undefined;
    this.segments.push(segment);
    // Checksummed, like channel-state files: a damaged segment fails the restore instead of replaying wrong records.
    const bytes = frameBody(SPILL_SEGMENT_MAGIC, recordPackr.pack({ v: 1, entries: segment.entries }));
    segment.entries.length = 0;
    segment.written = this.storage.put(sharedChunkKey(segment.id), bytes).then(
      () => {
        this.writtenBytes += bytes.length;
      },
      (error: unknown) => {
        segment.failed = error;
      },
    );
  }
}

/** Decodes the batches of a stored segment, by position. */
export function decodeSpillSegment(bytes: Uint8Array, id: string): RecordedBatch[] {
  const frame = unframeBody(bytes, SPILL_SEGMENT_MAGIC);
  if ('reason' in frame) throw new CorruptCheckpointError(sharedChunkKey(id), frame.reason, `spilled segment: ${frame.detail}`);
  let decoded: { v?: number; entries?: SegmentEntry[] };
  try {
    decoded = recordPackr.unpack(frame.body) as { v?: number; entries?: SegmentEntry[] };
  } catch (error) {
    throw new CorruptCheckpointError(sharedChunkKey(id), 'body', `spilled segment is not valid MessagePack: ${error instanceof Error ? error.message : String(error)}`, undefined, { cause: error });
  }
  if (decoded?.v !== 1 || !Array.isArray(decoded.entries)) throw new CorruptCheckpointError(sharedChunkKey(id), 'version', `spilled segment ${id} is not a version-1 spill segment`);
  return decoded.entries.map((e) => {
    const values = (e.w === 1 ? wireUnpackr.unpack(e.b) : recordPackr.unpack(e.b)) as unknown[];
    let timestamps: number[] | null = null;
    if (e.t) {
      const aligned = new Uint8Array(e.t.byteLength);
      aligned.set(e.t);
      timestamps = Array.from(new Float64Array(aligned.buffer));
    }
    return { values, timestamps };
  });
}

// Reading a channel-state file back: checksum first, then the shape, then every spilled segment
// it names must be one the metadata lists, so nothing read from storage picks another file.
import { CHANNEL_STATE_MAGIC, unframeBody } from '../../checkpoint/checked-frame.ts';
import { CorruptCheckpointError, HostileCheckpointError } from '../../checkpoint/index.ts';
import { exclusiveKey } from '../../checkpoint/index.ts';
import { isStoredIndex } from '../../checkpoint/restore/stored-values.ts';
import { StorageNotFoundError } from '../../checkpoint/storage/errors.ts';
import type { ChannelStateRef } from '../../checkpoint/index.ts';
import { ChunkCorruptError } from '../../state/index.ts';
import type { RestoredChannelState } from '../task/subtask.ts';

/** A channel-state file: copies of the input, or (continuous spilling) references into spilled segments. */
export interface StoredChannelState {
  readonly input?: RestoredChannelState['input'];
  readonly spilled?: ReadonlyArray<{ channel: number; segment: string; index: number; from: number }>;
  readonly output: RestoredChannelState['output'];
}

interface ReadContext {
  readonly checkpointId: number;
  readonly ref: ChannelStateRef;
  readonly jobDir: string;
}

/**
 * Decodes and checks the channel-state file of `ref` (`unpack` is the channel-state codec).
 * Throws CorruptCheckpointError for a damaged file, HostileCheckpointError for a spilled segment
 * the metadata does not list.
 *
 * @example const stored = decodeStoredChannelState(bytes, (b) => packr.unpack(b), { checkpointId: 7, ref, jobDir: storage.uri });
 */
export function decodeStoredChannelState(bytes: Uint8Array, unpack: (body: Uint8Array) => unknown, ctx: ReadContext): StoredChannelState {
  const key = exclusiveKey(ctx.checkpointId, ctx.ref.file);
  const fail = (reason: CorruptCheckpointError['reason'], detail: string, cause?: unknown) =>
    new CorruptCheckpointError(key, reason, detail, ctx.jobDir, { checkpointId: ctx.checkpointId, cause });
  // The metadata (checksummed) recorded the file's size: a short or grown file is caught here.
  if (bytes.length !== ctx.ref.bytes) throw fail(bytes.length < ctx.ref.bytes ? 'truncated' : 'body', `${bytes.length} bytes, the metadata recorded ${ctx.ref.bytes}`);
  const frame = unframeBody(bytes, CHANNEL_STATE_MAGIC);
  if ('reason' in frame) throw fail(frame.reason, frame.detail);
  let value: unknown;
  try {
    value = unpack(frame.body);
  } catch (error) {
    throw fail('body', `not valid MessagePack: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  const stored = value as Partial<StoredChannelState> | null;
  if (typeof stored !== 'object' || stored === null || !Array.isArray(stored.output)) throw fail('body', 'expected { output: [...], input or spilled: [...] }');
  if (stored.input !== undefined && !Array.isArray(stored.input)) throw fail('body', 'input: expected an array');
  if (stored.spilled !== undefined) {
    if (!Array.isArray(stored.spilled)) throw fail('body', 'spilled: expected an array');
    const listed = new Set(ctx.ref.segments ?? []);
    stored.spilled.forEach((s, i) => {
      if (typeof s !== 'object' || s === null) throw fail('body', `spilled[${i}]: expected { channel, segment, index, from }`);
      if (!listed.has(s.segment)) {
        throw new HostileCheckpointError(key, ctx.checkpointId, `spilled[${i}].segment`, s.segment, `one of the segments the metadata lists for this file (${[...listed].join(', ') || 'none'})`, ctx.jobDir);
      }
      for (const field of ['channel', 'index', 'from'] as const) {
        if (!isStoredIndex(s[field])) throw new HostileCheckpointError(key, ctx.checkpointId, `spilled[${i}].${field}`, s[field], 'a non-negative integer', ctx.jobDir);
      }
    });
  }
  return stored as StoredChannelState;
}

/**
 * A file of checkpoint `checkpointId` that is missing or fails its checks, as a
 * CorruptCheckpointError naming it; any other error (a storage outage) is returned unchanged.
 *
 * @example await storage.get(key).catch((e) => { throw asCorruptCheckpoint(e, key, 7, storage.uri); });
 */
export function asCorruptCheckpoint(error: unknown, key: string, checkpointId: number, jobDir: string): unknown {
  if (error instanceof HostileCheckpointError) return error;
  // Decoders below the checkpoint layer know the file, not the checkpoint or job directory.
  if (error instanceof CorruptCheckpointError) {
    if (error.checkpointId !== undefined && error.jobDir !== undefined) return error;
    return new CorruptCheckpointError(error.key, error.reason, error.detail, jobDir, { checkpointId, cause: error, field: error.field, value: error.value });
  }
  if (error instanceof StorageNotFoundError) return new CorruptCheckpointError(key, 'missing', 'the checkpoint refers to it, but it does not exist', jobDir, { checkpointId, cause: error });
  if (error instanceof ChunkCorruptError) {
    const reason = /checksum/.test(error.reason) ? 'checksum' : /truncated/.test(error.reason) ? 'truncated' : /magic/.test(error.reason) ? 'magic' : /version|flags/.test(error.reason) ? 'version' : 'body';
    return new CorruptCheckpointError(key, reason, error.reason, jobDir, { checkpointId, cause: error });
  }
  return error;
}

// The `_metadata` file format: a 16-byte header (magic, version, flags, length, CRC-32) and a msgpack body.
import { Packr, Unpackr } from 'msgpackr';
import { CorruptMetadataError, HostileCheckpointError } from '../errors.ts';
import type { CheckpointMetadata } from '../types.ts';
import { crc32 } from './crc32.ts';
import { findMetadataProblem, metadataProblem } from './metadata-shape.ts';

/** ASCII 'BTNC', big-endian; distinct from Flink's metadata magic. */
export const METADATA_MAGIC = 0x42544e43;
/** The format version this code writes and the newest it reads. */
export const METADATA_VERSION = 1;
/** Magic number at the start of a Flink `_metadata` file (big-endian). */
export const FLINK_METADATA_MAGIC = 0x4960672d;
/** magic u32 | version u16 | flags u16 | body length u32 | CRC-32 of the body u32, all big-endian. */
export const METADATA_HEADER_BYTES = 16;

/**
 * msgpackr options of the body, pinned so the format does not follow the library's defaults.
 * Operator state inside is opaque (source splits, staged sink transactions, timers whose keys may
 * be bigints) and must restore as it was saved: records keep a Map distinct from an object,
 * moreTypes keeps Set, Error and RegExp, the bigint extension keeps bigints of any size. Each body
 * carries its own record structures, so no shared dictionary is needed to read it.
 */
export const METADATA_MSGPACK_OPTIONS = { useRecords: true, moreTypes: true, useBigIntExtension: true } as const;
const packr = new Packr(METADATA_MSGPACK_OPTIONS);
const unpackr = new Unpackr(METADATA_MSGPACK_OPTIONS);

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/**
 * Encodes metadata into the bytes of a `_metadata` file. Throws TypeError for metadata that would
 * not decode (e.g. an unsafe chunk id), so a checkpoint that cannot be restored is never written.
 *
 * @example await storage.put(metadataKey(meta.checkpointId), encodeMetadata(meta));
 */
export function encodeMetadata(meta: CheckpointMetadata): Uint8Array {
  const problem = metadataProblem(meta);
  if (problem !== undefined) throw new TypeError(`refusing to write invalid metadata of checkpoint ${String(meta.checkpointId)}: ${problem}`);
  // pack() returns a view of a shared buffer that the next pack() overwrites: copy it out now.
  const body = packr.pack(meta);
  const out = new Uint8Array(METADATA_HEADER_BYTES + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, METADATA_MAGIC);
  view.setUint16(4, METADATA_VERSION);
  view.setUint16(6, 0);
  view.setUint32(8, body.length);
  view.setUint32(12, crc32(body));
  out.set(body, METADATA_HEADER_BYTES);
  return out;
}

/**
 * Decodes and validates a `_metadata` file. `key` (and `jobDir`, if given) only name the file in
 * errors. Throws CorruptMetadataError with reason `magic`, `version`, `truncated`, `checksum` or `body`.
 *
 * @example const meta = decodeMetadata(await storage.get('chk-7/_metadata'), 'chk-7/_metadata');
 */
export function decodeMetadata(bytes: Uint8Array, key: string, jobDir?: string): CheckpointMetadata {
  const fail = (reason: CorruptMetadataError['reason'], detail: string, cause?: unknown) =>
    new CorruptMetadataError(key, reason, detail, jobDir, cause === undefined ? undefined : { cause });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) throw fail('truncated', `${bytes.length} bytes, shorter than the ${METADATA_HEADER_BYTES}-byte header`);
  const magic = view.getUint32(0);
  if (magic === FLINK_METADATA_MAGIC) throw fail('magic', `this is Flink checkpoint metadata (magic ${hex(magic)}), not baton's`);
  if (magic !== METADATA_MAGIC) throw fail('magic', `expected ${hex(METADATA_MAGIC)} ('BTNC'), found ${hex(magic)}`);
  if (bytes.length < METADATA_HEADER_BYTES) throw fail('truncated', `${bytes.length} bytes, shorter than the ${METADATA_HEADER_BYTES}-byte header`);
  const version = view.getUint16(4);
  if (version > METADATA_VERSION) {
    throw fail('version', `format version ${version} was written by a newer baton; this one reads up to version ${METADATA_VERSION}`);
  }
  if (version < 1) throw fail('version', `format version ${version} does not exist`);
  const flags = view.getUint16(6);
  // No flag is defined in version 1: a set one means a feature this reader cannot honour.
  if (flags !== 0) throw fail('version', `unknown header flags 0x${flags.toString(16)} for format version ${version}`);
  const length = view.getUint32(8);
  const available = bytes.length - METADATA_HEADER_BYTES;
  if (available < length) throw fail('truncated', `header announces a ${length}-byte body, only ${available} bytes present`);
  if (available > length) throw fail('body', `${available - length} unexpected bytes after the ${length}-byte body`);
  const body = bytes.subarray(METADATA_HEADER_BYTES);
  const actual = crc32(body);
  const expected = view.getUint32(12);
  if (actual !== expected) throw fail('checksum', `CRC-32 of the body is ${hex(actual)}, header says ${hex(expected)}`);
  let value: unknown;
  try {
    value = unpackr.unpack(body);
  } catch (error) {
    throw fail('body', `not valid MessagePack: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  const problem = findMetadataProblem(value);
  if (problem?.hostile) throw new HostileCheckpointError(key, undefined, problem.path, problem.value, problem.expected, jobDir);
  if (problem !== undefined) throw new CorruptMetadataError(key, 'body', metadataProblem(value) as string, jobDir, { field: problem.path, value: problem.value });
  return value as CheckpointMetadata;
}

/**
 * Whether `bytes` start with Flink's metadata magic 0x4960672d, so tools can say "this is a
 * Flink checkpoint" instead of "corrupt".
 *
 * @example isFlinkMetadata(await storage.get('chk-1/_metadata')) // false for baton's files
 */
export function isFlinkMetadata(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0) === FLINK_METADATA_MAGIC;
}

// A checksummed frame for the files a checkpoint refers to besides `_metadata` (channel state,
// spilled input segments): magic u32 | length u32 | CRC-32 of the body u32 | body, big-endian.
// A bit flip or a short file is then detected instead of restoring wrong records.
import type { CorruptMetadataReason } from './errors.ts';
import { crc32 } from './metadata/crc32.ts';

export const FRAME_HEADER_BYTES = 12;
/** ASCII 'BTCS': a channel-state file. */
export const CHANNEL_STATE_MAGIC = 0x42544353;
/** ASCII 'BTSG': a spilled input segment. */
export const SPILL_SEGMENT_MAGIC = 0x42545347;

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** Header and body in one buffer. @example const bytes = frameBody(CHANNEL_STATE_MAGIC, packr.pack(content)); */
export function frameBody(magic: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic);
  view.setUint32(4, body.length);
  view.setUint32(8, crc32(body));
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

/**
 * The body of a frame, or why the bytes are not an intact frame with this magic.
 *
 * @example const r = unframeBody(bytes, CHANNEL_STATE_MAGIC); if ('reason' in r) throw ...; else use(r.body);
 */
export function unframeBody(bytes: Uint8Array, magic: number): { body: Uint8Array } | { reason: CorruptMetadataReason; detail: string } {
  if (bytes.length < FRAME_HEADER_BYTES) return { reason: 'truncated', detail: `${bytes.length} bytes, shorter than the ${FRAME_HEADER_BYTES}-byte header` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = view.getUint32(0);
  if (found !== magic) return { reason: 'magic', detail: `expected ${hex(magic)}, found ${hex(found)}` };
  const length = view.getUint32(4);
  const available = bytes.length - FRAME_HEADER_BYTES;
  if (available < length) return { reason: 'truncated', detail: `header announces a ${length}-byte body, only ${available} bytes present` };
  if (available > length) return { reason: 'body', detail: `${available - length} unexpected bytes after the ${length}-byte body` };
  const body = bytes.subarray(FRAME_HEADER_BYTES);
  const actual = crc32(body);
  const expected = view.getUint32(8);
  if (actual !== expected) return { reason: 'checksum', detail: `CRC-32 of the body is ${hex(actual)}, header says ${hex(expected)}` };
  return { body };
}

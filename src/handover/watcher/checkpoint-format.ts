// Tells a baton `_metadata` from a Flink one by its magic number, so a handover can say what it is about to restore.
import { FLINK_METADATA_MAGIC, METADATA_MAGIC } from '../../checkpoint/index.ts';
import type { CheckpointFormat } from './types.ts';

/**
 * The format of a `_metadata` file from its first 4 bytes (big-endian): ASCII 'BTNC' is baton,
 * 0x4960672d is Flink's checkpoint metadata magic, anything else (or fewer bytes) is unknown.
 *
 * @example detectCheckpointFormat(await storage.get('chk-117/_metadata')) // 'baton'
 */
export function detectCheckpointFormat(bytes: Uint8Array): CheckpointFormat {
  if (bytes.length < 4) return 'unknown';
  const magic = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  if (magic === METADATA_MAGIC) return 'baton';
  if (magic === FLINK_METADATA_MAGIC) return 'flink';
  return 'unknown';
}

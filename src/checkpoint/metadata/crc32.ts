// CRC-32 (IEEE, as in zip and PNG) of a byte array, for the metadata checksum.
import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * CRC-32 of `data`, an unsigned 32-bit number. Uses node:zlib's native `crc32`, present in every
 * Node this project supports (>= 20.15; engines asks for >= 20.19), so no table of our own is needed.
 *
 * @example crc32(new TextEncoder().encode('123456789')) // 0xcbf43926
 */
export function crc32(data: Uint8Array): number {
  return zlibCrc32(data) >>> 0;
}

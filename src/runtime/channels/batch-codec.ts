// Encodes record batches with msgpackr into standalone ArrayBuffers that can be transferred.
import { Packr, Unpackr } from 'msgpackr';
import type { ChannelMessage } from './types.ts';

/** A message as posted on a MessagePort: bytes are transferred, not copied. */
export interface WireMessage {
  /** msgpackr-encoded record array. */
  b?: ArrayBuffer;
  /** Float64 event times, one per record. */
  t?: ArrayBuffer;
  w?: number;
  /** Checkpoint barrier id. */
  k?: number;
  /** With `k`: when the checkpoint was triggered (epoch ms). */
  a?: number;
  /** Priority (unaligned) barrier. */
  p?: 1;
  e?: 1;
  /** End because of a suspend. */
  s?: 1;
}

/**
 * msgpackr options of record batches, at both ends of a port channel and wherever its bytes are
 * decoded later (the continuous spill log). Which values survive them is the rule of
 * record-values.ts: keep the two in step.
 */
export const CODEC_OPTIONS = { useRecords: true, moreTypes: false, useBigIntExtension: true } as const;

export class BatchEncoder {
  // Records structures let repeated object shapes be written once per batch. BigInts of any size
  // travel as themselves (without the extension, one over 64 bits fails the batch).
  private readonly packr = new Packr(CODEC_OPTIONS);

  encode(message: ChannelMessage): { wire: WireMessage; transfer: ArrayBuffer[] } {
    const wire: WireMessage = {};
    const transfer: ArrayBuffer[] = [];
    if (message.values !== null && message.values.length > 0) {
      const packed = this.packr.pack(message.values);
      // pack() returns a view of a shared pool: copy into an exclusive buffer we can give away.
      const bytes = new ArrayBuffer(packed.length);
      new Uint8Array(bytes).set(packed);
      wire.b = bytes;
      transfer.push(bytes);
      if (message.timestamps !== null) {
        const times = message.timestamps instanceof Float64Array ? message.timestamps : Float64Array.from(message.timestamps);
        const buffer = times.buffer.byteLength === times.byteLength ? times.buffer : times.slice().buffer;
        wire.t = buffer as ArrayBuffer;
        transfer.push(wire.t);
      }
    }
    if (message.watermark !== undefined) wire.w = message.watermark;
    if (message.barrier !== undefined) wire.k = message.barrier;
    if (message.barrierAt !== undefined) wire.a = message.barrierAt;
    if (message.priority) wire.p = 1;
    if (message.end) wire.e = 1;
    if (message.suspend) wire.s = 1;
    return { wire, transfer };
  }
}

export class BatchDecoder {
  private readonly unpackr = new Unpackr(CODEC_OPTIONS);

  decode(wire: WireMessage): ChannelMessage {
    const message: ChannelMessage = {
      values: wire.b ? (this.unpackr.unpack(new Uint8Array(wire.b)) as unknown[]) : null,
      timestamps: wire.t ? new Float64Array(wire.t) : null,
      watermark: wire.w,
      end: wire.e === 1,
    };
    if (wire.k !== undefined) message.barrier = wire.k;
    if (wire.a !== undefined) message.barrierAt = wire.a;
    if (wire.p === 1) message.priority = true;
    if (wire.s === 1) message.suspend = true;
    return message;
  }
}

// The checksummed frame of channel-state files and spilled segments: every damage is reported, never decoded.
import { describe, expect, it } from 'vitest';
import { CHANNEL_STATE_MAGIC, FRAME_HEADER_BYTES, frameBody, SPILL_SEGMENT_MAGIC, unframeBody } from '../../src/checkpoint/checked-frame.ts';

const body = new TextEncoder().encode('in-flight records');

describe('checked frame', () => {
  it('round-trips a body, also an empty one', () => {
    expect(unframeBody(frameBody(CHANNEL_STATE_MAGIC, body), CHANNEL_STATE_MAGIC)).toEqual({ body });
    expect(unframeBody(frameBody(CHANNEL_STATE_MAGIC, new Uint8Array(0)), CHANNEL_STATE_MAGIC)).toEqual({ body: new Uint8Array(0) });
  });

  it('reports a flip of any single bit, by what it hit', () => {
    const framed = frameBody(CHANNEL_STATE_MAGIC, body);
    for (let byte = 0; byte < framed.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Uint8Array.from(framed);
        bad[byte] ^= 1 << bit;
        const result = unframeBody(bad, CHANNEL_STATE_MAGIC);
        expect('reason' in result, `byte ${byte} bit ${bit}`).toBe(true);
        const reason = (result as { reason: string }).reason;
        if (byte < 4) expect(reason).toBe('magic');
        else if (byte >= 8) expect(reason).toBe('checksum');
        else expect(['truncated', 'body']).toContain(reason);
      }
    }
  });

  it('reports truncation, appended bytes and another file kind', () => {
    const framed = frameBody(CHANNEL_STATE_MAGIC, body);
    expect(unframeBody(framed.subarray(0, FRAME_HEADER_BYTES - 1), CHANNEL_STATE_MAGIC)).toMatchObject({ reason: 'truncated' });
    expect(unframeBody(framed.subarray(0, framed.length - 1), CHANNEL_STATE_MAGIC)).toMatchObject({ reason: 'truncated' });
    expect(unframeBody(new Uint8Array([...framed, 0]), CHANNEL_STATE_MAGIC)).toMatchObject({ reason: 'body' });
    expect(unframeBody(framed, SPILL_SEGMENT_MAGIC)).toMatchObject({ reason: 'magic' });
  });
});

// Keys of the job directory layout, strict parsing of chk-<n>, and names that cannot escape the root.
import { describe, expect, it } from 'vitest';
import {
  checkpointDir,
  chunkCheckpointId,
  handoverReportKey,
  isSpillSegmentId,
  parseHandoverReportKey,
  spillSegmentPrefix,
  STOP_REQUEST_KEY,
  stateChunkId,
  describeKey,
  exclusiveKey,
  failedKey,
  isSafeName,
  metadataKey,
  parseCheckpointDir,
  parseCheckpointKey,
  parseSharedChunkKey,
  sharedChunkKey,
} from '../../src/checkpoint/layout.ts';

describe('checkpoint layout', () => {
  it('builds the documented keys', () => {
    expect(checkpointDir(117)).toBe('chk-117');
    expect(metadataKey(117)).toBe('chk-117/_metadata');
    expect(failedKey(117)).toBe('chk-117/_FAILED');
    expect(sharedChunkKey('count.kg-0-63.7')).toBe('shared/count.kg-0-63.7');
    expect(exclusiveKey(3, 'channel-0_1')).toBe('chk-3/channel-0_1');
    expect(describeKey('file:///data/orders/', 'chk-1/_metadata')).toBe('file:///data/orders/chk-1/_metadata');
  });

  it('rejects checkpoint numbers that are not non-negative integers', () => {
    for (const n of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) expect(() => checkpointDir(n), String(n)).toThrow(RangeError);
    expect(checkpointDir(0)).toBe('chk-0');
  });

  it('parses chk-<n> strictly', () => {
    expect(parseCheckpointDir('chk-0')).toBe(0);
    expect(parseCheckpointDir('chk-42')).toBe(42);
    for (const name of ['chk-042', 'chk-00', 'chk-', 'chk-4x', 'chk--1', 'chk-1.5', 'chk-1e3', ' chk-1', 'CHK-1', 'chk-99999999999999999999', 'shared']) {
      expect(parseCheckpointDir(name), name).toBeUndefined();
    }
  });

  it('splits keys under checkpoint and shared dirs', () => {
    expect(parseCheckpointKey('chk-3/_metadata')).toEqual({ checkpointId: 3, file: '_metadata' });
    expect(parseCheckpointKey('chk-3/sub/file')).toEqual({ checkpointId: 3, file: 'sub/file' });
    expect(parseCheckpointKey('chk-3')).toBeUndefined();
    expect(parseCheckpointKey('chk-03/_metadata')).toBeUndefined();
    expect(parseCheckpointKey('shared/x')).toBeUndefined();
    expect(parseSharedChunkKey('shared/abc-1')).toBe('abc-1');
    expect(parseSharedChunkKey('shared/nested/abc')).toBeUndefined();
    expect(parseSharedChunkKey('chk-1/abc')).toBeUndefined();
  });

  it('accepts only names that stay inside their folder', () => {
    for (const ok of ['a', 'A-z_0.9', 'x.y.z', 'a-'.repeat(100)]) expect(isSafeName(ok), ok).toBe(true);
    for (const bad of ['', '.', '..', 'a..b', '../x', 'a/b', 'a\\b', '/x', '.hidden', '_metadata', '_FAILED', '_x', 'a b', 'ä', 'x.tmp-1', 'x'.repeat(256), 'a\0']) {
      expect(isSafeName(bad), JSON.stringify(bad)).toBe(false);
    }
    expect(() => sharedChunkKey('../chk-1/_metadata')).toThrow(/invalid chunk id/);
    expect(() => exclusiveKey(1, 'a/b')).toThrow(/invalid exclusive file name/);
  });

  it('names state chunks so a sweep reads back the checkpoint they were written for', () => {
    const id = stateChunkId('my op/1', 64, 127, 12, 'delta', '0a1b2c3d');
    expect(id).toBe('my_op_1-64-127-12-delta-0a1b2c3d');
    expect(sharedChunkKey(id)).toBe(`shared/${id}`);
    expect(chunkCheckpointId(id)).toBe(12);
    expect(chunkCheckpointId(stateChunkId('sum', 0, 127, 0, 'base', 'ffffffff'))).toBe(0);
    const segment = `${spillSegmentPrefix('sum-0', '0a0b0c0d')}-3`;
    expect(isSpillSegmentId(segment)).toBe(true);
    expect(chunkCheckpointId(segment)).toBeUndefined();
    expect(isSpillSegmentId(id)).toBe(false);
  });

  it('keeps handover files out of checkpoint folders, and parses report keys back', () => {
    expect(STOP_REQUEST_KEY).toBe('handover/stop-request.json');
    expect(handoverReportKey(9)).toBe('handover/report-chk-9.json');
    expect(parseHandoverReportKey(handoverReportKey(9))).toBe(9);
    expect(parseHandoverReportKey('handover/report-chk-09.json')).toBeUndefined();
    expect(parseHandoverReportKey(STOP_REQUEST_KEY)).toBeUndefined();
    expect(parseCheckpointKey(handoverReportKey(9))).toBeUndefined();
  });
});

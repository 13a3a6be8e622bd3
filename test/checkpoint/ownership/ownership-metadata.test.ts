// The ownership fields of checkpoint metadata (runId, previousCheckpoint, nextOwner), run ids in stop requests, and the fence's evidence.
import { describe, expect, it } from 'vitest';
import { decodeMetadata, encodeMetadata } from '../../../src/checkpoint/metadata/metadata-codec.ts';
import { metadataProblem } from '../../../src/checkpoint/metadata/metadata-shape.ts';
import { committedByOthers, isValidRunId } from '../../../src/checkpoint/ownership/index.ts';
import { writeLeasedStopRequest } from '../../../src/checkpoint/status/lease-request.ts';
import { parseStopRequest, readStopRequest, STOP_REQUEST_KEY } from '../../../src/checkpoint/status/stop-request.ts';
import { makeMetadata } from '../metadata/fixtures.ts';
import { MemoryStorage } from '../memory-storage.ts';

const RUN = '0b7e5a3c-1f2d-4c55-9a60-2f6f1b8d9e10';
const OTHER = 'f3d9c0a1-8e77-4b1e-b2a4-6c5d4e3f2a10';

describe('ownership fields of checkpoint metadata', () => {
  it('round-trip, and are optional (metadata written before them still decodes)', () => {
    const meta = makeMetadata(7, undefined, { runId: RUN, previousCheckpoint: 5, nextOwner: OTHER });
    const decoded = decodeMetadata(encodeMetadata(meta), 'chk-7/_metadata');
    expect(decoded).toMatchObject({ runId: RUN, previousCheckpoint: 5, nextOwner: OTHER });
    expect(metadataProblem(makeMetadata(7))).toBeUndefined();
  });

  it('refuses a run id that is not a short safe string, and a previousCheckpoint not below the checkpoint', () => {
    for (const runId of ['', 'a b', 'a\nb', 'x'.repeat(129), '../x', 7, null]) {
      expect(metadataProblem(makeMetadata(7, undefined, { runId } as never)), JSON.stringify(runId)).toMatch(/^runId: expected a run id/);
      expect(metadataProblem(makeMetadata(7, undefined, { nextOwner: runId } as never)), JSON.stringify(runId)).toMatch(/^nextOwner: expected a run id/);
    }
    for (const previousCheckpoint of [7, 8, -1, 1.5, '3']) {
      expect(metadataProblem(makeMetadata(7, undefined, { previousCheckpoint } as never))).toMatch(/^previousCheckpoint: expected a non-negative integer below checkpointId/);
    }
    // The writer refuses it too: never an owner that a reader would then reject.
    expect(() => encodeMetadata({ ...makeMetadata(7), nextOwner: 'a\u0000b' })).toThrow(/nextOwner: expected a run id/);
  });

  it('run ids: UUIDs and short tokens are valid', () => {
    expect(isValidRunId(RUN)).toBe(true);
    expect(isValidRunId('run:2.b_c-d')).toBe(true);
    expect(isValidRunId('x'.repeat(128))).toBe(true);
    expect(isValidRunId('x'.repeat(129))).toBe(false);
  });
});

describe('stop requests carry the requesting run', () => {
  it('round-trip the run id with its lease; a request without either still parses, a run id without a lease does not', async () => {
    const storage = new MemoryStorage();
    await writeLeasedStopRequest(storage, { afterCheckpoint: 9, requestedBy: 'handover', runId: RUN, leaseExpiresAt: 1_000 });
    expect(await readStopRequest(storage)).toMatchObject({ afterCheckpoint: 9, runId: RUN, leaseExpiresAt: 1_000 });
    expect(parseStopRequest('{"afterCheckpoint":4}')).not.toHaveProperty('runId');
    expect(parseStopRequest(JSON.stringify({ afterCheckpoint: 4, runId: RUN }))).toBeUndefined();
  });

  it('a request with a bad run id is refused whole (read) or not written (write)', async () => {
    const storage = new MemoryStorage();
    storage.seed(STOP_REQUEST_KEY, JSON.stringify({ afterCheckpoint: 4, requestedAt: 0, requestedBy: 'x', runId: '../../etc', leaseExpiresAt: 1 }));
    await expect(readStopRequest(storage)).rejects.toThrow(/is not a stop request/);
    expect(parseStopRequest(JSON.stringify({ afterCheckpoint: 4, runId: 17 }))).toBeUndefined();
    await expect(writeLeasedStopRequest(storage, { afterCheckpoint: 4, requestedBy: 'x', runId: 'a b', leaseExpiresAt: 1 })).rejects.toThrow(/runId must be/);
  });
});

describe('committedByOthers (the fence after a won create)', () => {
  const entries = (...ids: Array<[number, 'COMPLETED' | 'FAILED' | 'IN_PROGRESS']>) => ids.map(([id, status]) => ({ id, status }));

  it('nothing completed above the checkpoint continued but our own: still the owner, whatever gap failures left', () => {
    expect(committedByOthers(entries([3, 'COMPLETED'], [4, 'FAILED'], [5, 'FAILED'], [6, 'COMPLETED']), 3, 6)).toEqual([]);
    // In-progress or failed folders of others are no evidence: nothing of theirs is committed.
    expect(committedByOthers(entries([3, 'COMPLETED'], [6, 'COMPLETED'], [7, 'IN_PROGRESS'], [9, 'FAILED']), 3, 6)).toEqual([]);
  });

  it('a completed checkpoint between, or after ours: another run committed state', () => {
    expect(committedByOthers(entries([3, 'COMPLETED'], [4, 'COMPLETED'], [6, 'COMPLETED']), 3, 6)).toEqual([4]);
    expect(committedByOthers(entries([3, 'COMPLETED'], [6, 'COMPLETED'], [8, 'COMPLETED']), 3, 6)).toEqual([8]);
  });
});

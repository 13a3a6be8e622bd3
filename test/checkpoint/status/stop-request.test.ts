// The stop request: written by a handover or `baton stop-after`, read by the running job's coordinator.
import { describe, expect, it } from 'vitest';
import { clearStopRequest, parseStopRequest, readStopRequest, STOP_REQUEST_KEY, writeStopRequest } from '../../../src/checkpoint/status/stop-request.ts';
import { InvalidStopRequestError } from '../../../src/checkpoint/errors.ts';
import { MemoryStorage } from '../memory-storage.ts';

describe('stop request', () => {
  it('round-trips through storage and is gone once cleared', async () => {
    const storage = new MemoryStorage();
    expect(await readStopRequest(storage)).toBeUndefined();
    await writeStopRequest(storage, 117, 'deployment B');
    expect(await readStopRequest(storage)).toMatchObject({ afterCheckpoint: 117, requestedBy: 'deployment B' });
    await clearStopRequest(storage);
    expect(await readStopRequest(storage)).toBeUndefined();
  });

  it('a malformed request is an error naming the key; a bad id is refused before writing', async () => {
    const storage = new MemoryStorage();
    await storage.put(STOP_REQUEST_KEY, new TextEncoder().encode('{"afterCheckpoint":"soon"}'));
    await expect(readStopRequest(storage)).rejects.toThrow(/handover\/stop-request.json is not a stop request/);
    // Typed, so the poller tells a refused request from a storage outage.
    await expect(readStopRequest(storage)).rejects.toBeInstanceOf(InvalidStopRequestError);
    await expect(writeStopRequest(storage, 0, 'x')).rejects.toThrow(/positive integer/);
    expect(parseStopRequest('not json')).toBeUndefined();
    expect(parseStopRequest('{"afterCheckpoint":4}')).toEqual({ afterCheckpoint: 4, requestedAt: 0, requestedBy: 'unknown' });
  });

  it("a successor's leased request: run id and lease both or neither; without a checkpoint it means when-ready", () => {
    expect(parseStopRequest('{"runId":"b-1","leaseExpiresAt":5,"requestedAt":1,"requestedBy":"handover"}')).toEqual({ runId: 'b-1', leaseExpiresAt: 5, requestedAt: 1, requestedBy: 'handover' });
    expect(parseStopRequest('{"runId":"b-1","leaseExpiresAt":5,"afterCheckpoint":9}')).toMatchObject({ runId: 'b-1', leaseExpiresAt: 5, afterCheckpoint: 9 });
    // Storage is hostile input: a lease without a run, a run id that is a path, a lease that is no number, no checkpoint without a lease.
    for (const bad of ['{"leaseExpiresAt":5,"afterCheckpoint":9}', '{"runId":"../b","leaseExpiresAt":5}', '{"runId":"b","leaseExpiresAt":"soon"}', '{"runId":"b"}', '{"requestedBy":"x"}', '{"runId":"b","leaseExpiresAt":5,"afterCheckpoint":0}']) {
      expect(parseStopRequest(bad), bad).toBeUndefined();
    }
  });
});

// The predecessor's standby: enter after the stop checkpoint, then end (workers stop) or resume (the rollback, with its downtime).
import { describe, expect, it } from 'vitest';
import type { CheckpointStats } from '../../../src/runtime/coordinator/checkpoint-driver.ts';
import { Standby } from '../../../src/runtime/coordinator/standby.ts';

function host() {
  const calls: string[] = [];
  const history: CheckpointStats[] = [
    { id: 7, status: 'COMPLETED', triggeredAt: 0, endedAt: 0, durationMs: 0, stateBytes: 0, channelStateBytes: 0, spilledBytes: 0, tasks: [], lastRecordAt: 1_000 },
  ];
  const standby = new Standby({
    history: () => history,
    resumeCheckpoints: () => void calls.push('resume checkpoints'),
    transition: (type) => void calls.push(type),
    stopWorkers: () => void calls.push('stop workers'),
    resumeWorkers: (id) => void calls.push(`resume workers after ${id}`),
    failed: () => new Promise<never>(() => {}),
  });
  return { standby, calls };
}

describe('standby', () => {
  it('ends: the workers stop after the stop checkpoint, once', () => {
    const { standby, calls } = host();
    standby.enter(7);
    expect(standby.checkpointId).toBe(7);
    standby.end();
    standby.end();
    expect(calls).toEqual(['standby', 'stop workers']);
    expect(standby.checkpointId).toBeUndefined();
  });

  it('resumes: checkpoints and workers go on, and the first record after it ends the rollback downtime', async () => {
    const { standby, calls } = host();
    standby.enter(7);
    const report = standby.resume('lease expired');
    expect(calls).toEqual(['standby', 'resume checkpoints', 'resumed', 'resume workers after 7']);
    expect(standby.firstRecord(1_180)).toBe(true);
    expect(await report).toMatchObject({ checkpointId: 7, reason: 'lease expired', lastRecordAt: 1_000, firstRecordAt: 1_180, downtimeMs: 180 });
    expect(standby.rollbacks).toHaveLength(1);
    // Later first records (other workers) are not the rollback's.
    expect(standby.firstRecord(1_200)).toBe(false);
  });

  it('outside standby, resume is an error and end does nothing', async () => {
    const { standby, calls } = host();
    standby.end();
    await expect(standby.resume('x')).rejects.toThrow(/outside standby/);
    expect(calls).toEqual([]);
  });
});

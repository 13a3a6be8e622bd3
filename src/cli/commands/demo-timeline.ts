// What the handover demos share: the running commentary of A's and B's events, and the A → B timeline with B's handover metrics.
import type { JobHandle } from '../../runtime/index.ts';
import type { JobResult } from '../../runtime/index.ts';
import type { Timeline } from '../../report/timeline/index.ts';

/**
 * Prints `name`'s status changes and handover steps as they happen, each with the time since the demo started.
 *
 * @example narrate(a, 'A', () => `+${Date.now() - t0} ms`, out);
 */
export function narrate(job: JobHandle, name: string, at: () => string, out: (line: string) => void): void {
  job.on('status', (e) => out(`${at()}  ${name} ${e.status}`));
  job.on('handover', (h) => out(`${at()}  ${name} handover ${h.phase}${h.checkpointId === undefined ? '' : ` chk-${h.checkpointId}`}${h.detail ? ` (${h.detail})` : ''}`));
}

/**
 * A's and B's status lanes, A's last and B's first record, the checkpoint B took over at, and B's
 * handover metrics (stage times, waiting, downtime), for renderTimelineText / renderTimelineSvg.
 *
 * @example const timeline = handoverTimeline(await a.done, await b.done);
 */
export function handoverTimeline(a: JobResult, b: JobResult): Timeline {
  const h = b.handover!;
  return {
    lanes: [
      { name: 'A (old deployment)', transitions: a.statusHistory.map((e) => ({ status: e.status, at: e.at })) },
      { name: 'B (new deployment)', transitions: b.statusHistory.map((e) => ({ status: e.status, at: e.at })) },
    ],
    markers: [
      ...(h.lastRecordAt ? [{ label: 'A last record', at: h.lastRecordAt, lane: 'A (old deployment)' }] : []),
      ...(h.firstRecordAt ? [{ label: 'B first record', at: h.firstRecordAt, lane: 'B (new deployment)' }] : []),
      ...a.checkpoints.filter((c) => c.id === h.targetCheckpoint && c.status === 'COMPLETED').map((c) => ({ label: `chk-${c.id} COMPLETED`, at: c.endedAt })),
    ],
    metrics: {
      'target checkpoint': h.targetCheckpoint,
      'pre-state hooks (ms)': h.hookMs,
      'stage 1 (ms)': h.stage1Ms,
      'stage 1 from': h.stage1Checkpoint === undefined ? 'none' : `chk-${h.stage1Checkpoint}`,
      'waiting (ms)': h.waitMs,
      'checkpoints followed': h.followedCheckpoints,
      'stage 2 (ms)': h.stage2Ms,
      'target ready before job': h.targetReadyBeforeJob,
      'target chosen': h.requestedTarget === 'when-ready' ? 'when B was ready' : `in advance (chk-${h.requestedTarget})`,
      'downtime (ms)': h.downtimeMs ?? 'unknown',
    },
  };
}

// A successor's handover metrics before anything happened: one definition for both modes (checkpoint and shadow).
import type { HandoverMetrics } from '../../runtime/index.ts';

/** HandoverMetrics as the shells fill them in. */
export type MutableHandoverMetrics = { -readonly [K in keyof HandoverMetrics]: HandoverMetrics[K] };

/**
 * Zeroes, nothing moved, outcome pending.
 *
 * @example const m = initialHandoverMetrics(runId, 'when-ready');
 */
export function initialHandoverMetrics(runId: string, requestedTarget: HandoverMetrics['requestedTarget']): MutableHandoverMetrics {
  return {
    requestedTarget,
    targetCheckpoint: requestedTarget === 'when-ready' ? 0 : requestedTarget,
    runId,
    moves: [],
    outcome: 'pending',
    hookMs: 0,
    stage1Checkpoint: undefined,
    stage1Ms: 0,
    stage1Bytes: 0,
    waitMs: 0,
    followedCheckpoints: 0,
    passedOverCheckpoints: 0,
    followBytes: 0,
    rangesReloaded: 0,
    stage2Ms: 0,
    stage2Bytes: 0,
    targetReadyBeforeJob: false,
    lastRecordAt: undefined,
    firstRecordAt: undefined,
    downtimeMs: undefined,
  };
}

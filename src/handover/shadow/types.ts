// A shadow deployment's options and the steps it reports.
import type { PromotionGuard } from '../../runtime/index.ts';

/** `handover` options of runJob in shadow mode, resolved. */
export interface ShadowOptions {
  /** Lease of the stop request B publishes once A reached its positions (renewed every third). */
  readonly leaseMs: number;
  /** From the hold until A's stop checkpoint (and, before, for A's first checkpoint), at most this long. */
  readonly timeoutMs: number;
  /** How often B looks at the job directory while it converges on a cut. */
  readonly pollMs: number;
  readonly promoteAfterMs: number | 'manual';
  readonly sampleEveryMs: number;
  readonly promotionGuard?: PromotionGuard;
  readonly guardTimeoutMs: number;
  readonly onGuardTimeout: 'promote' | 'abort';
}

/** The steps of a shadow deployment, as its job handle's 'handover' events name them. */
export type ShadowEventPhase =
  | 'stage1-done'
  | 'follow-skipped'
  | 'shadow'
  | 'shadow-sample'
  | 'guard'
  | 'held'
  | 'announced'
  | 'cut'
  | 'live'
  | 'done'
  | 'refused'
  | 'aborted';

// Typed errors of the two-input operators: misuse a user function can only show while running.
// Thrown inside a worker they reach the job's result as a UserFunctionError naming the operator
// and subtask, whose message carries this error's message and `code`, and whose `cause` is this
// error (its class, code and fields kept across the thread boundary).
import { BatonError, registerErrors } from '../../errors/index.ts';
import { MissingTimestampError } from '../errors.ts';

/**
 * A broadcast function asked for a broadcast state whose descriptor was not passed to
 * `broadcast(...)` for this stream (Flink refuses the same). `code` is stable.
 *
 * @example
 * const rules = new BroadcastStateDescriptor<string, Rule>('rules');
 * env.fromSource(src, 'rules').broadcast(rules); // declare every descriptor processBroadcastElement uses
 */
export class UnknownBroadcastStateError extends BatonError {
  static override readonly code: string = 'BATON_ERR_UNKNOWN_BROADCAST_STATE';
  override name = 'UnknownBroadcastStateError';
  readonly operatorUid: string;
  readonly stateName: string;
  constructor(operatorUid: string, stateName: string, declared: readonly string[]) {
    super(
      `[BATON_ERR_UNKNOWN_BROADCAST_STATE] operator '${operatorUid}': broadcast state '${stateName}' was not declared; pass its descriptor to broadcast(...) (declared: ${declared.length > 0 ? declared.join(', ') : 'none'})`,
    );
    this.operatorUid = operatorUid;
    this.stateName = stateName;
  }
}

/**
 * A broadcast state was written outside processBroadcastElement. Only the broadcast side may write
 * it: every parallel instance sees every broadcast record, so writes made there keep all copies
 * equal, while a write from processElement would change one subtask's copy only. `code` is stable.
 *
 * @example
 * processElement(tx, ctx, out) { ctx.getBroadcastState(rules).get(tx.kind); } // read, never put
 */
export class ReadOnlyBroadcastStateError extends BatonError {
  static override readonly code: string = 'BATON_ERR_BROADCAST_STATE_READ_ONLY';
  override name = 'ReadOnlyBroadcastStateError';
  readonly operatorUid: string;
  readonly stateName: string;
  constructor(operatorUid: string, stateName: string, method: string) {
    super(`[BATON_ERR_BROADCAST_STATE_READ_ONLY] operator '${operatorUid}': broadcast state '${stateName}' is read only outside processBroadcastElement (called ${method})`);
    this.operatorUid = operatorUid;
    this.stateName = stateName;
  }
}

/**
 * An interval join got a record without an event time: the join matches records by timestamp, so
 * both inputs need timestamps (assignTimestampsAndWatermarks, or a source that sets them). `code` is stable.
 *
 * @example
 * orders.assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Order>(1_000).withTimestampAssigner((o) => o.at))
 */
export class IntervalJoinTimestampError extends MissingTimestampError {
  static override readonly code: string = 'BATON_ERR_INTERVAL_JOIN_NO_TIMESTAMP';
  override name = 'IntervalJoinTimestampError';
  override readonly operatorUid: string;
  readonly side: 'left' | 'right';
  constructor(operatorUid: string, side: 'left' | 'right') {
    super(`[BATON_ERR_INTERVAL_JOIN_NO_TIMESTAMP] interval join '${operatorUid}': a ${side} record has no event time; assign timestamps to both inputs before intervalJoin`, operatorUid);
    this.operatorUid = operatorUid;
    this.side = side;
  }
}

registerErrors(UnknownBroadcastStateError, ReadOnlyBroadcastStateError, IntervalJoinTimestampError);

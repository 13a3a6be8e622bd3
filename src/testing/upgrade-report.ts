// What upgradeTest reports: outputs split by deployment, the handover, state compatibility, continuity.
import { inspect } from 'node:util';
import { BatonError, registerErrors } from '../errors/index.ts';
import type { HandoverMetrics } from '../runtime/index.ts';
import type { JobStatus } from '../runtime/index.ts';
import type { StateKind } from '../state/index.ts';
import type { StoredStates, StoredStateSummary } from './checkpoint-states.ts';

/** One sink uid's committed output, split by the deployment that committed it. */
export interface UpgradeOutput<T = unknown> {
  /** Committed by A (up to and including its stop checkpoint), in commit order. */
  readonly fromA: T[];
  /** Committed by B after it took over, in commit order. */
  readonly fromB: T[];
  /** Everything committed to the sink: `fromA` then `fromB`. */
  readonly committed: T[];
  /**
   * What B's code commits after the same cut in the reference run (B from the start over the same
   * input, at A's parallelism up to the cut and restored at B's after it): `fromB` must equal it,
   * as a multiset, for the upgrade to be continuous.
   */
  readonly referenceFromB: T[];
}

/** One step of A's side of the handover, from its job handle's 'handover' events. */
export interface PredecessorStep {
  readonly phase: string;
  readonly at: number;
  readonly checkpointId: number | undefined;
  readonly detail: string;
}

/** How the handover from A to B went, through the real protocol. */
export interface UpgradeHandover {
  /**
   * `'completed'`: B took over at A's stop checkpoint and completed its first checkpoint.
   * `'refused'`: B failed before A stopped (e.g. state of an operator B lacks without
   * `allowNonRestoredState`): A goes on untouched. `'rolled-back'`: B failed after A's stop
   * checkpoint (e.g. B's operators cannot open the restored state): A resumed by itself.
   */
  readonly outcome: 'completed' | 'refused' | 'rolled-back';
  /** B's error when it did not take over (its name, stable `code` when it has one, and message). */
  readonly error?: { readonly name: string; readonly code?: string; readonly message: string; readonly cause: unknown };
  /** A's checkpoint taken before the handover (stage 1 restores it). */
  readonly checkpointBefore: number;
  /** B's measurements (stage 1, follow, stage 2, downtime), when B took over. */
  readonly metrics?: HandoverMetrics;
  /** A's side: stop-requested, standby, ended, rollback, resumed. */
  readonly predecessor: readonly PredecessorStep[];
  /** A's status when upgradeTest returned: SUSPENDED after a completed handover. */
  readonly fromStatus: JobStatus;
}

/** The compatibility of one keyed state (by name) of one operator. */
export interface StateChange {
  /**
   * `'kept'`: the same kind in A and B, and their value shapes overlap. `'dropped'`: A stored it,
   * B's code (in the reference run) never wrote it. `'new'`: B writes it, A never did (empty after the handover).
   * `'kind-changed'`: value/map/list differ (B's operator fails to open it). `'shape-changed'`: no
   * value B stored looks like any A stored (see {@link shapeOf}).
   */
  readonly status: 'kept' | 'dropped' | 'new' | 'kind-changed' | 'shape-changed';
  /** A's state at its stop checkpoint (the handover target). */
  readonly from?: StoredStateSummary;
  /** B's own state in the reference run, after the whole input (before its end). */
  readonly to?: StoredStateSummary;
}

/** The compatibility of one operator uid. */
export interface OperatorChange {
  /** `'kept'`: in both; `'dropped'`: in A's checkpoint, not in B; `'new'`: only in B. */
  readonly status: 'kept' | 'dropped' | 'new';
  /** Keyed state by state name, over the names either version wrote. */
  readonly states: Readonly<Record<string, StateChange>>;
  /** Non-keyed state (source splits, sink transactions, timers) saved by A / by B in the reference run. */
  readonly operatorState: { readonly from: boolean; readonly to: boolean };
}

/** State compatibility of B with A's checkpoint. */
export interface StateCompatibility {
  /** A's checkpoint read (the handover target, or A's newest when B did not take over). */
  readonly fromCheckpoint: number;
  readonly operators: Readonly<Record<string, OperatorChange>>;
  /** Uids A's checkpoint has and B lacks: a restore refuses them unless `allowNonRestoredState`. */
  readonly droppedOperators: readonly string[];
  /** No dropped operator, no dropped state, no kind or shape change ('new' state is allowed). */
  readonly compatible: boolean;
  /** One sentence per incompatibility, for an assertion message. */
  readonly issues: readonly string[];
}

/** What {@link upgradeTest} found. */
export interface UpgradeReport {
  /** Per sink uid (of A or B). */
  readonly outputs: Readonly<Record<string, UpgradeOutput>>;
  readonly handover: UpgradeHandover;
  readonly state: StateCompatibility;
  /**
   * B took over, and for every sink of B what it committed after the cut equals (as a multiset)
   * what B's code commits after the same cut when it ran from the start (`referenceFromB`): A's
   * state carried B on as B's own state would have, nothing lost, repeated or changed by the
   * upgrade. As far as this input exercises the job: a difference the input never reaches stays unseen.
   */
  readonly continuous: boolean;
  /** Why it is not continuous: one sentence per problem (empty when it is). */
  readonly problems: readonly string[];
}

/**
 * The upgrade was not continuous: {@link assertContinuous} names every problem.
 */
export class UpgradeNotContinuousError extends BatonError {
  static override readonly code: string = 'BATON_ERR_TEST_UPGRADE_NOT_CONTINUOUS';
  override name = 'UpgradeNotContinuousError';
  constructor(readonly problems: readonly string[]) {
    super(`the upgrade is not continuous:\n- ${problems.join('\n- ')}`);
  }
}

/**
 * Throws {@link UpgradeNotContinuousError} listing the report's problems unless the upgrade was
 * continuous; with `state: true`, also unless the state was fully compatible.
 *
 * @example
 * assertContinuous(await upgradeTest({ from: v1, to: v2, input: { clicks } }), { state: true });
 */
export function assertContinuous(report: UpgradeReport, options: { state?: boolean } = {}): void {
  const problems = [...report.problems, ...(options.state ? report.state.issues : [])];
  if (problems.length > 0) throw new UpgradeNotContinuousError(problems);
}

/** A value's identity for multiset comparison: structure, not reference (Maps, Sets and bigints included). */
function canonical(value: unknown): string {
  return inspect(value, { depth: Number.POSITIVE_INFINITY, sorted: true, breakLength: Number.POSITIVE_INFINITY, maxArrayLength: null, maxStringLength: null, compact: true });
}

/** What `actual` has beyond `expected` and lacks of it, as multisets. */
export function multisetDiff(actual: readonly unknown[], expected: readonly unknown[]): { missing: unknown[]; unexpected: unknown[] } {
  const counts = new Map<string, { n: number; value: unknown }>();
  for (const v of expected) {
    const k = canonical(v);
    const c = counts.get(k);
    if (c) c.n++;
    else counts.set(k, { n: 1, value: v });
  }
  const unexpected: unknown[] = [];
  for (const v of actual) {
    const c = counts.get(canonical(v));
    if (c && c.n > 0) c.n--;
    else unexpected.push(v);
  }
  const missing: unknown[] = [];
  for (const c of counts.values()) for (let i = 0; i < c.n; i++) missing.push(c.value);
  return { missing, unexpected };
}

const SHOWN = 5;

function show(values: readonly unknown[]): string {
  const head = values.slice(0, SHOWN).map((v) => inspect(v, { breakLength: Number.POSITIVE_INFINITY, depth: 4 }));
  return `${head.join(', ')}${values.length > SHOWN ? `, … (${values.length} in all)` : ''}`;
}

/** The problems of one sink: B's output after the cut against the reference's. */
export function outputProblems(uid: string, output: UpgradeOutput): string[] {
  const { missing, unexpected } = multisetDiff(output.fromB, output.referenceFromB);
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`sink '${uid}': B did not commit ${missing.length} record(s) that B's code commits after the cut when it ran from the start: ${show(missing)}`);
  if (unexpected.length > 0) problems.push(`sink '${uid}': B committed ${unexpected.length} record(s) that B's code does not commit after the cut when it ran from the start: ${show(unexpected)}`);
  return problems;
}

function sameOrOverlapping(a: readonly string[], b: readonly string[]): boolean {
  // '…' stands for shapes not listed: it cannot prove a change.
  if (a.includes('…') || b.includes('…')) return true;
  return a.some((s) => b.includes(s));
}

function compareState(from: StoredStateSummary | undefined, to: StoredStateSummary | undefined): StateChange {
  if (!to) return { status: 'dropped', ...(from ? { from } : {}) };
  if (!from) return { status: 'new', to };
  if (from.kind !== to.kind) return { status: 'kind-changed', from, to };
  if (!sameOrOverlapping(from.shapes, to.shapes)) return { status: 'shape-changed', from, to };
  return { status: 'kept', from, to };
}

const describeKind = (s: StoredStateSummary | undefined): StateKind | '?' => s?.kind ?? '?';

/**
 * Compares A's checkpoint (`from`) with B's own state (`to`, from the reference run): operators
 * by uid, keyed states by name, kinds and value shapes.
 */
export function compareStoredStates(from: StoredStates, to: StoredStates): StateCompatibility {
  const operators: Record<string, OperatorChange> = {};
  const issues: string[] = [];
  const droppedOperators: string[] = [];
  const uids = [...new Set([...Object.keys(from.operators), ...Object.keys(to.operators)])].sort();
  for (const uid of uids) {
    const a = from.operators[uid];
    const b = to.operators[uid];
    const names = [...new Set([...Object.keys(a?.keyed ?? {}), ...Object.keys(b?.keyed ?? {})])].sort();
    const states: Record<string, StateChange> = {};
    for (const name of names) {
      const change = compareState(a?.keyed[name], b ? b.keyed[name] : undefined);
      states[name] = change;
      if (!b) continue;
      if (change.status === 'dropped') issues.push(`state '${name}' of '${uid}' (${change.from?.entries} entries) is dropped: B's code never writes it`);
      if (change.status === 'kind-changed') issues.push(`state '${name}' of '${uid}' changed kind: ${describeKind(change.from)} in A, ${describeKind(change.to)} in B`);
      if (change.status === 'shape-changed') issues.push(`state '${name}' of '${uid}' changed shape: A stored ${change.from?.shapes.join(' | ')}, B stores ${change.to?.shapes.join(' | ')}`);
    }
    const status = a && b ? 'kept' : a ? 'dropped' : 'new';
    if (status === 'dropped') {
      droppedOperators.push(uid);
      const held = names.length > 0 ? `its state (${names.map((n) => `'${n}'`).join(', ')}) is dropped` : a?.operatorState ? 'its operator state is dropped' : 'it held no state';
      issues.push(`operator '${uid}' of A is gone in B: ${held}, and the handover needs allowNonRestoredState`);
    }
    operators[uid] = { status, states, operatorState: { from: a?.operatorState ?? false, to: b?.operatorState ?? false } };
  }
  return { fromCheckpoint: from.checkpointId, operators, droppedOperators, compatible: issues.length === 0, issues };
}

registerErrors(UpgradeNotContinuousError);

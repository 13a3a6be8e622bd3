// The promotion guard: asked with a deadline, its answer normalized; and the deployments' counters it compares.
import { type CheckpointMetadata, CheckpointNotFoundError, type CheckpointStorage, listCheckpoints, readMetadataSettled } from '../../checkpoint/index.ts';
import type { DeploymentMetrics, PromotionGuard, PromotionGuardContext } from '../../runtime/index.ts';
import { PromotionRefusedError } from '../errors.ts';
import type { GuardAnswer } from '../protocol/index.ts';
import { newestCompletedOf } from '../watcher/index.ts';

/**
 * Asks `guard` (none: promote) and waits at most `timeoutMs`. `true` or `{ ok: true }` promotes;
 * `{ ok: false, reason }` refuses with that reason; a guard that throws or answers anything else
 * refuses too, saying what it did. A guard still running at the deadline is a timeout (the
 * caller's policy decides); its late answer is ignored.
 *
 * @example const answer = await askGuard(options.promotionGuard, ctx, 30_000); // { kind: 'promote' }
 */
export async function askGuard(guard: PromotionGuard | undefined, ctx: PromotionGuardContext, timeoutMs: number): Promise<GuardAnswer> {
  if (!guard) return { kind: 'promote' };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<GuardAnswer>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout', timeoutMs }), timeoutMs);
  });
  const answered = (async (): Promise<GuardAnswer> => {
    try {
      return verdictAnswer(await guard(ctx));
    } catch (error) {
      return { kind: 'refused', reason: `the promotion guard threw: ${(error as Error)?.message ?? String(error)}` };
    }
  })();
  try {
    return await Promise.race([answered, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A guard's return value as an answer; anything but the two documented shapes refuses, naming what came back. */
export function verdictAnswer(verdict: unknown): GuardAnswer {
  if (verdict === true) return { kind: 'promote' };
  if (verdict === false) return { kind: 'refused', reason: 'the promotion guard answered false (no reason given)' };
  if (typeof verdict === 'object' && verdict !== null && 'ok' in verdict) {
    const v = verdict as { ok: unknown; reason?: unknown };
    if (v.ok === true) return { kind: 'promote' };
    if (v.ok === false) return { kind: 'refused', reason: typeof v.reason === 'string' && v.reason.length > 0 ? v.reason : 'the promotion guard refused (no reason given)' };
  }
  return { kind: 'refused', reason: `the promotion guard answered ${describe(verdict)}, not true or { ok: false, reason }` };
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/**
 * The running deployment's counters as its checkpoint recorded them (`progress`), or undefined
 * when it recorded none. Read from storage, so only finite non-negative numbers pass.
 *
 * @example predecessorMetrics(await readMetadata(storage, 41))?.operators.sum.recordsIn
 */
export function predecessorMetrics(metadata: CheckpointMetadata): (DeploymentMetrics & { readonly checkpointId: number }) | undefined {
  const progress = metadata.progress as unknown;
  if (typeof progress !== 'object' || progress === null) return undefined;
  const { at, operators } = progress as { at?: unknown; operators?: unknown };
  if (count(at) === undefined || typeof operators !== 'object' || operators === null) return undefined;
  const clean: Record<string, { recordsIn: number; recordsOut: number; lateRecordsDropped?: number }> = {};
  let late = 0;
  for (const [uid, raw] of Object.entries(operators as Record<string, unknown>)) {
    const op = raw as { recordsIn?: unknown; recordsOut?: unknown; lateRecordsDropped?: unknown } | null;
    const recordsIn = count(op?.recordsIn);
    const recordsOut = count(op?.recordsOut);
    if (recordsIn === undefined || recordsOut === undefined) continue;
    const dropped = count(op?.lateRecordsDropped);
    clean[uid] = { recordsIn, recordsOut, ...(dropped === undefined ? {} : { lateRecordsDropped: dropped }) };
    late += dropped ?? 0;
  }
  return { checkpointId: metadata.checkpointId, at: at as number, operators: clean, lateRecordsDropped: late, ...(metadata.lastRecordAt === undefined ? {} : { lastRecordAt: metadata.lastRecordAt }) };
}

/** A deployment's counters from its progress report (per operator uid). */
export function deploymentMetrics(at: number, operators: Readonly<Record<string, { recordsIn: number; recordsOut: number; lateRecordsDropped?: number }>>, lastRecordAt?: number): DeploymentMetrics {
  const clean: Record<string, { recordsIn: number; recordsOut: number; lateRecordsDropped?: number }> = {};
  let late = 0;
  for (const [uid, op] of Object.entries(operators)) {
    clean[uid] = { recordsIn: op.recordsIn, recordsOut: op.recordsOut, ...(op.lateRecordsDropped === undefined ? {} : { lateRecordsDropped: op.lateRecordsDropped }) };
    late += op.lateRecordsDropped ?? 0;
  }
  return { at, operators: clean, lateRecordsDropped: late, ...(lastRecordAt === undefined ? {} : { lastRecordAt }) };
}

/**
 * The running deployment's counters as of its newest completed checkpoint that recorded them, or
 * undefined (none yet, or it vanished while read).
 *
 * @example const a = await readPredecessorMetrics(jobStorage); a?.operators.events.recordsOut
 */
export async function readPredecessorMetrics(storage: CheckpointStorage): Promise<(DeploymentMetrics & { readonly checkpointId: number }) | undefined> {
  const newest = newestCompletedOf(await listCheckpoints(storage));
  if (newest === undefined) return undefined;
  try {
    return predecessorMetrics(await readMetadataSettled(storage, newest));
  } catch (error) {
    if (error instanceof CheckpointNotFoundError) return undefined;
    throw error;
  }
}

/** Reference data the hooks loaded, for a guard: undefined for a URI never loaded (or not a valid one). */
export function loadedReferenceData(loaded: (uri: string) => SharedArrayBuffer | undefined): (uri: string) => SharedArrayBuffer | undefined {
  return (uri) => {
    try {
      return loaded(uri);
    } catch {
      return undefined;
    }
  };
}

/** What the checkpoint handover's guard reports on the job handle ('handover' event, phase 'guard'). */
export interface GuardReport {
  readonly phase: 'guard';
  readonly at: number;
  readonly detail: string;
}

/**
 * The promotion guard of the checkpoint handover: asked once B's hooks and stage 1 ran, before B
 * announces itself (A is live); it sees A's counters and the reference data, no shadow sample (B
 * processed nothing yet). Resolves to promote; a refusal (or a timeout under `onGuardTimeout:
 * 'abort'`) throws a PromotionRefusedError, so B stops before A is asked anything.
 *
 * @example const check = checkpointGuard(options, { storage, jobId, referenceData, report }); await check?.();
 */
export function checkpointGuard(
  options: { readonly promotionGuard?: PromotionGuard; readonly guardTimeoutMs: number; readonly onGuardTimeout?: 'promote' | 'abort' },
  deps: { readonly storage: CheckpointStorage; readonly jobId: string; readonly referenceData: (uri: string) => SharedArrayBuffer | undefined; readonly report: (event: GuardReport) => void },
): (() => Promise<void>) | undefined {
  const guard = options.promotionGuard;
  if (!guard) return undefined;
  return async () => {
    const predecessor = await readPredecessorMetrics(deps.storage);
    const ctx: PromotionGuardContext = {
      mode: 'checkpoint',
      jobId: deps.jobId,
      sample: { total: 0, sinks: [] },
      successor: deploymentMetrics(Date.now(), {}),
      predecessor,
      referenceData: loadedReferenceData(deps.referenceData),
    };
    const answer = await askGuard(guard, ctx, options.guardTimeoutMs);
    const promote = answer.kind === 'promote' || (answer.kind === 'timeout' && options.onGuardTimeout === 'promote');
    deps.report({ phase: 'guard', at: Date.now(), detail: describeAnswer(answer, options.onGuardTimeout) });
    if (!promote) throw new PromotionRefusedError(answer.kind === 'refused' ? answer.reason : `the promotion guard did not answer within ${options.guardTimeoutMs} ms (onGuardTimeout: 'abort')`);
  };
}

/** One line for a guard's answer, as the 'guard' event reports it. */
export function describeAnswer(answer: GuardAnswer, onTimeout: 'promote' | 'abort' | undefined): string {
  if (answer.kind === 'promote') return 'promote';
  if (answer.kind === 'refused') return `refused: ${answer.reason}`;
  return `no answer within ${answer.timeoutMs} ms (onGuardTimeout: '${onTimeout ?? 'abort'}')`;
}

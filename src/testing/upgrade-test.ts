// upgradeTest: version A runs to a cut, hands over to version B through the real protocol, B runs on; continuity and state compatibility reported.
import * as z from 'zod';
import { scopeStorage } from '../checkpoint/scoped-storage.ts';
import { latestCompleted } from '../checkpoint/index.ts';
import { openStorage } from '../checkpoint/storage/open-storage.ts';
import type { JobResult } from '../runtime/index.ts';
import { parseOptions } from '../runtime/coordinator/run-options.ts';
import { JobConfigError } from '../runtime/index.ts';
import { isTerminal, type JobStatus } from '../runtime/lifecycle/job-status.ts';
import { isJobDefinition, type JobDefinition, type JobParam } from '../runtime/types.ts';
import { DEFAULT_MAX_PARALLELISM } from '../state/index.ts';
import { readStoredStates, type StoredStates } from './checkpoint-states.ts';
import type { TestCheckpoint, TestDriver, TestJobOptions } from './test-job.ts';
import { testJob } from './test-job.ts';
import { compareStoredStates, outputProblems, type PredecessorStep, type UpgradeHandover, type UpgradeOutput, type UpgradeReport } from './upgrade-report.ts';

/** One entry of a timed input: a record with its event time, or a watermark from the source. */
export type UpgradeInputEntry<T = unknown> = { readonly value: T; readonly timestamp: number } | { readonly watermark: number };

/** The input of one source uid: plain records (no event time), or `{ timed: [...] }` records with timestamps and watermarks. */
export type UpgradeInput<T = unknown> = readonly T[] | { readonly timed: ReadonlyArray<UpgradeInputEntry<T>> };

/** A version of the job, alone or with its own parallelism and params. */
export type UpgradeVersion = JobDefinition | { readonly job: JobDefinition; readonly parallelism?: number; readonly params?: Readonly<Record<string, JobParam>> };

/** Options of {@link upgradeTest}. */
export interface UpgradeTestOptions {
  /** Version A, the running deployment. */
  readonly from: UpgradeVersion;
  /** Version B, the upgrade. */
  readonly to: UpgradeVersion;
  /** Entries per source uid (every source of both versions is replaced by a test input). */
  readonly input: Readonly<Record<string, UpgradeInput>>;
  /** How many entries of each input A processes before the handover (default: half, rounded up); B processes the rest. */
  readonly handoverAfter?: number | Readonly<Record<string, number>>;
  /**
   * How many of A's entries come before A's checkpoint that B restores in stage 1 (default: half
   * of `handoverAfter`, rounded down); the rest of A's part reaches B as stage 2's delta.
   */
  readonly checkpointAfter?: number | Readonly<Record<string, number>>;
  /** Parallelism of both versions unless a version sets its own (default 1). */
  readonly parallelism?: number;
  readonly maxParallelism?: number;
  /** Params of both versions (a version's own params override them). */
  readonly params?: Readonly<Record<string, JobParam>>;
  /** Processing time when A starts; B continues A's clock. */
  readonly startTime?: number;
  readonly stateBackend?: 'lmdb' | 'heap';
  readonly watermarks?: 'per-batch' | 'periodic';
  readonly batchSize?: number;
  /** B's `allowNonRestoredState`, as the deployment would set it (default false: a restore refuses state of operators B lacks). */
  readonly allowNonRestoredState?: boolean;
  /** End the inputs after B's part, so bounded sources finish and end-of-input windows fire (default true). */
  readonly endInputs?: boolean;
  /** B's handover timeout (default 30 000 ms). */
  readonly timeoutMs?: number;
}

const Params = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
const Job = z.custom<JobDefinition>((v) => isJobDefinition(v), 'must be a job made with defineJob(...)');
const Version = z.union([Job, z.object({ job: Job, parallelism: z.number().int().min(1).max(256).optional(), params: Params.optional() }).strict()]);
const Count = z.union([z.number().int().min(0), z.record(z.string(), z.number().int().min(0))]);
const Entry = z.union([z.object({ value: z.unknown(), timestamp: z.number() }).strict(), z.object({ watermark: z.number() }).strict()]);

const UpgradeTestOptionsSchema = z
  .object({
    from: Version,
    to: Version,
    input: z.record(z.string(), z.union([z.array(z.unknown()), z.object({ timed: z.array(Entry) }).strict()])),
    handoverAfter: Count.optional(),
    checkpointAfter: Count.optional(),
    parallelism: z.number().int().min(1).max(256).default(1),
    maxParallelism: z.number().int().min(1).optional(),
    params: Params.default({}),
    startTime: z.number().int().optional(),
    stateBackend: z.enum(['lmdb', 'heap']).default('lmdb'),
    watermarks: z.enum(['per-batch', 'periodic']).default('per-batch'),
    batchSize: z.number().int().min(1).optional(),
    allowNonRestoredState: z.boolean().default(false),
    endInputs: z.boolean().default(true),
    timeoutMs: z.number().int().min(1).default(30_000),
  })
  .strict();

type Options = z.output<typeof UpgradeTestOptionsSchema>;
type Entry = { readonly kind: 'record'; readonly value: unknown; readonly timestamp?: number } | { readonly kind: 'watermark'; readonly watermark: number };

interface ResolvedVersion {
  readonly job: JobDefinition;
  readonly parallelism: number;
  readonly params: Readonly<Record<string, JobParam>>;
  readonly sinks: readonly string[];
}

/** Per input uid its entries and the two cuts: [0, checkpoint) A before its checkpoint, [checkpoint, handover) A after it, [handover, end) B. */
interface InputPlan {
  readonly uid: string;
  readonly entries: readonly Entry[];
  readonly checkpoint: number;
  readonly handover: number;
}

/** The three parts of the input: A before its checkpoint, A after it, B. */
type Part = 0 | 1 | 2;

function resolveVersion(v: Options['from'], o: Options): ResolvedVersion {
  const { job, parallelism, params } = isJobDefinition(v) ? { job: v, parallelism: undefined, params: undefined } : v;
  const resolved = { job, parallelism: parallelism ?? o.parallelism, params: { ...o.params, ...params } };
  const graph = job.buildGraph({ parallelism: resolved.parallelism, maxParallelism: o.maxParallelism ?? DEFAULT_MAX_PARALLELISM, params: resolved.params });
  return { ...resolved, sinks: graph.nodes.filter((n) => n.kind === 'sink').map((n) => n.uid) };
}

function countFor(count: Options['handoverAfter'], uid: string): number | undefined {
  return typeof count === 'number' ? count : count?.[uid];
}

function planInput(o: Options): InputPlan[] {
  return Object.entries(o.input).map(([uid, input]) => {
    const entries: Entry[] = Array.isArray(input)
      ? input.map((value) => ({ kind: 'record', value }))
      : (input as { timed: Array<{ value?: unknown; timestamp?: number; watermark?: number }> }).timed.map((e) =>
          e.watermark !== undefined ? { kind: 'watermark', watermark: e.watermark } : { kind: 'record', value: e.value, timestamp: e.timestamp },
        );
    const handover = countFor(o.handoverAfter, uid) ?? Math.ceil(entries.length / 2);
    const checkpoint = countFor(o.checkpointAfter, uid) ?? Math.floor(handover / 2);
    if (handover > entries.length) throw new JobConfigError('upgradeTest handoverAfter', `input '${uid}' has ${entries.length} entries, cannot hand over after ${handover}`);
    if (checkpoint > handover) throw new JobConfigError('upgradeTest checkpointAfter', `input '${uid}': A's checkpoint (after ${checkpoint}) must not come after the handover (after ${handover})`);
    return { uid, entries, checkpoint, handover };
  });
}

/** Pushes one part of every input, input by input in the order of `input`'s keys: the same pushes (so the same batches) in every run. */
async function feed(driver: TestDriver, plan: readonly InputPlan[], part: Part): Promise<void> {
  for (const p of plan) {
    const bounds = [0, p.checkpoint, p.handover, p.entries.length];
    const slice = p.entries.slice(bounds[part], bounds[part + 1]);
    let i = 0;
    while (i < slice.length) {
      const first = slice[i];
      if (first.kind === 'watermark') {
        await driver.input(p.uid).advanceWatermark(first.watermark);
        i++;
        continue;
      }
      // A run of records of the same sort goes in one push.
      const timed = first.timestamp !== undefined;
      let j = i;
      while (j < slice.length && slice[j].kind === 'record' && (slice[j] as { timestamp?: number }).timestamp !== undefined === timed) j++;
      const run = slice.slice(i, j) as Array<{ value: unknown; timestamp?: number }>;
      if (timed) await driver.input(p.uid).pushTimed(run.map((r) => ({ value: r.value, timestamp: r.timestamp! })));
      else await driver.input(p.uid).pushAll(run.map((r) => r.value));
      i = j;
    }
  }
}

function driverOptions(o: Options, v: ResolvedVersion): TestJobOptions {
  return {
    parallelism: v.parallelism,
    params: { ...v.params },
    stateBackend: o.stateBackend,
    watermarks: o.watermarks,
    ...(o.maxParallelism !== undefined ? { maxParallelism: o.maxParallelism } : {}),
    ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
  };
}

/** Turns of the event loop until `done` holds or `timeoutMs` passed (a bound on a protocol step, not a way to wait for one). */
async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return true;
}

/**
 * B's code over the same run: B at A's parallelism up to the cut (with A's checkpoint in
 * between), then restored from a checkpoint at the cut at B's parallelism for the rest. Returns
 * what it commits after the cut, and B's own state. Parallelism and the cut match the upgrade's,
 * so output whose timing depends on them (windows fired by per-subtask watermarks) falls on the
 * same side of the cut.
 */
async function runReference(o: Options, from: ResolvedVersion, to: ResolvedVersion, plan: readonly InputPlan[]): Promise<{ after: Map<string, unknown[]>; states: StoredStates }> {
  const first = await testJob(to.job, { ...driverOptions(o, { ...to, parallelism: from.parallelism }), ...(o.startTime !== undefined ? { startTime: o.startTime } : {}) });
  let cutCheckpoint: TestCheckpoint;
  try {
    await feed(first, plan, 0);
    await first.checkpoint();
    await feed(first, plan, 1);
    cutCheckpoint = await first.checkpoint();
  } finally {
    await first.close();
  }
  const cut = new Map(to.sinks.map((uid) => [uid, first.output(uid).committed.length]));
  const rest = await testJob(to.job, { ...driverOptions(o, to), restoreFrom: cutCheckpoint });
  try {
    await feed(rest, plan, 2);
    // B's state before the end of input fires what waits for it (windows): the most there is to compare.
    const last = await rest.checkpoint();
    const states = await readStoredStates(rest.storage, rest.handle.jobId, last.id, o.stateBackend);
    if (o.endInputs) await rest.finish();
    return { after: new Map(to.sinks.map((uid) => [uid, rest.output(uid).committed.slice(cut.get(uid))])), states };
  } finally {
    await rest.close();
  }
}

async function newestCheckpointOf(driver: TestDriver): Promise<number | undefined> {
  const storage = scopeStorage(openStorage(driver.storage), driver.handle.jobId);
  try {
    return await latestCompleted(storage);
  } finally {
    await storage.close();
  }
}

function errorInfo(error: unknown): NonNullable<UpgradeHandover['error']> {
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as { code?: unknown }).code;
  return { name: e.name, ...(typeof code === 'string' ? { code } : {}), message: e.message, cause: error };
}

/**
 * Tests an upgrade before it is deployed. Version A (`from`) runs over the first part of each
 * input (`handoverAfter`) with a checkpoint in between (`checkpointAfter`); then version B (`to`)
 * takes the job over through the real handover protocol, in this thread: B restores A's
 * checkpoint (stage 1), follows and announces itself, A takes its stop checkpoint and stands by,
 * B applies its delta (stage 2) and runs. B gets the rest of the input, takes its first
 * checkpoint (A ends SUSPENDED) and, with `endInputs`, finishes.
 *
 * Continuity is judged against a reference run of B's code over the same input, cut the same
 * way (A's parallelism up to the cut, a restore at B's parallelism after it): B's committed
 * output after the cut must equal the reference's (`report.continuous`, `report.problems`).
 * The state report compares A's checkpoint at the cut with B's state in the reference run:
 * operators by uid (kept, dropped: the real restore refuses them unless
 * `allowNonRestoredState`, new), keyed states by name (kept, dropped, new, kind or value shape
 * changed). It sees keyed state written over this input (a state registered but never written
 * leaves no trace), its kind and the structure of stored values ({@link shapeOf}); not timers,
 * non-keyed operator state beyond its presence, what a value means (a number that now counts
 * something else) or how B reads a value. The continuity check catches what the state report
 * cannot, as far as the input exercises it. When B fails, the report says how (refused before A
 * stopped, or rolled back after) instead of throwing.
 *
 * @example
 * const report = await upgradeTest({ from: v1, to: { job: v2, parallelism: 3 }, input: { clicks: ['a', 'b', 'a', 'c'] } });
 * expect(report.problems).toEqual([]);      // continuous: B went on as B's own state would have
 * expect(report.state.issues).toEqual([]);  // no operator or state dropped, no kind or shape changed
 * expect(report.outputs.out.fromA).toEqual(['v1:a#1', 'v1:b#1']);
 */
export async function upgradeTest(options: UpgradeTestOptions): Promise<UpgradeReport> {
  const o = parseOptions(UpgradeTestOptionsSchema, options);
  const from = resolveVersion(o.from, o);
  const to = resolveVersion(o.to, o);
  const plan = planInput(o);
  const reference = await runReference(o, from, to, plan);

  const a = await testJob(from.job, { ...driverOptions(o, from), ...(o.startTime !== undefined ? { startTime: o.startTime } : {}) });
  const predecessor: PredecessorStep[] = [];
  let stopAccepted = false;
  a.handle.on('handover', (e: { phase: string; at: number; checkpointId?: number; detail?: string }) => {
    predecessor.push({ phase: e.phase, at: e.at, checkpointId: e.checkpointId, detail: e.detail ?? '' });
  });
  a.handle.on('stop-request', (e: { accepted?: boolean }) => {
    if (e.accepted) stopAccepted = true;
  });
  let b: TestDriver | undefined;
  try {
    await feed(a, plan, 0);
    const before = await a.checkpoint();
    await feed(a, plan, 1);
    let failure: unknown;
    try {
      b = await testJob(to.job, { ...driverOptions(o, to), allowNonRestoredState: o.allowNonRestoredState, handover: { from: a, timeoutMs: o.timeoutMs } });
    } catch (error) {
      failure = error;
    }
    if (b) {
      // B runs once A's stop checkpoint completed; A's sinks commit it right after: A's output is whole then.
      await until(() => from.sinks.every((uid) => a.output(uid).uncommitted.length === 0), o.timeoutMs);
    } else if (stopAccepted) {
      // B failed after A stopped: A resumes by itself (the rollback) once it sees B's request withdrawn or expired.
      await until(() => (predecessor.some((s) => s.phase === 'rollback') && a.handle.status === 'RUNNING') || isTerminal(a.handle.status), o.timeoutMs);
    }
    // A went on (B refused, or A rolled back): its checkpoint commits its part of the input, as the stop checkpoint would have.
    if (!b && a.handle.status === 'RUNNING') await a.checkpoint();
    // B has taken no checkpoint yet: the newest one is A's (its stop checkpoint, or the one just taken when B failed).
    const fromCheckpoint = (await newestCheckpointOf(a)) ?? before.id;
    const state = compareStoredStates(await readStoredStates(a.storage, a.handle.jobId, fromCheckpoint, o.stateBackend), reference.states);
    const cut = new Map(from.sinks.map((uid) => [uid, a.output(uid).committed.length]));

    let result: JobResult | undefined;
    let fromStatus: JobStatus;
    if (b) {
      await feed(b, plan, 2);
      // B's first checkpoint ends its probation: A ends SUSPENDED.
      await b.checkpoint();
      await a.handle.done.catch(() => undefined);
      fromStatus = a.handle.status;
      if (o.endInputs) result = await b.finish();
      else {
        await b.close();
        result = await b.handle.done;
      }
    } else {
      fromStatus = a.handle.status;
    }

    const handover: UpgradeHandover = {
      outcome: b ? 'completed' : stopAccepted ? 'rolled-back' : 'refused',
      ...(failure !== undefined ? { error: errorInfo(failure) } : {}),
      checkpointBefore: before.id,
      ...(result?.handover ? { metrics: result.handover } : {}),
      predecessor,
      fromStatus,
    };
    const outputs: Record<string, UpgradeOutput> = {};
    for (const uid of [...new Set([...from.sinks, ...to.sinks])].sort()) {
      const log = b && to.sinks.includes(uid) ? b : from.sinks.includes(uid) ? a : undefined;
      const committed = log ? log.output(uid).committed : [];
      const at = cut.get(uid) ?? 0;
      outputs[uid] = { fromA: committed.slice(0, at), fromB: committed.slice(at), committed, referenceFromB: reference.after.get(uid) ?? [] };
    }
    const problems: string[] = [];
    if (handover.outcome !== 'completed') {
      const when = handover.outcome === 'refused' ? 'B failed before A stopped, A went on' : 'B failed after A stopped, A rolled back';
      problems.push(`the handover was ${handover.outcome}: ${when} (${handover.error?.name}${handover.error?.code ? ` ${handover.error.code}` : ''}: ${handover.error?.message})`);
    } else {
      for (const uid of to.sinks) problems.push(...outputProblems(uid, outputs[uid]));
    }
    return { outputs, handover, state, continuous: problems.length === 0, problems };
  } finally {
    await b?.close();
    await a.close();
  }
}

// A worker's side of checkpoints: snapshot keyed state at the barrier, upload chunks, ack; restore chains.
import { randomBytes } from 'node:crypto';
import type { CheckpointStorage } from '../../checkpoint/storage/types.ts';
import { Packr } from 'msgpackr';
import { CHANNEL_STATE_MAGIC, frameBody } from '../../checkpoint/checked-frame.ts';
import { CorruptCheckpointError } from '../../checkpoint/index.ts';
import { BatonInternalError } from '../errors.ts';
import { channelStateFileName, exclusiveKey, fileNamePart, sharedChunkKey, stateChunkId } from '../../checkpoint/index.ts';
import type { ChannelStateRef, ChunkRef, KeyGroupChain } from '../../checkpoint/index.ts';
import { readChunkEntries } from '../../state/index.ts';
import { isChunkedBackend, type KeyGroupRange, type StateChunk } from '../../state/index.ts';
import type { ChannelStateData, RestoredChannelState, Subtask, SubtaskSnapshotParts } from '../task/subtask.ts';
import { decodeSpillSegment, InFlightSpillLog, type SpillSettings } from './in-flight-spill-log.ts';
import { ChunkPrefetch, chunksToApply } from './chunk-prefetch.ts';
import { asCorruptCheckpoint, decodeStoredChannelState } from './stored-channel-state.ts';

// Channel state holds arbitrary records: keep Maps, Sets, bigints and dates as they were (useRecords
// also keeps Maps Maps).
const channelPackr = new Packr({ useRecords: true, moreTypes: true, useBigIntExtension: true });
import type { SubtaskAck } from './protocol.ts';

/** Encodes and decodes state chunks (the state layer's binary format). */
export interface ChunkCodec {
  encode(chunk: StateChunk): Uint8Array;
  decode(bytes: Uint8Array, name: string): StateChunk;
}

/** When a chain gets a new base instead of another delta. */
export interface MaterializationPolicy {
  /** Deltas after the base before a new base is written. */
  readonly maxDeltas: number;
  /** A new base once the deltas add up to this fraction of the base's bytes. */
  readonly maxDeltaBytesRatio: number;
}

export const DEFAULT_MATERIALIZATION: MaterializationPolicy = { maxDeltas: 10, maxDeltaBytesRatio: 1 };

/** Triggers remembered behind the newest (a subtask snapshots a checkpoint at most a few behind). */
const TRIGGERS_KEPT = 16;

const chainKey = (uid: string, range: KeyGroupRange) => `${uid}/${range.start}-${range.end}`;

/** Decides base or delta for the next chunk of a chain (pure). */
export function needsNewBase(chain: readonly ChunkRef[] | undefined, policy: MaterializationPolicy): boolean {
  if (!chain || chain.length === 0) return true;
  const base = chain[0];
  const deltas = chain.slice(1);
  if (deltas.length >= policy.maxDeltas) return true;
  const deltaBytes = deltas.reduce((a, c) => a + c.bytes, 0);
  return deltaBytes > Math.max(base.bytes, 1024) * policy.maxDeltaBytesRatio;
}


/** One chunk to upload: part of the chain (`chain`), or the delta stored next to a new base (`rebase`). */
interface Upload {
  readonly key: string;
  readonly uid: string;
  readonly range: KeyGroupRange;
  readonly chunk: StateChunk;
  readonly id: string;
  readonly replaces: boolean;
  readonly role: 'chain' | 'rebase';
  /** With `rebase`: the chain the delta applies to. */
  readonly from?: readonly string[];
}

export interface CheckpointSink {
  ack(id: number, task: string, ack: SubtaskAck): void;
  decline(id: number, task: string, reason: string): void;
}

export class WorkerCheckpoints {
  /** The current chain of every (operator, key-group range) on this worker. */
  private readonly chains = new Map<string, ChunkRef[]>();
  /** Chains whose last upload failed: their next chunk must be a base. */
  private readonly broken = new Set<string>();
  /** Chains with an upload in flight: a snapshot taken meanwhile cannot build on it. */
  private readonly uploading = new Set<string>();
  /**
   * Per chain: the checkpoint of its newest snapshot. Only that snapshot's upload may change the
   * chain: an older one that finishes late (its checkpoint timed out, its request was retried)
   * would otherwise append a stale delta after a newer base, and a restore would apply it last.
   */
  private readonly newestSnapshot = new Map<string, number>();
  /**
   * The checkpoints whose trigger reached this worker, each with whether it ends the job (a
   * stop-with-checkpoint). Kept for the recent ones: every subtask snapshots at its own time.
   */
  private readonly triggers = new Map<number, boolean>();
  /** Per `checkpoint/chain key`: the delta stored alongside a new base (see KeyGroupChain.rebased). */
  private readonly rebasedKeys = new Map<string, { from: readonly string[]; delta: ChunkRef[] }>();
  /** Handover: the chunk ids applied so far per (operator, chain range) of the job being followed. */
  private readonly followed = new Map<string, string[]>();
  /** Handover: chunks of passed-over checkpoints downloaded ahead of stage 2. */
  private readonly prefetch = new ChunkPrefetch();
  /** Continuous spilling: the in-flight log of each subtask with inputs. */
  private readonly logs = new Map<Subtask, InFlightSpillLog>();

  constructor(
    private readonly storage: CheckpointStorage,
    private readonly codec: ChunkCodec,
    private readonly out: CheckpointSink,
    private readonly policy: MaterializationPolicy = DEFAULT_MATERIALIZATION,
    private readonly spill?: SpillSettings,
  ) {}

  /**
   * The coordinator triggered checkpoint `id`; `stop`: it ends the job (a stop-with-checkpoint, e.g.
   * a handover's stop checkpoint), which is on the critical path of the cutover, so it writes
   * deltas only, never a new base.
   */
  noteTrigger(id: number, stop: boolean): void {
    for (const old of this.triggers.keys()) if (old < id - TRIGGERS_KEPT) this.triggers.delete(old);
    this.triggers.set(id, stop);
  }

  /**
   * Whether a chain that is due for a new base gets it at checkpoint `id`. Only when this worker
   * knows `id` does not end the job: a barrier travels on a channel from another worker, and can
   * arrive before the coordinator's trigger reaches this worker's control port; a stop checkpoint
   * that materialized there (seen: a new base written inside a handover's downtime) is worse than
   * one checkpoint more of delta. Past twice the policy's deltas the chain is rebased all the same,
   * unless `id` is known to end the job.
   */
  private mayRebase(id: number, chain: readonly ChunkRef[]): boolean {
    const stop = this.triggers.get(id);
    if (stop !== undefined) return !stop;
    return chain.length - 1 >= 2 * this.policy.maxDeltas;
  }

  /** Continuous spilling: the log persisting `subtask`'s input as it arrives (none when spilling at the barrier). */
  createInFlightLog(subtask: Subtask): InFlightSpillLog | undefined {
    if (!this.spill) return undefined;
    const log = new InFlightSpillLog(this.storage, `${fileNamePart(subtask.task.operators[0].uid)}-${subtask.subtaskIndex}`, this.spill);
    this.logs.set(subtask, log);
    return log;
  }

  /** The job ends on this worker: spilled segments no checkpoint refers to are deleted. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.logs.values()].map((log) => log.close()));
    this.logs.clear();
  }

  /**
   * Synchronous part (at the barrier): take each keyed backend's chunk; then upload in the
   * background and acknowledge. Processing goes on meanwhile.
   */
  onSnapshot(subtask: Subtask, checkpointId: number, parts: SubtaskSnapshotParts): void {
    const started = performance.now();
    const task = `${subtask.task.id}/${subtask.subtaskIndex}`;
    const uploads: Upload[] = [];
    const operators: Array<{ uid: string; state: unknown; keyed: KeyGroupChain[] }> = [];
    for (const part of parts.operators) {
      const keyed: KeyGroupChain[] = [];
      const backend = part.keyedState;
      if (backend) {
        if (!isChunkedBackend(backend)) throw new BatonInternalError(`keyed state of operator '${part.uid}' cannot be checkpointed`);
        const range = backend.keyGroupRange;
        const key = chainKey(part.uid, range);
        const chain = this.chains.get(key);
        const clean = chain !== undefined && chain.length > 0 && backend.alwaysBase !== true && !this.broken.has(key) && !this.uploading.has(key);
        const base = !clean || (needsNewBase(chain, this.policy) && this.mayRebase(checkpointId, chain));
        // A delta is always taken: it clears the backend's record of what changed.
        const delta = backend.snapshotDelta();
        const chunks = base ? [backend.snapshotBase()] : delta;
        // A materialization of a clean chain also stores the delta since its last checkpoint, so a
        // follower at that chain applies the delta instead of loading the new base.
        const rebase = base && clean ? { from: chain.map((r) => r.id), delta } : undefined;
        if (chunks.length > 0 || rebase) {
          this.uploading.add(key);
          this.newestSnapshot.set(key, checkpointId);
        }
        const upload = (chunk: StateChunk, role: Upload['role']) => {
          const id = stateChunkId(part.uid, range.start, range.end, checkpointId, chunk.kind, randomBytes(4).toString('hex'));
          uploads.push({ key, uid: part.uid, range, chunk, id, replaces: base, role, from: rebase?.from });
        };
        for (const chunk of chunks) upload(chunk, 'chain');
        for (const chunk of rebase?.delta ?? []) upload(chunk, 'rebase');
        if (rebase && rebase.delta.length === 0) this.rebasedKeys.set(`${checkpointId}/${key}`, { from: rebase.from, delta: [] });
        keyed.push({ range, chain: [] });
      }
      operators.push({ uid: part.uid, state: part.state, keyed });
    }
    const syncMs = performance.now() - started;
    const alignment = { unaligned: parts.unaligned === true, alignmentMs: parts.alignmentMs ?? 0, lastRecordAt: parts.lastRecordAt ?? 0 };
    void this.upload(checkpointId, task, subtask, operators, uploads, syncMs, alignment, parts.channelState);
  }

  private async upload(
    checkpointId: number,
    task: string,
    subtask: Subtask,
    operators: Array<{ uid: string; state: unknown; keyed: KeyGroupChain[] }>,
    uploads: Upload[],
    syncMs: number,
    alignment: { unaligned: boolean; alignmentMs: number; lastRecordAt: number },
    channelState?: Promise<ChannelStateData>,
  ): Promise<void> {
    const started = performance.now();
    let stateBytes = 0;
    let channelRef: ChannelStateRef | undefined;
    let spilledBytes = 0;
    const log = this.logs.get(subtask);
    let floorSeq: number | undefined;
    // A sink's pre-commit may finish asynchronously (PREPARE TRANSACTION in a database): awaited
    // alongside the uploads, and the checkpoint is acknowledged only once it has; a failure declines it.
    const preCommitted = Promise.all(
      operators.map(async (op) => {
        if (op.state instanceof Promise) op.state = await op.state;
      }),
    );
    preCommitted.catch(() => undefined);
    try {
      if (channelState) {
        const data = await channelState;
        floorSeq = data.floorSeq;
        const head = subtask.task.operators[0].uid;
        const file = channelStateFileName(head, subtask.subtaskIndex);
        let content: unknown = { input: data.input, output: data.output };
        let segments: string[] | undefined;
        if (log && data.floorSeq !== undefined) {
          // Continuous spilling: the input is already in the log; completion only flushes it.
          await log.flush();
          const input = [];
          for (const item of data.input) {
            if (!('seq' in item)) continue;
            const at = log.locate(item.seq);
            if (at) input.push({ channel: item.channel, segment: at.segment, index: at.index, from: item.from });
          }
          segments = [...new Set(input.map((i) => i.segment))].sort();
          log.markReferenced(segments);
          content = { spilled: input, output: data.output };
        }
        // Checksummed: a bit flip in stored in-flight records must fail the restore, not replay wrong data.
        const bytes = frameBody(CHANNEL_STATE_MAGIC, channelPackr.pack(content));
        await this.storage.put(exclusiveKey(checkpointId, file), bytes);
        channelRef = { uid: head, subtaskIndex: subtask.subtaskIndex, file, bytes: bytes.length, ...(segments && segments.length > 0 ? { segments } : {}) };
      }
      if (log) spilledBytes = log.takeWrittenBytes();
      const refs = await Promise.all(
        uploads.map(async (u) => {
          const bytes = this.codec.encode(u.chunk);
          await this.storage.put(sharedChunkKey(u.id), bytes);
          stateBytes += bytes.length;
          const ref: ChunkRef = { id: u.id, kind: u.chunk.kind, bytes: bytes.length, entries: u.chunk.entries.length };
          return { ...u, ref };
        }),
      );
      await preCommitted;
      for (const r of refs) {
        if (r.role === 'rebase') {
          const entry = this.rebasedKeys.get(`${checkpointId}/${r.key}`) ?? { from: r.from ?? [], delta: [] };
          this.rebasedKeys.set(`${checkpointId}/${r.key}`, { from: entry.from, delta: [...entry.delta, r.ref] });
          continue;
        }
        // A newer snapshot of this chain exists: it already rebuilt the chain without this chunk.
        if (this.newestSnapshot.get(r.key) !== checkpointId) continue;
        this.chains.set(r.key, r.replaces ? [r.ref] : [...(this.chains.get(r.key) ?? []), r.ref]);
        this.broken.delete(r.key);
      }
    } catch (error) {
      if (log && floorSeq !== undefined) void log.release(checkpointId, floorSeq).catch(() => undefined);
      for (const u of uploads) this.rebasedKeys.delete(`${checkpointId}/${u.key}`);
      for (const u of uploads) this.broken.add(u.key);
      for (const u of uploads) if (this.newestSnapshot.get(u.key) === checkpointId) this.uploading.delete(u.key);
      this.out.decline(checkpointId, task, `state upload failed: ${(error as Error).message ?? String(error)}`);
      return;
    }
    for (const u of uploads) if (this.newestSnapshot.get(u.key) === checkpointId) this.uploading.delete(u.key);
    // Segments older than this checkpoint's floor that it did not refer to can go now.
    if (log && floorSeq !== undefined) void log.release(checkpointId, floorSeq).catch(() => undefined);
    for (const op of operators) {
      op.keyed = op.keyed.map((k) => {
        const key = chainKey(op.uid, k.range);
        const rebased = this.rebasedKeys.get(`${checkpointId}/${key}`);
        this.rebasedKeys.delete(`${checkpointId}/${key}`);
        return { range: k.range, chain: [...(this.chains.get(key) ?? [])], ...(rebased ? { rebased } : {}) };
      });
    }
    this.out.ack(checkpointId, task, {
      taskId: subtask.task.id,
      subtaskIndex: subtask.subtaskIndex,
      operators,
      stateBytes,
      syncMs,
      asyncMs: performance.now() - started,
      channelState: channelRef,
      channelStateBytes: channelRef?.bytes ?? 0,
      spilledBytes,
      ...alignment,
    });
  }

  /**
   * Unaligned restore: downloads a subtask's channel state, to replay before new input. A missing
   * or damaged file (or spilled segment) is a CorruptCheckpointError naming it; a segment the
   * metadata does not list is a HostileCheckpointError.
   */
  async readChannelState(checkpointId: number, ref: ChannelStateRef): Promise<RestoredChannelState> {
    const key = exclusiveKey(checkpointId, ref.file);
    const jobDir = this.storage.uri;
    const bytes = await this.storage.get(key).catch((error: unknown) => {
      throw asCorruptCheckpoint(error, key, checkpointId, jobDir);
    });
    const stored = decodeStoredChannelState(bytes, (body) => channelPackr.unpack(body), { checkpointId, ref, jobDir });
    if (!stored.spilled) return stored as RestoredChannelState;
    // Continuous spilling: the input lives in spilled segments (each downloaded once).
    const segments = new Map<string, Promise<ReturnType<typeof decodeSpillSegment>>>();
    const segment = (id: string) => {
      let batches = segments.get(id);
      if (!batches) {
        const segmentKey = sharedChunkKey(id);
        batches = this.storage
          .get(segmentKey)
          .then((data) => decodeSpillSegment(data, id))
          .catch((error: unknown) => {
            throw asCorruptCheckpoint(error, segmentKey, checkpointId, jobDir);
          });
        segments.set(id, batches);
      }
      return batches;
    };
    const input = await Promise.all(
      stored.spilled.map(async (s) => {
        const batch = (await segment(s.segment))[s.index];
        if (!batch) {
          const detail = `channel state ${ref.file} of checkpoint ${checkpointId} refers to batch ${s.index} of spilled segment ${s.segment}, which has none`;
          throw new CorruptCheckpointError(key, 'body', detail, jobDir, { checkpointId });
        }
        const values = s.from > 0 ? batch.values.slice(s.from) : batch.values;
        const timestamps = batch.timestamps && s.from > 0 ? batch.timestamps.slice(s.from) : batch.timestamps;
        return { channel: s.channel, batch: { values, timestamps } };
      }),
    );
    return { input, output: stored.output };
  }

  /**
   * Handover (stage 1, following, stage 2): brings the backend to the state of these chains by
   * applying only the chunks not applied before. A chain that no longer starts with what was
   * applied (a materialization gave it a new base) reloads just its key-group range.
   */
  async followKeyed(
    subtask: Subtask,
    uid: string,
    chains: readonly KeyGroupChain[],
    /**
     * Stage 2: deltas go to the backend's restored layer (visible now, written to LMDB in the
     * background; the chain set below references them, so B's first checkpoint does not store
     * them again). `checkpointId` names the checkpoint in errors.
     */
    options: { overlay?: boolean; checkpointId?: number } = {},
  ): Promise<{ chunks: number; bytes: number; reloads: number }> {
    const backend = subtask.keyedStateOf(uid);
    if (!backend || chains.length === 0) return { chunks: 0, bytes: 0, reloads: 0 };
    if (!isChunkedBackend(backend)) throw new BatonInternalError(`keyed state of operator '${uid}' cannot be restored`);
    const steps = chains.map((c) => {
      const key = chainKey(uid, c.range);
      const applied = this.followed.get(key) ?? [];
      // A new base written from exactly the chain we hold: its delta gets us there without a reload.
      const { todo, replace } = chunksToApply(c, applied);
      return { chain: c, key, todo, replace, hadState: applied.length > 0 };
    });
    let bytes = 0;
    const downloaded = await Promise.all(
      steps.map((step) =>
        Promise.all(
          step.todo.map(async (ref) => {
            const data = await this.getChunk(ref.id, options.checkpointId);
            bytes += data.length;
            return { data, id: ref.id };
          }),
        ),
      ),
    );
    steps.forEach((step, i) => {
      if (step.todo.length > 0 || step.replace) {
        const clear = step.replace ? step.chain.range : null;
        const id = options.checkpointId;
        if (options.overlay && !step.replace && backend.applyToOverlay) backend.applyToOverlay(this.decodeChunks(downloaded[i], readChunkEntries, id));
        else if (backend.restoreEncoded) backend.restoreEncoded(this.decodeChunks(downloaded[i], readChunkEntries, id), clear);
        else backend.applyChunks(this.decodeChunks(downloaded[i], (data, name) => this.codec.decode(data, name), id), clear ?? undefined);
      }
      this.followed.set(step.key, step.chain.chain.map((r) => r.id));
    });
    const same = chains.length === 1 && chains[0].range.start === backend.keyGroupRange.start && chains[0].range.end === backend.keyGroupRange.end;
    if (same) this.chains.set(chainKey(uid, backend.keyGroupRange), [...chains[0].chain]);
    // Ranges loaded from a base although something was applied before (the first load is not one).
    const reloads = steps.filter((s) => s.replace && s.hadState).length;
    return { chunks: steps.reduce((a, s) => a + s.todo.length, 0), bytes, reloads };
  }

  /**
   * Handover, while B waits for the stop checkpoint: starts downloading the chunks of these chains
   * that following has not applied (a checkpoint B passed over), so stage 2 takes them from memory
   * instead of fetching them inside the downtime. Nothing is applied; a failed download is left to
   * stage 2 to fetch (and report) again.
   */
  prefetchKeyed(uid: string, chains: readonly KeyGroupChain[]): number {
    let started = 0;
    for (const c of chains) {
      for (const ref of chunksToApply(c, this.followed.get(chainKey(uid, c.range)) ?? []).todo) {
        if (this.prefetch.start(ref, () => this.storage.get(sharedChunkKey(ref.id)))) started++;
      }
    }
    return started;
  }

  /** Stage 2 is done: prefetched chunks it did not take are not needed any more. */
  endPrefetch(): void {
    this.prefetch.clear();
  }

  /** A chunk of checkpoint `checkpointId` (prefetched, or fetched now); missing is a CorruptCheckpointError naming it (decoding errors are mapped by the caller). */
  private async getChunk(id: string, checkpointId: number | undefined): Promise<Uint8Array> {
    const prefetched = await this.prefetch.take(id);
    if (prefetched) return prefetched;
    const key = sharedChunkKey(id);
    return this.storage.get(key).catch((error: unknown) => {
      throw checkpointId === undefined ? error : asCorruptCheckpoint(error, key, checkpointId, this.storage.uri);
    });
  }

  /** Decodes chunks, turning a corrupt one into a CorruptCheckpointError naming the checkpoint and the chunk. */
  private decodeChunks<T>(downloaded: ReadonlyArray<{ data: Uint8Array; id: string }>, decode: (data: Uint8Array, id: string) => T, checkpointId: number | undefined): T[] {
    return downloaded.map((d) => {
      try {
        return decode(d.data, d.id);
      } catch (error) {
        throw checkpointId === undefined ? error : asCorruptCheckpoint(error, sharedChunkKey(d.id), checkpointId, this.storage.uri);
      }
    });
  }

  /** Downloads the chains (in parallel) and rebuilds the backend; the chains continue from here. */
  async restoreKeyed(subtask: Subtask, uid: string, chains: readonly KeyGroupChain[], checkpointId?: number): Promise<void> {
    const backend = subtask.keyedStateOf(uid);
    if (!backend || chains.length === 0) return;
    if (!isChunkedBackend(backend)) throw new BatonInternalError(`keyed state of operator '${uid}' cannot be restored`);
    const downloaded = await Promise.all(chains.map((c) => Promise.all(c.chain.map(async (ref) => ({ data: await this.getChunk(ref.id, checkpointId), id: ref.id })))));
    // Straight from the bytes where the backend can (LMDB): no decoded entry objects.
    if (backend.restoreEncoded) backend.restoreEncoded(this.decodeChunks(downloaded.flat(), readChunkEntries, checkpointId), backend.keyGroupRange);
    else backend.restoreChunks(this.decodeChunks(downloaded.flat(), (data, id) => this.codec.decode(data, id), checkpointId));
    // Continue the chain only when the range is unchanged; otherwise start from a new base.
    const same = chains.length === 1 && chains[0].range.start === backend.keyGroupRange.start && chains[0].range.end === backend.keyGroupRange.end;
    if (same) this.chains.set(chainKey(uid, backend.keyGroupRange), [...chains[0].chain]);
  }
}

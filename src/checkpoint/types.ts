// Shared types of checkpointing: what a checkpoint's metadata records and how its status is read.
import type { KeyGroupRange } from '../state/index.ts';

/** CORRUPT: `_metadata` exists but fails its checks (only reported when asked to verify). */
export type CheckpointStatus = 'COMPLETED' | 'CORRUPT' | 'FAILED' | 'IN_PROGRESS' | 'UNKNOWN';

/** An immutable keyed-state chunk under `shared/`: a full base or the delta since the previous chunk. */
export interface ChunkRef {
  /** File name under `<job-dir>/shared/`. */
  readonly id: string;
  readonly kind: 'base' | 'delta';
  readonly bytes: number;
  /** Entries written, tombstones included. */
  readonly entries: number;
}

/** The chain that rebuilds one key-group range: a base followed by deltas, oldest first. */
export interface KeyGroupChain {
  readonly range: KeyGroupRange;
  readonly chain: readonly ChunkRef[];
  /**
   * The chain got a new base at this checkpoint (materialization). A reader holding exactly the
   * chain `from` (chunk ids) reaches the same state by applying `delta` instead of the new base:
   * a handover following the job never reloads a range because of a materialization.
   */
  readonly rebased?: { readonly from: readonly string[]; readonly delta: readonly ChunkRef[] };
}

/** Everything one operator saved in a checkpoint. */
export interface OperatorSnapshot {
  readonly uid: string;
  readonly parallelism: number;
  /** Keyed state, per key-group range (one range per subtask at the time of the snapshot). */
  readonly keyed: readonly KeyGroupChain[];
  /** Small non-keyed state per subtask (source splits, staged sink transactions), inline. */
  readonly subtasks: ReadonlyArray<{ readonly subtaskIndex: number; readonly state: unknown }>;
}

/** Contents of `chk-<n>/_metadata` (after the header). */
export interface CheckpointMetadata {
  readonly jobId: string;
  readonly checkpointId: number;
  readonly triggeredAt: number;
  readonly completedAt: number;
  readonly maxParallelism: number;
  readonly operators: readonly OperatorSnapshot[];
  /** Exclusive files of this checkpoint under `chk-<n>/` (channel state, large operator state). */
  readonly exclusiveFiles: readonly string[];
  /** Unaligned checkpoints: in-flight data per subtask (named by its first operator's uid), in an exclusive file. */
  readonly channelState?: readonly ChannelStateRef[];
  /** Per subtask (named by its first operator's uid): how it took the checkpoint, for inspection. */
  readonly taskStats?: readonly TaskStats[];
  /** When the job last processed a record before this checkpoint (epoch ms): where a handover's downtime starts. */
  readonly lastRecordAt?: number;
  /** Taken by a stop-with-checkpoint: the job ended right after it, so another deployment may take over here. */
  readonly endsJob?: boolean;
  /** The run that wrote this checkpoint (`JobHandle.runId`). */
  readonly runId?: string;
  /**
   * The checkpoint whose state this one continues in its writer's chain: the one the run restored,
   * then the run's previous completed one. A completed checkpoint with an id between this and
   * `checkpointId` was written by another run: the ownership fence's evidence.
   */
  readonly previousCheckpoint?: number;
  /** Only on a stop checkpoint written for a handover: the run allowed to take over from it. */
  readonly nextOwner?: string;
  /**
   * The writer's counters when it wrote this checkpoint, for inspection (a shadow deployment's
   * promotion guard compares them with its own). Informational: readers check its values before use.
   */
  readonly progress?: CheckpointProgress;
}

/** A job's counters as of one of its checkpoints: per operator uid, summed over subtasks, since the run's attempt started. */
export interface CheckpointProgress {
  /** When the counters were last reported by the workers (epoch ms). */
  readonly at: number;
  readonly operators: Readonly<Record<string, { readonly recordsIn: number; readonly recordsOut: number; readonly lateRecordsDropped?: number }>>;
}

export interface TaskStats {
  readonly uid: string;
  readonly subtaskIndex: number;
  readonly unaligned: boolean;
  readonly alignmentMs: number;
  readonly syncMs: number;
  readonly asyncMs: number;
  readonly stateBytes: number;
  readonly channelStateBytes: number;
  /** Continuous spilling: in-flight input written since the subtask's previous checkpoint. */
  readonly spilledBytes?: number;
}

/** Where one subtask's channel state (overtaken input and output batches) is stored. */
export interface ChannelStateRef {
  readonly uid: string;
  readonly subtaskIndex: number;
  readonly file: string;
  readonly bytes: number;
  /** Continuous spilling: shared chunks (spilled input segments) the file refers to. */
  readonly segments?: readonly string[];
}

// Helpers of the corruption suite: copies of real job directories, crafted metadata with a valid
// checksum, a restore probe that runs the real restore checks, and a victim directory to watch.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { crc32 } from '../../src/checkpoint/metadata/crc32.ts';
import { METADATA_HEADER_BYTES, METADATA_MAGIC, METADATA_MSGPACK_OPTIONS, METADATA_VERSION } from '../../src/checkpoint/metadata/metadata-codec.ts';
import type { CheckpointStorage } from '../../src/checkpoint/storage/types.ts';
import type { CheckpointMetadata } from '../../src/checkpoint/types.ts';
import { type ResolvedRestore, resolveRestore } from '../../src/runtime/coordinator/job-controller.ts';
import { checkRestoreAgainstJob } from '../../src/runtime/coordinator/restore-checks.ts';
import type { JobGraph } from '../../src/runtime/types.ts';
import type { Subtask } from '../../src/runtime/task/subtask.ts';
import { WorkerCheckpoints } from '../../src/runtime/worker/worker-checkpoints.ts';
import { stateChunkCodec } from '../../src/runtime/worker/worker-state-backends.ts';
import type { KeyGroupRange, StateChunk } from '../../src/state/types.ts';
import { jobUrl } from './helpers.ts';

const packr = new Packr(METADATA_MSGPACK_OPTIONS);

/**
 * A `_metadata` file holding `value` with a correct header and checksum, as a hostile writer
 * would make it: nothing but the reader's own checks stands between it and a restore.
 */
export function craftMetadata(value: unknown, version = METADATA_VERSION): Uint8Array {
  const body = packr.pack(value);
  const out = new Uint8Array(METADATA_HEADER_BYTES + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, METADATA_MAGIC);
  view.setUint16(4, version);
  view.setUint32(8, body.length);
  view.setUint32(12, crc32(body));
  out.set(body, METADATA_HEADER_BYTES);
  return out;
}

/** The decoded body of a `_metadata` file, without any check (to be changed and crafted again). */
export function rawMetadata(bytes: Uint8Array): CheckpointMetadata {
  return packr.unpack(bytes.subarray(METADATA_HEADER_BYTES)) as CheckpointMetadata;
}

type DeepMutable<T> = T extends object ? { -readonly [K in keyof T]: DeepMutable<T[K]> } : T;

/** A deep copy the cases may edit (readonly removed all the way down). */
export function mutable<T>(value: T): DeepMutable<T> {
  return packr.unpack(packr.pack(value)) as DeepMutable<T>;
}

/** The graph the job module builds, as runJob builds it (for the coordinator's restore checks). */
export async function jobGraph(name: string, params: Record<string, string | number | boolean>, parallelism: number): Promise<JobGraph> {
  const module = (await import(jobUrl(name).href)) as { default: { buildGraph(o: { parallelism: number; maxParallelism: number; params: typeof params }): JobGraph } };
  return module.default.buildGraph({ parallelism, maxParallelism: 128, params });
}

const UNUSED_SINK = { ack() {}, decline() {} };

/**
 * Stands in for a keyed backend only to receive what the real chunk download and decoding yield
 * (no operator state is built from it).
 */
function receivingBackend(range: KeyGroupRange, received: StateChunk[]): Subtask {
  const backend = {
    keyGroupRange: range,
    snapshotDelta: () => [],
    snapshotBase: () => ({ kind: 'base', range, entries: [] }),
    restoreChunks: (chunks: readonly StateChunk[]) => received.push(...chunks),
    applyChunks: (chunks: readonly StateChunk[]) => received.push(...chunks),
  };
  return { keyedStateOf: () => backend } as unknown as Subtask;
}

/**
 * What a restore does before state reaches operators, without starting workers: the coordinator
 * resolves `mode` and checks the checkpoint against the job; then the worker code reads each
 * channel-state file (with its spilled segments) and downloads and decodes every keyed-state
 * chunk. Throws what the restore would throw.
 */
export async function probeRestore(storage: CheckpointStorage, graph: JobGraph, mode: 'latest' | 'latest-valid' | number): Promise<ResolvedRestore> {
  const resolved = await resolveRestore(storage, mode, checkRestoreAgainstJob(graph, storage.uri));
  const meta = resolved.metadata;
  if (meta) {
    const worker = new WorkerCheckpoints(storage, stateChunkCodec, UNUSED_SINK);
    for (const ref of meta.channelState ?? []) await worker.readChannelState(meta.checkpointId, ref);
    // Every keyed-state chain, downloaded and decoded by the worker's restore code.
    for (const op of meta.operators) {
      for (const chain of op.keyed) {
        const received: StateChunk[] = [];
        await worker.restoreKeyed(receivingBackend(chain.range, received), op.uid, [chain], meta.checkpointId);
        if (received.length !== chain.chain.length) throw new Error(`chain of '${op.uid}' restored ${received.length} of ${chain.chain.length} chunks`);
      }
    }
  }
  return resolved;
}

/** Every file under `dir` with its bytes and mtime, to show nothing there was touched. */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (at: string, rel: string) => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path, `${rel}${name}/`);
      else out[`${rel}${name}`] = `${stat.mtimeMs}:${readFileSync(path).toString('base64')}`;
    }
  };
  walk(dir, '');
  return out;
}

/** A victim directory beside the job's directories, with files a path escape would reach. */
export function plantVictim(caseDir: string): string {
  const victim = join(caseDir, 'victim');
  mkdirSync(victim, { recursive: true });
  writeFileSync(join(victim, 'secret'), 'top secret\n');
  writeFileSync(join(victim, 'secret-0.pending'), 'not part of any sink\n');
  writeFileSync(join(victim, 'passwd'), 'root:x:0:0\n');
  return victim;
}

/** Copies a job directory (checkpoints) and its sink output into a fresh case directory. */
export function copyJob(from: { checkpoints: string; output: string }, to: { checkpoints: string; output: string }): void {
  cpSync(from.checkpoints, to.checkpoints, { recursive: true });
  if (existsSync(from.output)) cpSync(from.output, to.output, { recursive: true });
}

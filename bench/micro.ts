// Micro suite: tinybench figures for the hot paths (batch codec, key-group hashing, keyed state on LMDB and heap, delta chunks).
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RootDatabase } from 'lmdb';
import { Bench, type FnOptions, type Task } from 'tinybench';
import { BatchDecoder, BatchEncoder, type WireMessage } from '../src/runtime/channels/batch-codec.ts';
import { HeapKeyedStateBackend } from '../src/state/heap/heap-keyed-state-backend.ts';
import { hashKey, keyGroupFor, keyGroupForHash } from '../src/state/key-groups.ts';
import { LmdbKeyedStateBackend, openStateEnvironment } from '../src/state/lmdb/lmdb-keyed-state-backend.ts';
import { type DeltaChunk, decodeChunk, encodeChunk } from '../src/state/snapshot/delta-chunk.ts';
import type { KeyedStateBackend, ValueState } from '../src/state/types.ts';
import type { SuiteOptions } from './suite.ts';

const RESULTS_DIR = new URL('./results/', import.meta.url);
const RESULTS_FILE = new URL('./micro.json', RESULTS_DIR);

const MAX_PARALLELISM = 128;
const FULL_RANGE = { start: 0, end: MAX_PARALLELISM - 1 };
const BATCH_SIZE = 1024;
const HASH_KEYS = 65_536;
/** Keys of the hot set: a few thousand active keys, well inside the LMDB overlay (default 500 000 entries). */
const HOT_KEYS = 10_000;
/** State operations per tinybench iteration. */
const STATE_OPS = 10_000;
/** MapState: user keys × map keys per user key (160 000 entries, inside the overlay). */
const MAP_USER_KEYS = 20_000;
const MAP_KEYS_PER_USER = 8;
/** Keys changed before each snapshot (1% of the full-run large set, as the checkpoint suite's 1% churn). */
const SNAPSHOT_CHANGED = 10_000;
const CHUNK_KEYS = 100_000;

interface TaskSpec {
  /** Unit operations per tinybench iteration (records, keys, state ops, entries). */
  ops: number;
  unitNote: string;
  /** Encoded bytes per iteration, for MB/s. */
  bytes?: number;
}

interface TaskReport {
  name: string;
  ops_per_sec: number;
  mean_ns: number;
  unit_note: string;
  mb_per_s?: number;
  ops_per_iteration: number;
  samples: number;
  rme_percent: number;
}

/** Throws loudly when a benchmarked result differs from its independently computed expectation. */
function check(task: string, actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`CHECKSUM MISMATCH in ${task}: got ${actual}, expected ${expected}`);
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** A stride near K·0.618 that is coprime with K, so that K consecutive steps visit every key once, scattered. */
function strideFor(k: number): number {
  let s = Math.floor(k * 0.6180339887) | 1;
  while (gcd(s, k) !== 1) s += 2;
  return s;
}

/**
 * Read-modify-write sweep over K keys: operation p touches key ((p mod K) · stride) mod K, so
 * each pass of K operations visits every key exactly once, and the count read at operation p is
 * floor(p / K) (keys start absent or at 0). The sum of counts read by operations [p0, p1) is
 * therefore known in closed form: the checksum of every iteration.
 */
class Sweep {
  p = 0;
  readonly stride: number;

  constructor(readonly keys: number) {
    this.stride = strideFor(keys);
  }

  keyAt(p: number): number {
    return ((p % this.keys) * this.stride) % this.keys;
  }

  /** Σ_{q < n} floor(q / K). */
  private prefix(n: number): number {
    const k = this.keys;
    const q = Math.floor(n / k);
    return (k * q * (q - 1)) / 2 + (n % k) * q;
  }

  expectedSum(p0: number, p1: number): number {
    return this.prefix(p1) - this.prefix(p0);
  }
}

interface Counter {
  count: number;
  last: number;
}

/** `ops` read-modify-writes of a {count, last} ValueState along the sweep; checks the counts read. */
function valueRmw(name: string, backend: KeyedStateBackend, state: ValueState<Counter>, sweep: Sweep, ops: number): void {
  const p0 = sweep.p;
  let sum = 0;
  for (let p = p0; p < p0 + ops; p++) {
    backend.setCurrentKey(sweep.keyAt(p));
    const v = state.value();
    const c = v === undefined ? 0 : v.count;
    sum += c;
    state.update({ count: c + 1, last: p });
  }
  sweep.p = p0 + ops;
  check(name, sum, sweep.expectedSum(p0, p0 + ops));
}

/** `ops` read-modify-writes of MapState entries (user key × map key pairs along the sweep); checks the counts read. */
function mapRmw(name: string, backend: KeyedStateBackend, mapKeys: readonly string[], sweep: Sweep, ops: number): void {
  const map = backend.mapState<string, number>('perKind');
  const p0 = sweep.p;
  let sum = 0;
  for (let p = p0; p < p0 + ops; p++) {
    const pair = sweep.keyAt(p);
    backend.setCurrentKey(Math.floor(pair / MAP_KEYS_PER_USER));
    const mk = mapKeys[pair % MAP_KEYS_PER_USER];
    const c = map.get(mk) ?? 0;
    sum += c;
    map.put(mk, c + 1);
  }
  sweep.p = p0 + ops;
  check(name, sum, sweep.expectedSum(p0, p0 + ops));
}

/** Writes {count: 0} for keys 0..n-1. */
function populate(backend: KeyedStateBackend, state: ValueState<Counter>, n: number): void {
  for (let k = 0; k < n; k++) {
    backend.setCurrentKey(k);
    state.update({ count: 0, last: -1 });
  }
}

const FLUSHED = ' (each iteration ends with an untimed snapshot, as a checkpoint would)';

/**
 * Times `work`, then (LMDB only) takes a snapshot outside the timed part, so the next iteration
 * reads what it did not write from LMDB again; the snapshot still counts against the time budget.
 */
function thenSnapshot(backend: KeyedStateBackend, work: () => void): () => unknown {
  if (!(backend instanceof LmdbKeyedStateBackend)) return work;
  return () => {
    const started = performance.now();
    work();
    const done = performance.now();
    backend.snapshot();
    return { overriddenDuration: done - started, overriddenIterationCost: performance.now() - started };
  };
}

function varintSize(n: number): number {
  let size = 1;
  for (; n >= 0x80; n = Math.floor(n / 128)) size++;
  return size;
}

/** Encoded size of a chunk from its entries, by the format's definition (not by encodeChunk). */
function chunkSize(chunk: DeltaChunk): number {
  let size = 24;
  for (const [k, v] of chunk.entries) size += varintSize(k.length) + k.length + (v === null ? 1 : varintSize(v.length + 1) + v.length);
  return size;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function fmtRate(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return value.toFixed(1);
}

function reportOf(task: Task, spec: TaskSpec): TaskReport {
  const result = task.result;
  if (result.state === 'errored') throw result.error;
  if (result.state !== 'completed') throw new Error(`task ${task.name} ended in state '${result.state}'`);
  const meanMs = result.latency.mean;
  const report: TaskReport = {
    name: task.name,
    ops_per_sec: Math.round((spec.ops * 1000) / meanMs),
    mean_ns: round((meanMs * 1e6) / spec.ops, 1),
    unit_note: spec.unitNote,
    ops_per_iteration: spec.ops,
    samples: result.latency.samplesCount,
    rme_percent: round(result.latency.rme, 2),
  };
  if (spec.bytes !== undefined) report.mb_per_s = round(spec.bytes / 1e6 / (meanMs / 1000), 1);
  return report;
}

export async function run(options: SuiteOptions): Promise<void> {
  const quick = options.quick;
  /** Large key set: far more keys than a checkpoint interval touches, so reads go to LMDB. */
  const largeKeys = quick ? 200_000 : 1_000_000;
  const timeMs = quick ? 200 : 2_000;
  const bench = new Bench({
    name: 'micro',
    time: timeMs,
    iterations: quick ? 5 : 10,
    warmup: true,
    warmupTime: quick ? 50 : 300,
    warmupIterations: quick ? 2 : 5,
    throws: true,
  });
  const specs = new Map<string, TaskSpec>();
  const add = (name: string, spec: TaskSpec, fn: () => unknown, fnOptions?: FnOptions): void => {
    specs.set(name, spec);
    bench.add(name, fn, fnOptions);
  };

  const scratch = mkdtempSync(join(os.tmpdir(), 'baton-bench-micro-'));
  let env: RootDatabase | undefined;
  const backends: KeyedStateBackend[] = [];
  try {
    const setupStarted = performance.now();

    // --- record batches ---
    const objects = Array.from({ length: BATCH_SIZE }, (_, i) => ({
      id: i,
      user: `user-${(i * 7919) % 1000}`,
      amount: (i % 100) * 0.25 + 0.1,
      ts: 1_763_700_000_000 + i * 3,
    }));
    const numbers = Array.from({ length: BATCH_SIZE }, (_, i) => (i * 7 + 3) % 1_000_003);
    const batches = [
      { label: 'objects', values: objects as unknown[], sum: (v: unknown[]) => v.reduce<number>((a, r) => a + (r as { id: number }).id + (r as { ts: number }).ts, 0) },
      { label: 'numbers', values: numbers as unknown[], sum: (v: unknown[]) => v.reduce<number>((a, r) => a + (r as number), 0) },
    ];
    for (const { label, values, sum } of batches) {
      const encoder = new BatchEncoder();
      const expectedSum = sum(values);
      // Decoded by a separate decoder, as on the other end of a channel.
      const reference: WireMessage = encoder.encode({ values, timestamps: null }).wire;
      const bytes = reference.b?.byteLength ?? 0;
      const roundTrip = new BatchDecoder().decode(reference).values ?? [];
      check(`batch_${label} round trip`, JSON.stringify(roundTrip) === JSON.stringify(values) ? 1 : 0, 1);
      add(`batch_encode_${label}`, { ops: BATCH_SIZE, bytes, unitNote: `records/s: BatchEncoder.encode of one ${BATCH_SIZE}-record batch of ${label} (${bytes} B)` }, () => {
        check(`batch_encode_${label}`, encoder.encode({ values, timestamps: null }).wire.b?.byteLength ?? -1, bytes);
      });
      const decoder = new BatchDecoder();
      add(`batch_decode_${label}`, { ops: BATCH_SIZE, bytes, unitNote: `records/s: BatchDecoder.decode of one ${BATCH_SIZE}-record batch of ${label} (${bytes} B)` }, () => {
        check(`batch_decode_${label}`, sum(decoder.decode(reference).values ?? []), expectedSum);
      });
    }

    // --- key-group hashing ---
    // Integer ids (the int32 fast path) and string ids, both spread.
    const numberKeys = Array.from({ length: HASH_KEYS }, (_, i) => (i * 2_654_435_761) % 2_147_483_647);
    const stringKeys = Array.from({ length: HASH_KEYS }, (_, i) => `user-${(i * 2_654_435_761) % 10_000_019}`);
    for (const [label, keys] of [
      ['numbers', numberKeys],
      ['strings', stringKeys],
    ] as const) {
      // Expected through the other entry point (hashKey, then the reduction).
      let expected = 0;
      for (const k of keys) expected += keyGroupForHash(hashKey(k), MAX_PARALLELISM);
      add(`keygroup_${label}`, { ops: HASH_KEYS, unitNote: `keys/s: keyGroupFor(key, ${MAX_PARALLELISM}) over ${HASH_KEYS} ${label === 'numbers' ? 'integer' : "'user-<n>' string"} keys` }, () => {
        let sum = 0;
        for (let i = 0; i < keys.length; i++) sum += keyGroupFor(keys[i], MAX_PARALLELISM);
        check(`keygroup_${label}`, sum, expected);
      });
    }

    // --- keyed state: LMDB and heap through the state API ---
    env = openStateEnvironment(scratch);
    const mapKeys = Array.from({ length: MAP_KEYS_PER_USER }, (_, i) => `kind-${i}`);
    const lmdb = (dbName: string): LmdbKeyedStateBackend => {
      const b = new LmdbKeyedStateBackend({ env: env as RootDatabase, dbName, keyGroupRange: FULL_RANGE, maxParallelism: MAX_PARALLELISM });
      backends.push(b);
      return b;
    };
    const heap = (): HeapKeyedStateBackend => {
      const b = new HeapKeyedStateBackend({ keyGroupRange: FULL_RANGE, maxParallelism: MAX_PARALLELISM });
      backends.push(b);
      return b;
    };

    for (const kind of ['lmdb', 'heap'] as const) {
      // Hot set: every key written before timing and never snapshotted, so it lives in the overlay (LMDB) or the Map (heap).
      const hot = kind === 'lmdb' ? lmdb('hot') : heap();
      const hotState = hot.valueState<Counter>('stats');
      populate(hot, hotState, HOT_KEYS);
      const hotSweep = new Sweep(HOT_KEYS);
      add(
        `${kind}_value_rmw_hot`,
        { ops: STATE_OPS, unitNote: `ops/s: setCurrentKey + ValueState value() + update() on ${HOT_KEYS} keys${kind === 'lmdb' ? ' (all in the overlay)' : ''}` },
        () => valueRmw(`${kind}_value_rmw_hot`, hot, hotState, hotSweep, STATE_OPS),
      );

      // Large set: every key holds {count: 0} (in LMDB, flushed by a snapshot) before timing starts.
      const large = kind === 'lmdb' ? lmdb('large') : heap();
      const largeState = large.valueState<Counter>('stats');
      populate(large, largeState, largeKeys);
      if (large instanceof LmdbKeyedStateBackend) large.snapshot();
      const largeSweep = new Sweep(largeKeys);
      add(
        `${kind}_value_rmw_large`,
        { ops: STATE_OPS, unitNote: `ops/s: ValueState read-modify-write on ${largeKeys} keys${kind === 'lmdb' ? `, every read from LMDB${FLUSHED}` : ''}` },
        thenSnapshot(large, () => valueRmw(`${kind}_value_rmw_large`, large, largeState, largeSweep, STATE_OPS)),
      );

      // MapState: every entry present before timing (in LMDB, flushed by a snapshot), then get + put per op.
      const maps = kind === 'lmdb' ? lmdb('map') : heap();
      const mapState = maps.mapState<string, number>('perKind');
      for (let u = 0; u < MAP_USER_KEYS; u++) {
        maps.setCurrentKey(u);
        for (const mk of mapKeys) mapState.put(mk, 0);
      }
      if (maps instanceof LmdbKeyedStateBackend) maps.snapshot();
      const mapSweep = new Sweep(MAP_USER_KEYS * MAP_KEYS_PER_USER);
      add(
        `${kind}_map_get_put`,
        {
          ops: STATE_OPS,
          unitNote: `ops/s: setCurrentKey + MapState get() + put() over ${MAP_USER_KEYS} keys × ${MAP_KEYS_PER_USER} map keys${kind === 'lmdb' ? `, every get from LMDB${FLUSHED}` : ''}`,
        },
        thenSnapshot(maps, () => mapRmw(`${kind}_map_get_put`, maps, mapKeys, mapSweep, STATE_OPS)),
      );

      // Snapshot after changing SNAPSHOT_CHANGED keys of the large set (the changes are not timed).
      if (large instanceof LmdbKeyedStateBackend) {
        add(
          'lmdb_snapshot_delta',
          { ops: SNAPSHOT_CHANGED, unitNote: `changed keys/s: snapshot() (delta chunk + flush to LMDB) after ${SNAPSHOT_CHANGED} changed keys of ${largeKeys}` },
          () => {
            const started = performance.now();
            valueRmw('lmdb_snapshot_delta', large, largeState, largeSweep, SNAPSHOT_CHANGED);
            const t0 = performance.now();
            const { chunks } = large.snapshot();
            const t1 = performance.now();
            // Entries other than state table rows (key group 0xFFFF) are exactly the changed keys.
            let changed = 0;
            for (const { chunk } of chunks) for (const [k] of chunk.entries) if (k[0] !== 0xff || k[1] !== 0xff) changed++;
            check('lmdb_snapshot_delta', changed, SNAPSHOT_CHANGED);
            return { overriddenDuration: t1 - t0, overriddenIterationCost: performance.now() - started };
          },
          // Starts from a flushed overlay, whatever the tasks before left in it.
          { beforeAll: () => void large.snapshot() },
        );
      } else {
        add(
          'heap_snapshot_full',
          { ops: largeKeys, unitNote: `entries/s: snapshotEntries() copies all ${largeKeys} entries (the heap backend has no delta; encoding not included)` },
          () => {
            const started = performance.now();
            valueRmw('heap_snapshot_full', large, largeState, largeSweep, SNAPSHOT_CHANGED);
            const t0 = performance.now();
            const entries = (large as HeapKeyedStateBackend).snapshotEntries();
            const t1 = performance.now();
            check('heap_snapshot_full', entries.length, largeKeys);
            return { overriddenDuration: t1 - t0, overriddenIterationCost: performance.now() - started };
          },
        );
      }
    }

    // --- delta chunks: a real 100k-key delta taken from the LMDB backend ---
    const source = lmdb('chunk');
    const sourceState = source.valueState<Counter>('stats');
    for (let k = 0; k < CHUNK_KEYS; k++) {
      source.setCurrentKey(`user-${k}`);
      sourceState.update({ count: k % 1000, last: 1_763_700_000_000 + k });
    }
    const chunk = source.snapshot().chunks[0].chunk;
    const chunkBytes = chunkSize(chunk);
    let valueBytes = 0;
    for (const [, v] of chunk.entries) valueBytes += v?.length ?? 0;
    const encoded = encodeChunk(chunk);
    check('chunk size', encoded.length, chunkBytes);
    const entryNote = `${chunk.entries.length} entries (${CHUNK_KEYS} keys + state table row), ${(chunkBytes / 1e6).toFixed(2)} MB`;
    add('chunk_encode', { ops: chunk.entries.length, bytes: chunkBytes, unitNote: `entries/s (and MB/s): encodeChunk of a delta of ${entryNote}` }, () => {
      check('chunk_encode', encodeChunk(chunk).length, chunkBytes);
    });
    add('chunk_decode', { ops: chunk.entries.length, bytes: chunkBytes, unitNote: `entries/s (and MB/s): decodeChunk (CRC + parse) of ${entryNote}` }, () => {
      const decoded = decodeChunk(encoded, 'bench');
      let sum = 0;
      for (const [, v] of decoded.entries) sum += v?.length ?? 0;
      check('chunk_decode', sum, valueBytes);
    });

    console.log(`setup ${((performance.now() - setupStarted) / 1000).toFixed(1)} s; running ${bench.tasks.length} tasks (${timeMs} ms each)...`);
    await bench.run();

    const tasks = bench.tasks.map((t) => reportOf(t, specs.get(t.name) as TaskSpec));
    console.table(
      Object.fromEntries(
        tasks.map((t) => [
          t.name,
          {
            'ops/s': fmtRate(t.ops_per_sec),
            'ns/op': t.mean_ns,
            'MB/s': t.mb_per_s ?? '',
            '±%': t.rme_percent,
            samples: t.samples,
          },
        ]),
      ),
    );
    const report = {
      suite: 'micro',
      quick,
      tasks,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version },
      date: new Date().toISOString(),
    };
    await mkdir(RESULTS_DIR, { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${fileURLToPath(RESULTS_FILE)}`);
  } finally {
    for (const b of backends) b.dispose();
    await env?.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

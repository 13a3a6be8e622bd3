// Deployment B's shell against a real directory, with the attempt and the lease timer as test doubles.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { failedKey, metadataKey } from '../../../src/checkpoint/layout.ts';
import { encodeMetadata } from '../../../src/checkpoint/metadata/metadata-codec.ts';
import { readStopRequest, STOP_REQUEST_KEY } from '../../../src/checkpoint/status/stop-request.ts';
import { openStorage } from '../../../src/checkpoint/storage/index.ts';
import type { CheckpointStorage } from '../../../src/checkpoint/storage/types.ts';
import type { CheckpointMetadata } from '../../../src/checkpoint/types.ts';
import { HandoverAbortedError } from '../../../src/handover/errors.ts';
import { MAX_PASSED_OVER } from '../../../src/handover/protocol/index.ts';
import { HandoverSuccessor, type SuccessorHandoverEvent } from '../../../src/handover/successor/index.ts';
import type { AttemptRestoreControl } from '../../../src/runtime/coordinator/start-sequence.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-successor-shell-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

/** Checkpoint `id` completed; `chain`: the chunk ids of one operator's keyed state (range 0-127), base first. */
async function completed(storage: CheckpointStorage, id: number, endsJob = false, chain: readonly string[] = []): Promise<void> {
  const operators: CheckpointMetadata['operators'] =
    chain.length === 0
      ? []
      : [{ uid: 'sum', parallelism: 1, subtasks: [], keyed: [{ range: { start: 0, end: 127 }, chain: chain.map((c, i) => ({ id: c, kind: i === 0 ? 'base' : 'delta', bytes: 1, entries: 1 })) }] }];
  const metadata: CheckpointMetadata = { jobId: 'job', checkpointId: id, triggeredAt: id, completedAt: id, maxParallelism: 128, operators, exclusiveFiles: [], ...(endsJob ? { endsJob: true, lastRecordAt: 1_000 } : {}) };
  await storage.put(metadataKey(id), encodeMetadata(metadata));
}

/** The attempt as B's shell sees it: records what it was asked to apply; `fail` and `failed` are the test's to trigger. */
function fakeAttempt(storage: CheckpointStorage, followGate?: (id: number) => Promise<void>) {
  const applied: string[] = [];
  const prefetched: number[] = [];
  let failAttempt!: (error: unknown) => void;
  const failed = new Promise<never>((_, reject) => {
    failAttempt = reject;
  });
  failed.catch(() => {});
  const failures: unknown[] = [];
  let firstCheckpoint!: (id: number) => void;
  const control: AttemptRestoreControl = {
    jobId: 'job',
    jobStorage: storage,
    follow: async (m) => {
      applied.push(`follow ${m.checkpointId}`);
      await followGate?.(m.checkpointId);
      return { chunks: 0, bytes: 0, reloads: 0 };
    },
    prefetch: (m) => void prefetched.push(m.checkpointId),
    restore: async (m) => {
      applied.push(`restore ${m?.checkpointId}`);
      return { chunks: 0, bytes: 0, reloads: 0 };
    },
    stateRestored: () => void applied.push('state-restored'),
    failed,
    firstRecord: new Promise(() => {}),
    firstCheckpoint: new Promise((resolve) => {
      firstCheckpoint = resolve;
    }),
    fail: (error) => void failures.push(error),
  };
  return { control, applied, prefetched, failures, failAttempt, completeFirstCheckpoint: (id: number) => firstCheckpoint(id) };
}

function setUp(options: { leaseMs?: number; followGate?: (id: number) => Promise<void> } = {}) {
  const storage = openStorage(pathToFileURL(join(root, `job-${++dirs}`)).href);
  const attempt = fakeAttempt(storage, options.followGate);
  let now = 50_000;
  let tick: () => void = () => {};
  const clock = {
    now: () => now,
    every: (_ms: number, run: () => void) => {
      tick = run;
      return () => {
        tick = () => {};
      };
    },
  };
  const events: SuccessorHandoverEvent[] = [];
  const b = new HandoverSuccessor(
    storage,
    { targetCheckpoint: 'when-ready', leaseMs: options.leaseMs ?? 3_000, timeoutMs: 60_000, onTimeout: 'fail', pollMs: 20, requestStop: true, allowStaleTarget: false },
    'run-b',
    (e) => events.push(e),
    () => undefined,
    clock,
  );
  return { storage, b, events, ...attempt, advance: (ms: number) => {
      now += ms;
    }, tick: () => tick() };
}

const until = async (check: () => Promise<boolean> | boolean) => {
  while (!(await check())) await new Promise((r) => setTimeout(r, 5));
};

describe('successor shell (deployment B)', () => {
  it('announces only once caught up, then takes over at the stop checkpoint that follows and withdraws after its first checkpoint', async () => {
    const t = setUp();
    await completed(t.storage, 1);
    await completed(t.storage, 2);
    await t.b.begin();
    expect(await t.storage.exists(STOP_REQUEST_KEY)).toBe(false);
    const taking = t.b.prepare(t.control);
    await until(() => t.storage.exists(STOP_REQUEST_KEY));
    expect(t.applied).toEqual(['follow 2', 'state-restored']);
    expect(await readStopRequest(t.storage)).toMatchObject({ runId: 'run-b', leaseExpiresAt: 53_000 });
    await completed(t.storage, 3, true);
    expect((await taking)?.checkpointId).toBe(3);
    expect(t.applied).toEqual(['follow 2', 'state-restored', 'restore 3']);
    t.b.started(t.control);
    t.completeFirstCheckpoint(4);
    await until(() => t.events.some((e) => e.phase === 'done'));
    expect(await t.storage.exists(STOP_REQUEST_KEY)).toBe(false);
    expect(t.events.map((e) => e.phase)).toEqual(['stage1-done', 'announced', 'stage2-done', 'done']);
    expect(t.b.mayRestart()).toBe(true);
  });

  it('takes over from the stop checkpoint its probe read: one read of its _metadata inside the window, no pin', async () => {
    const t = setUp();
    const reads: string[] = [];
    const get = t.storage.get.bind(t.storage);
    // Reads that found something: the probe's misses before chk-2 existed do not count.
    t.storage.get = async (key: string) => {
      const bytes = await get(key);
      reads.push(key);
      return bytes;
    };
    await completed(t.storage, 1);
    await t.b.begin();
    const taking = t.b.prepare(t.control);
    await until(() => t.storage.exists(STOP_REQUEST_KEY));
    const before = reads.length;
    await completed(t.storage, 2, true);
    expect((await taking)?.checkpointId).toBe(2);
    const window = reads.slice(before);
    expect(window.filter((k) => k === metadataKey(2))).toHaveLength(1);
    expect(window.filter((k) => k.includes('pin-'))).toEqual([]);
  });

  it('once announced, passes over A\'s checkpoints before the stop checkpoint without applying them: stage 2 starts from the stop checkpoint', async () => {
    const t = setUp();
    await completed(t.storage, 1);
    await t.b.begin();
    const taking = t.b.prepare(t.control);
    await until(() => t.storage.exists(STOP_REQUEST_KEY));
    // The checkpoint A had in flight when it accepted the request, then its stop checkpoint.
    await completed(t.storage, 2);
    await until(() => t.events.some((e) => e.phase === 'passed-over' && e.checkpointId === 2));
    await completed(t.storage, 3, true);
    expect((await taking)?.checkpointId).toBe(3);
    expect(t.applied).toEqual(['follow 1', 'state-restored', 'restore 3']);
    // Its chunks were downloaded while B waited: stage 2 takes them from memory.
    expect(t.prefetched).toEqual([2]);
    expect(t.b.metrics()).toMatchObject({ followedCheckpoints: 0, passedOverCheckpoints: 1, targetCheckpoint: 3, targetReadyBeforeJob: false });
  });

  it('goes on looking for the stop checkpoint while it applies a new base; stage 2 starts once that follow ended', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let followEnded = false;
    const t = setUp({
      followGate: async (id) => {
        if (id !== 2) return;
        await released;
        followEnded = true;
      },
    });
    const restore = t.control.restore;
    t.control.restore = (m) => {
      t.applied.push(followEnded ? 'follow 2 ended' : 'follow 2 still running');
      return restore(m);
    };
    const get = t.storage.get.bind(t.storage);
    t.storage.get = async (key: string) => {
      const bytes = await get(key);
      // The probe found the stop checkpoint while the follow hangs: the follow ends only a turn of
      // the event loop later, after anything B would do at once with what it read.
      if (key === metadataKey(3)) setImmediate(release);
      return bytes;
    };
    await completed(t.storage, 1, false, ['b1']);
    await t.b.begin();
    const taking = t.b.prepare(t.control);
    await until(() => t.storage.exists(STOP_REQUEST_KEY));
    await completed(t.storage, 2, false, ['b2']);
    await until(() => t.applied.includes('follow 2'));
    await completed(t.storage, 3, true, ['b2', 'd3']);
    expect((await taking)?.checkpointId).toBe(3);
    expect(t.applied).toEqual(['follow 1', 'state-restored', 'follow 2', 'follow 2 ended', 'restore 3']);
    expect(t.b.metrics()).toMatchObject({ followedCheckpoints: 1, passedOverCheckpoints: 0 });
  });

  it('once announced, applies a checkpoint with a new base at once (not left to stage 2 to reload)', async () => {
    const t = setUp();
    await completed(t.storage, 1, false, ['b1']);
    await t.b.begin();
    const taking = t.b.prepare(t.control);
    await until(() => t.storage.exists(STOP_REQUEST_KEY));
    await completed(t.storage, 2, false, ['b1', 'd2']);
    await completed(t.storage, 3, false, ['b3']);
    await completed(t.storage, 4, false, ['b3', 'd4']);
    await until(() => t.events.some((e) => e.phase === 'passed-over' && e.checkpointId === 4));
    await completed(t.storage, 5, true, ['b3', 'd4', 'd5']);
    expect((await taking)?.checkpointId).toBe(5);
    expect(t.applied).toEqual(['follow 1', 'state-restored', 'follow 3', 'restore 5']);
    expect(t.b.metrics()).toMatchObject({ followedCheckpoints: 1, passedOverCheckpoints: 2 });
  });

  it('once announced, probes past a checkpoint that failed (the stop checkpoint takes a later id)', async () => {
    const t = setUp();
    const tried: string[] = [];
    const get = t.storage.get.bind(t.storage);
    t.storage.get = (key: string) => {
      tried.push(key);
      return get(key);
    };
    await completed(t.storage, 1);
    await t.b.begin();
    const taking = t.b.prepare(t.control);
    await until(() => t.storage.exists(STOP_REQUEST_KEY));
    await t.storage.put(failedKey(2), new TextEncoder().encode('declined'));
    // B looks for chk-3's _metadata before it exists: it knows chk-2 will never complete.
    await until(() => tried.includes(metadataKey(3)));
    await completed(t.storage, 3, true);
    expect((await taking)?.checkpointId).toBe(3);
    expect(t.applied).toEqual(['follow 1', 'state-restored', 'restore 3']);
  });

  it(`once announced, applies the checkpoint after ${MAX_PASSED_OVER} passed over in a row, then passes over again`, async () => {
    const t = setUp();
    await completed(t.storage, 1);
    await t.b.begin();
    const taking = t.b.prepare(t.control);
    await until(() => t.storage.exists(STOP_REQUEST_KEY));
    const last = 2 + MAX_PASSED_OVER + 1;
    for (let id = 2; id <= last; id++) await completed(t.storage, id);
    await until(() => t.events.some((e) => e.phase === 'passed-over' && e.checkpointId === last));
    await completed(t.storage, last + 1, true);
    expect((await taking)?.checkpointId).toBe(last + 1);
    expect(t.applied).toEqual(['follow 1', 'state-restored', `follow ${last - 1}`, `restore ${last + 1}`]);
    expect(t.b.metrics()).toMatchObject({ followedCheckpoints: 1, passedOverCheckpoints: MAX_PASSED_OVER + 1 });
  });

  it('the newest checkpoint ends the job already (A ended before B was ready): B takes over from it without asking', async () => {
    const t = setUp();
    await completed(t.storage, 1, true);
    await t.b.begin();
    expect((await t.b.prepare(t.control))?.checkpointId).toBe(1);
    expect(await t.storage.exists(STOP_REQUEST_KEY)).toBe(false);
  });

  it('does not announce before one of A\'s checkpoints is there to apply', async () => {
    const t = setUp();
    await t.b.begin();
    const taking = t.b.prepare(t.control);
    // Several rounds of listing an empty directory: B stays silent.
    await until(() => t.events.some((e) => e.phase === 'stage1-done'));
    for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await t.storage.exists(STOP_REQUEST_KEY)).toBe(false);
    await completed(t.storage, 1);
    await until(() => t.storage.exists(STOP_REQUEST_KEY));
    expect(t.applied).toEqual(['state-restored', 'follow 1']);
    t.failAttempt(new Error('stop'));
    await expect(taking).rejects.toThrow('stop');
  });

  it('renews its lease on the timer; the attempt failing withdraws the request', async () => {
    const t = setUp();
    await completed(t.storage, 1);
    await t.b.begin();
    const taking = t.b.prepare(t.control);
    await until(() => t.storage.exists(STOP_REQUEST_KEY));
    t.advance(1_000);
    t.tick();
    await until(async () => (await readStopRequest(t.storage))?.leaseExpiresAt === 54_000);
    t.failAttempt(new Error('worker died'));
    await expect(taking).rejects.toThrow('worker died');
    expect(await t.storage.exists(STOP_REQUEST_KEY)).toBe(false);
    expect(t.b.mayRestart()).toBe(false);
  });

  it('in probation, a request that vanished (A gave up on it) fails the attempt with HandoverAbortedError', async () => {
    const t = setUp();
    await completed(t.storage, 1);
    await t.b.begin();
    const taking = t.b.prepare(t.control);
    await until(() => t.storage.exists(STOP_REQUEST_KEY));
    await completed(t.storage, 2, true);
    await taking;
    t.b.started(t.control);
    await t.storage.delete([STOP_REQUEST_KEY]);
    t.advance(1_000);
    t.tick();
    await until(() => t.failures.length > 0);
    expect(t.failures[0]).toBeInstanceOf(HandoverAbortedError);
    expect((t.failures[0] as HandoverAbortedError).code).toBe('BATON_ERR_HANDOVER_ABORTED');
    expect(String(t.failures[0])).toMatch(/lost its stop request: the request is gone/);
  });

  it('in probation, a lease B could not renew in time fails the attempt (A may have resumed)', async () => {
    const t = setUp();
    await completed(t.storage, 1);
    await t.b.begin();
    const taking = t.b.prepare(t.control);
    await until(() => t.storage.exists(STOP_REQUEST_KEY));
    await completed(t.storage, 2, true);
    await taking;
    t.b.started(t.control);
    t.advance(3_000);
    t.tick();
    await until(() => t.failures.length > 0);
    expect(String(t.failures[0])).toMatch(/lease expired 0 ms ago/);
  });
});

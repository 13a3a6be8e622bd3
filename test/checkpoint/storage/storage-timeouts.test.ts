// Every storage call is bounded: deadlines per attempt, retries of transient failures only, typed errors naming the call.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FileStorage,
  resolveStorageTimeouts,
  S3Storage,
  StorageIoError,
  StorageNotFoundError,
  StorageTimeoutError,
  worstCaseMs,
} from '../../../src/checkpoint/storage/index.ts';
import { JobConfigError } from '../../../src/errors/index.ts';
import { type S3FaultProxy, startS3FaultProxy } from '../../support/s3-fault-proxy.ts';
import type { ProxiedRequestInfo } from '../../support/s3-gate-proxy.ts';
import { type S3rverHandle, startS3rver } from '../../support/s3rver.ts';

/** Short deadlines, for calls to a store that never answers (each attempt waits the whole deadline). */
const timeouts = { requestMs: 400, attempts: 3, backoffMs: 20 };
/**
 * The most a call may take with `timeouts`, plus room for a machine so busy that a timer fires
 * seconds late: the check is that a stalled call ends at all, not how punctually.
 */
const bound = worstCaseMs(timeouts) + 15_000;
/** Deadlines for calls the store does answer: a busy machine can take longer than 400 ms over a good request. */
const answeredTimeouts = { requestMs: 5_000, attempts: 3, backoffMs: 20 };

let s3: S3rverHandle;
let proxy: S3FaultProxy;
const opened: S3Storage[] = [];

beforeAll(async () => {
  s3 = await startS3rver();
  proxy = await startS3FaultProxy(s3.endpoint, 1);
});

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await proxy.close();
  await s3.close();
});

function storage(prefix = `t-${randomBytes(3).toString('hex')}`, withTimeouts: typeof timeouts = answeredTimeouts): S3Storage {
  const s = new S3Storage(`s3://${s3.bucket}/${prefix}`, {
    endpoint: proxy.endpoint,
    region: s3.region,
    credentials: s3.credentials,
    timeouts: withTimeouts,
  });
  opened.push(s);
  return s;
}

/** Faults only the first `n` requests that `match` accepts. */
function firstOnly(n: number, match: (r: ProxiedRequestInfo) => boolean): (r: ProxiedRequestInfo) => boolean {
  let seen = 0;
  return (r) => match(r) && seen++ < n;
}

const data = new Uint8Array(randomBytes(64 * 1024));

describe('S3Storage through a faulty store', () => {
  it('fails a put to a stalled store with a StorageTimeoutError naming the call, within the bound', async () => {
    const s = storage(undefined, timeouts);
    proxy.setPlan({ rate: 1, kinds: ['stall'] });
    const started = Date.now();
    const error = await s.put('chk-1/_metadata', data).catch((e: unknown) => e);
    proxy.setPlan(undefined);
    expect(error).toBeInstanceOf(StorageTimeoutError);
    expect(error).toBeInstanceOf(StorageIoError);
    const timeout = error as StorageTimeoutError;
    expect(timeout.operation).toBe('put');
    expect(timeout.key).toBe('chk-1/_metadata');
    expect(timeout.attempts).toBe(3);
    expect(timeout.code).toBe('BATON_ERR_STORAGE_TIMEOUT');
    expect(timeout.message).toMatch(/put of 'chk-1\/_metadata'.*after 3 attempts.*400 ms/);
    expect(Date.now() - started).toBeLessThan(bound);
  });

  it('fails a get whose body stalls after the headers, within the bound', async () => {
    const prefix = `t-${randomBytes(3).toString('hex')}`;
    await storage(prefix).put('shared/a', data);
    const s = storage(prefix, timeouts);
    // The store answers, but the body never comes: every GET is cut to nothing and left hanging.
    proxy.setPlan({ rate: 1, kinds: ['stall'], match: (r) => r.method === 'GET' });
    const started = Date.now();
    const error = await s.get('shared/a').catch((e: unknown) => e);
    proxy.setPlan(undefined);
    expect(error).toBeInstanceOf(StorageTimeoutError);
    expect((error as StorageTimeoutError).operation).toBe('get');
    expect(Date.now() - started).toBeLessThan(bound);
  });

  it('retries 500, 503, resets and truncated bodies, and the data arrives intact', async () => {
    const s = storage();
    const before = { ...proxy.injected };
    proxy.setPlan({ rate: 1, kinds: ['503'], match: firstOnly(1, (r) => r.method === 'PUT') });
    await s.put('shared/b', data);
    proxy.setPlan({ rate: 1, kinds: ['reset'], match: firstOnly(2, (r) => r.method === 'PUT') });
    await s.put('shared/c', data);
    proxy.setPlan({ rate: 1, kinds: ['truncate'], match: firstOnly(2, (r) => r.method === 'GET') });
    expect(Buffer.from(await s.get('shared/b')).equals(Buffer.from(data))).toBe(true);
    proxy.setPlan({ rate: 1, kinds: ['500'], match: firstOnly(2, (r) => r.method === 'GET') });
    expect(Buffer.from(await s.get('shared/c')).equals(Buffer.from(data))).toBe(true);
    proxy.setPlan({ rate: 1, kinds: ['500'], match: firstOnly(1, (r) => r.method === 'GET') });
    expect(await s.list('shared')).toEqual(['shared/b', 'shared/c']);
    proxy.setPlan(undefined);
    expect(proxy.injected['503'] - before['503']).toBe(1);
    expect(proxy.injected.reset - before.reset).toBe(2);
    expect(proxy.injected.truncate - before.truncate).toBe(2);
    expect(proxy.injected['500'] - before['500']).toBe(3);
  });

  it('reads again at once after a torn read (a 500 or a truncated body of a GET), not after the backoff', async () => {
    const prefix = `t-${randomBytes(3).toString('hex')}`;
    await storage(prefix).put('shared/d', data);
    // A backoff of minutes (capped at 10 s, so at least 5 s with jitter): a read that waited for it
    // takes seconds; one read again at once takes two small requests, even on a busy machine.
    const patient = storage(prefix, { requestMs: 5_000, attempts: 2, backoffMs: 600_000 });
    for (const kind of ['500', 'truncate'] as const) {
      proxy.setPlan({ rate: 1, kinds: [kind], match: firstOnly(1, (r) => r.method === 'GET') });
      const started = Date.now();
      expect(Buffer.from(await patient.get('shared/d')).equals(Buffer.from(data))).toBe(true);
      expect(Date.now() - started).toBeLessThan(4_000);
    }
    proxy.setPlan(undefined);
  });

  it('gives up after the configured attempts on a store that keeps failing, with a StorageIoError', async () => {
    const s = storage();
    const before = proxy.requests;
    proxy.setPlan({ rate: 1, kinds: ['503'] });
    const error = await s.put('chk-2/_metadata', data).catch((e: unknown) => e);
    proxy.setPlan(undefined);
    expect(error).toBeInstanceOf(StorageIoError);
    expect(error).not.toBeInstanceOf(StorageTimeoutError);
    expect((error as StorageIoError).attempts).toBe(3);
    expect(proxy.requests - before).toBe(3);
  });

  it('does not retry an answer that will not change (a missing object)', async () => {
    const s = storage();
    const before = proxy.requests;
    await expect(s.get('shared/none')).rejects.toBeInstanceOf(StorageNotFoundError);
    expect(proxy.requests - before).toBe(1);
  });
});

describe('FileStorage on a hung file system', () => {
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'baton-hung-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('fails a read that never returns with a StorageTimeoutError naming the key', async () => {
    const storage = new FileStorage(root, { timeouts });
    await mkdir(join(root, 'chk-1'), { recursive: true });
    // Reading a FIFO nobody writes to blocks like a read from a hung mount.
    const fifo = join(root, 'chk-1', '_metadata');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    const error = await storage.get('chk-1/_metadata').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageTimeoutError);
    expect((error as StorageTimeoutError).key).toBe('chk-1/_metadata');
    expect((error as StorageTimeoutError).operation).toBe('get');
    expect(Date.now() - started).toBeLessThan(timeouts.requestMs + 15_000);
    // Unblock the abandoned read so it does not hold a thread of the pool.
    await (await open(fifo, 'w')).close();
  });
});

describe('storage timeouts settings', () => {
  it('fill in defaults and name the option at fault', () => {
    expect(resolveStorageTimeouts({ requestMs: 2_000 })).toEqual({ requestMs: 2_000, attempts: 4, backoffMs: 200 });
    expect(() => resolveStorageTimeouts({ attempts: 0 })).toThrow(JobConfigError);
    expect(() => resolveStorageTimeouts({ attempts: 0 })).toThrow(/storageTimeouts\.attempts/);
  });
});

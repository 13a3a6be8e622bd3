// Reference data lands in one SharedArrayBuffer: from a file or S3, byte for byte, shared by one cache and with workers.
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadIntoSharedBuffer,
  normalizeReferenceDataUri,
  ReferenceDataCache,
  ReferenceDataError,
  type ReferenceDataProgress,
} from '../../src/handover/reference-data/index.ts';
import { type S3rverHandle, startS3rver } from '../support/s3rver.ts';

const MiB = 1024 * 1024;

/** Bytes no two offsets of a chunk share by accident: a misplaced chunk shows up as a mismatch. */
function pattern(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >>> 8)) & 0xff;
  return bytes;
}

function expectProgress(events: readonly ReferenceDataProgress[], total: number, minEvents: number): void {
  expect(events.length).toBeGreaterThanOrEqual(minEvents);
  for (const e of events) expect(e.totalBytes).toBe(total);
  const loaded = events.map((e) => e.loadedBytes);
  expect(loaded).toEqual([...loaded].sort((a, b) => a - b));
  expect(loaded.filter((n) => n === total)).toHaveLength(1);
  expect(loaded.at(-1)).toBe(total);
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-refdata-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadIntoSharedBuffer from a file', () => {
  it('loads the exact bytes in several chunks, reporting each and a final loaded === total', async () => {
    const data = pattern(3 * MiB + 12_345);
    const path = join(dir, 'pattern.bin');
    await writeFile(path, data);
    const events: ReferenceDataProgress[] = [];
    const buffer = await loadIntoSharedBuffer(pathToFileURL(path).href, { chunkBytes: 512 * 1024, onProgress: (p) => events.push(p) });
    expect(buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(buffer.byteLength).toBe(data.byteLength);
    expect(Buffer.from(new Uint8Array(buffer)).equals(Buffer.from(data))).toBe(true);
    expectProgress(events, data.byteLength, 7);
    expect(events[0].uri).toBe(pathToFileURL(path).href);
  });

  it('takes a plain path and an empty file (one final report of 0 / 0)', async () => {
    const path = join(dir, 'empty.bin');
    await writeFile(path, new Uint8Array(0));
    const events: ReferenceDataProgress[] = [];
    const buffer = await loadIntoSharedBuffer(path, { onProgress: (p) => events.push(p) });
    expect(buffer.byteLength).toBe(0);
    expect(events).toEqual([{ uri: pathToFileURL(path).href, loadedBytes: 0, totalBytes: 0 }]);
  });

  it('a missing file is a ReferenceDataError naming the URI', async () => {
    const uri = pathToFileURL(join(dir, 'nope.bin')).href;
    const error = await loadIntoSharedBuffer(uri).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReferenceDataError);
    expect(error).toMatchObject({ uri, kind: 'not-found' });
    expect((error as Error).message).toContain(uri);
  });

  it('an unsupported scheme is a ReferenceDataError, and user info never reaches the message', async () => {
    const error = await loadIntoSharedBuffer('ftp://x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReferenceDataError);
    expect(error).toMatchObject({ uri: 'ftp://x', kind: 'unsupported-scheme' });
    expect((error as Error).message).toContain("'ftp://x'");
    const secret = await loadIntoSharedBuffer('ftp://me:hunter2@host/x').catch((e: unknown) => e);
    expect((secret as Error).message).not.toContain('hunter2');
  });
});

describe('loadIntoSharedBuffer from S3', () => {
  let s3: S3rverHandle;
  const options = () => ({ endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials });

  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(async () => {
    await s3?.close();
  });

  it('streams the exact object bytes, with progress ending at loaded === total', async () => {
    const data = pattern(2 * MiB + 777);
    const client = new S3Client(options());
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'ref/pattern.bin', Body: data, ContentLength: data.byteLength }));
    client.destroy();
    const events: ReferenceDataProgress[] = [];
    const uri = `s3://${s3.bucket}/ref/pattern.bin`;
    const buffer = await loadIntoSharedBuffer(uri, { s3: options(), chunkBytes: 256 * 1024, onProgress: (p) => events.push(p) });
    expect(buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Buffer.from(new Uint8Array(buffer)).equals(Buffer.from(data))).toBe(true);
    expectProgress(events, data.byteLength, 4);
    expect(events[0].uri).toBe(uri);
  });

  it('a missing object is a ReferenceDataError naming the URI', async () => {
    const uri = `s3://${s3.bucket}/ref/missing.bin`;
    const error = await loadIntoSharedBuffer(uri, { s3: options() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReferenceDataError);
    expect(error).toMatchObject({ uri, kind: 'not-found' });
    expect((error as Error).message).toContain(uri);
  });
});

describe('loadIntoSharedBuffer when the body and ContentLength disagree', () => {
  /** An S3 stand-in whose HEAD announces `announced` bytes and whose GET sends `sent` (each with a truthful Content-Length). */
  async function lyingServer(announced: number, sent: number): Promise<{ endpoint: string; close(): Promise<void> }> {
    const server = createServer((request, response) => {
      const body = request.method === 'HEAD' ? new Uint8Array(0) : pattern(sent);
      response.writeHead(200, { 'content-length': request.method === 'HEAD' ? announced : sent, etag: '"v1"' });
      response.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  }

  for (const [announced, sent, says] of [
    [1000, 600, 'ended after 600'],
    [1000, 1500, 'has more'],
  ] as const) {
    it(`HEAD ${announced} bytes, GET ${sent}: ReferenceDataError (size-mismatch) naming the URI`, async () => {
      const server = await lyingServer(announced, sent);
      try {
        const uri = 's3://some-bucket/ref/x.bin';
        const s3 = { endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' } };
        const error = await loadIntoSharedBuffer(uri, { s3, chunkBytes: 100 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ReferenceDataError);
        expect(error).toMatchObject({ uri, kind: 'size-mismatch' });
        expect((error as Error).message).toContain(uri);
        expect((error as Error).message).toContain(says);
      } finally {
        await server.close();
      }
    });
  }
});

describe('ReferenceDataCache', () => {
  it('concurrent and later calls for one URI share one load and get the same SharedArrayBuffer', async () => {
    const data = pattern(MiB + 3);
    const path = join(dir, 'shared.bin');
    await writeFile(path, data);
    let loads = 0;
    const cache = new ReferenceDataCache({
      chunkBytes: 128 * 1024,
      loader: (uri, options) => {
        loads += 1;
        return loadIntoSharedBuffer(uri, options);
      },
    });
    const first: ReferenceDataProgress[] = [];
    const second: ReferenceDataProgress[] = [];
    const [a, b] = await Promise.all([cache.load(path, (p) => first.push(p)), cache.load(pathToFileURL(path).href, (p) => second.push(p))]);
    expect(b).toBe(a);
    // Both listeners saw the one load's reports, the same ones.
    expectProgress(first, data.byteLength, 8);
    expect(second).toEqual(first);

    const late: ReferenceDataProgress[] = [];
    const c = await cache.load(join(dir, '.', 'shared.bin'), (p) => late.push(p));
    expect(c).toBe(a);
    expect(late).toEqual([{ uri: pathToFileURL(path).href, loadedBytes: data.byteLength, totalBytes: data.byteLength }]);

    expect(loads).toBe(1);
    const stats = cache.stats()[normalizeReferenceDataUri(path)];
    expect(stats).toMatchObject({ bytes: data.byteLength, requests: 3, loading: false });
    expect(stats.loadMs).toBeGreaterThan(0);

    cache.clear();
    expect(cache.stats()).toEqual({});
    const d = await cache.load(path);
    expect(d).not.toBe(a);
    expect(loads).toBe(2);
  });

  it('does not cache a failed load: the next call tries again', async () => {
    const path = join(dir, 'later.bin');
    const cache = new ReferenceDataCache();
    const failures = await Promise.allSettled([cache.load(path), cache.load(path)]);
    for (const failure of failures) {
      expect(failure.status).toBe('rejected');
      expect((failure as PromiseRejectedResult).reason).toBeInstanceOf(ReferenceDataError);
    }
    expect(cache.stats()).toEqual({});

    await writeFile(path, pattern(1000));
    const buffer = await cache.load(path);
    expect(Buffer.from(new Uint8Array(buffer)).equals(Buffer.from(pattern(1000)))).toBe(true);
    expect(cache.stats()[normalizeReferenceDataUri(path)]).toMatchObject({ bytes: 1000, requests: 1 });
  });

  it('a throwing progress listener fails neither its own call nor the shared load', async () => {
    const path = join(dir, 'listener.bin');
    await writeFile(path, pattern(5000));
    const cache = new ReferenceDataCache({ chunkBytes: 1000 });
    const events: ReferenceDataProgress[] = [];
    const [a, b] = await Promise.all([
      cache.load(path, () => {
        throw new Error('broken progress bar');
      }),
      cache.load(path, (p) => events.push(p)),
    ]);
    expect(b).toBe(a);
    expectProgress(events, 5000, 5);
  });

  it('rejects (not throws) for an unsupported scheme', async () => {
    const cache = new ReferenceDataCache();
    const pending = cache.load('ftp://x');
    await expect(pending).rejects.toBeInstanceOf(ReferenceDataError);
  });
});

describe('a loaded SharedArrayBuffer and worker threads', () => {
  it('is shared, not copied: a byte a worker writes is seen by the main thread', async () => {
    const path = join(dir, 'to-worker.bin');
    await writeFile(path, pattern(4096));
    const buffer = await new ReferenceDataCache().load(path);
    const view = new Uint8Array(buffer);
    const before = view[100];
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.once('message', (sab) => {
         const view = new Uint8Array(sab);
         view[100] = view[100] ^ 0xff;
         parentPort.postMessage({ byteLength: sab.byteLength, shared: sab instanceof SharedArrayBuffer });
       });`,
      { eval: true },
    );
    try {
      const reply = new Promise<{ byteLength: number; shared: boolean }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      worker.postMessage(buffer);
      expect(await reply).toEqual({ byteLength: 4096, shared: true });
      expect(view[100]).toBe(before ^ 0xff);
      // Posting a SharedArrayBuffer never detaches it, unlike a transferred ArrayBuffer.
      expect(buffer.byteLength).toBe(4096);
    } finally {
      await worker.terminate();
    }
  });
});

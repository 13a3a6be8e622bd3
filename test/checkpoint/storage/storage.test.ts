// One contract, two backends: FileStorage on a temp dir and S3Storage against a local s3rver.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CheckpointStorage,
  FileStorage,
  InvalidStorageKeyError,
  mapWithConcurrency,
  S3Storage,
  StorageIoError,
  StorageNotFoundError,
} from '../../../src/checkpoint/storage/index.ts';
import { type S3rverHandle, startS3rver } from '../../support/s3rver.ts';

interface Backend {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A fresh, empty storage (its own folder or key prefix) for one test. */
  open(): CheckpointStorage;
  /** A storage on which every I/O fails, to show that invalid keys are rejected before any I/O. */
  openBroken(): CheckpointStorage;
}

let counter = 0;
const unique = (): string => `t${++counter}-${randomBytes(3).toString('hex')}`;

function fileBackend(): Backend & { root(): string } {
  let root = '';
  return {
    name: 'FileStorage',
    root: () => root,
    async start() {
      root = await mkdtemp(join(tmpdir(), 'baton-storage-'));
    },
    async stop() {
      await rm(root, { recursive: true, force: true });
    },
    open: () => new FileStorage(join(root, unique())),
    // A NUL byte in the root makes every fs call throw ERR_INVALID_ARG_VALUE.
    openBroken: () => new FileStorage(join(root, 'broken\0root')),
  };
}

function s3Backend(): Backend & { server(): S3rverHandle } {
  let server: S3rverHandle | undefined;
  const options = () => ({ endpoint: server!.endpoint, region: server!.region, credentials: server!.credentials });
  return {
    name: 'S3Storage',
    server: () => server!,
    async start() {
      server = await startS3rver();
    },
    async stop() {
      await server?.close();
    },
    open: () => new S3Storage(`s3://${server!.bucket}/${unique()}`, options()),
    openBroken: () => new S3Storage(`s3://baton-no-such-bucket-${randomBytes(3).toString('hex')}/x`, options()),
  };
}

const fsBackend = fileBackend();
const s3 = s3Backend();
const opened: CheckpointStorage[] = [];

function track(storage: CheckpointStorage): CheckpointStorage {
  opened.push(storage);
  return storage;
}

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
});

const bytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe.each([fsBackend, s3] as Backend[])('$name contract', (backend) => {
  beforeAll(() => backend.start());
  afterAll(() => backend.stop());

  it('round-trips binary data, including empty and ~5 MB objects, and overwrites', async () => {
    const storage = track(backend.open());
    const every = new Uint8Array(256).map((_, i) => i);
    const big = bytes(5 * 1024 * 1024 + 17);
    await storage.put('every-byte', every);
    await storage.put('empty', new Uint8Array(0));
    await storage.put('big/blob.bin', big);
    await storage.put('ünï©ødé and spaces/x+y=z', text('odd names'));

    expect(Buffer.from(await storage.get('every-byte')).equals(Buffer.from(every))).toBe(true);
    expect((await storage.get('empty')).byteLength).toBe(0);
    const gotBig = await storage.get('big/blob.bin');
    expect(gotBig.byteLength).toBe(big.byteLength);
    expect(Buffer.from(gotBig).equals(Buffer.from(big))).toBe(true);
    expect(new TextDecoder().decode(await storage.get('ünï©ødé and spaces/x+y=z'))).toBe('odd names');

    // A view into a larger buffer must store only its own bytes.
    const backing = bytes(100);
    await storage.put('view', backing.subarray(10, 60));
    expect(Buffer.from(await storage.get('view')).equals(Buffer.from(backing.subarray(10, 60)))).toBe(true);

    await storage.put('every-byte', text('replaced'));
    expect(new TextDecoder().decode(await storage.get('every-byte'))).toBe('replaced');
  });

  it('get of a missing key throws StorageNotFoundError naming uri and key', async () => {
    const storage = track(backend.open());
    await storage.put('chk-1/op/a', text('a'));
    for (const key of ['nope', 'chk-1/_metadata', 'chk-1', 'chk-1/op/a/below-a-file']) {
      const error = await storage.get(key).catch((e: unknown) => e);
      expect(error, key).toBeInstanceOf(StorageNotFoundError);
      expect(error).toMatchObject({ uri: storage.uri, key });
    }
  });

  it('exists is true only for objects, not for folders or missing keys', async () => {
    const storage = track(backend.open());
    expect(await storage.exists('chk-1/_metadata')).toBe(false);
    await storage.put('chk-1/_metadata', text('m'));
    expect(await storage.exists('chk-1/_metadata')).toBe(true);
    expect(await storage.exists('chk-1')).toBe(false);
    expect(await storage.exists('chk-1/_metadata/x')).toBe(false);
  });

  it('lists nested keys sorted, scoped to a folder prefix, relative to the root', async () => {
    const storage = track(backend.open());
    const keys = ['shared/c2', 'chk-10/_metadata', 'chk-1/op/b', 'chk-1/_metadata', 'shared/c1', 'chk-1/op/a', 'chk-2/_FAILED', 'z'];
    await Promise.all(keys.map((k) => storage.put(k, text(k))));

    expect(await storage.list('')).toEqual([...keys].sort());
    // 'chk-1' is a folder: chk-10 is a neighbour, not a child.
    expect(await storage.list('chk-1')).toEqual(['chk-1/_metadata', 'chk-1/op/a', 'chk-1/op/b']);
    expect(await storage.list('chk-1/')).toEqual(['chk-1/_metadata', 'chk-1/op/a', 'chk-1/op/b']);
    expect(await storage.list('chk-1/op')).toEqual(['chk-1/op/a', 'chk-1/op/b']);
    expect(await storage.list('shared')).toEqual(['shared/c1', 'shared/c2']);
    expect(await storage.list('missing')).toEqual([]);
    expect(await storage.list('z')).toEqual([]); // an object, not a folder
    expect(await track(backend.open()).list('')).toEqual([]);
  });

  it('lists more than 1000 keys (S3 pages at 1000) and deletes them in one call', async () => {
    const storage = track(backend.open());
    // One key more than a page: s3rver stores each object as files, slowly on a busy machine.
    const keys = Array.from({ length: 1001 }, (_, i) => `shared/chunk-${String(i).padStart(5, '0')}`);
    await mapWithConcurrency(keys, 32, (key) => storage.put(key, text(key)));
    await storage.put('other/x', text('x'));

    const listed = await storage.list('shared');
    expect(listed.length).toBe(1001);
    expect(listed).toEqual(keys);

    await storage.delete(keys);
    expect(await storage.list('')).toEqual(['other/x']);
  }, 180_000);

  it('deletes a batch, ignoring missing keys and duplicates', async () => {
    const storage = track(backend.open());
    await Promise.all(['a/1', 'a/2', 'b/1'].map((k) => storage.put(k, text(k))));
    await storage.delete(['a/1', 'a/2', 'a/1', 'missing', 'a/never/was']);
    await storage.delete([]);
    expect(await storage.list('')).toEqual(['b/1']);
    expect(await storage.exists('a/1')).toBe(false);
    await expect(storage.get('a/2')).rejects.toBeInstanceOf(StorageNotFoundError);
  });

  it('rejects invalid keys with InvalidStorageKeyError before any I/O', async () => {
    const broken = track(backend.openBroken());
    // Sanity: the broken storage really fails on I/O.
    await expect(broken.put('ok', text('x'))).rejects.toBeInstanceOf(StorageIoError);

    const bad = ['../x', '/abs', 'a//b', 'a/./b', 'a/../../b', '', 'a/', 'back\\slash', 'nul\0byte', '.', 'x.tmp-123'];
    for (const key of bad) {
      const attempts: Array<[string, () => Promise<unknown>]> = [
        ['put', () => broken.put(key, text('x'))],
        ['get', () => broken.get(key)],
        ['exists', () => broken.exists(key)],
        ['delete', () => broken.delete(['fine', key])],
      ];
      for (const [op, attempt] of attempts) {
        const error = await attempt().catch((e: unknown) => e);
        expect(error, `${op}(${JSON.stringify(key)})`).toBeInstanceOf(InvalidStorageKeyError);
        expect((error as InvalidStorageKeyError).key).toBe(key);
      }
    }
    for (const prefix of ['../x', '/abs', 'a//b', 'a/./b']) {
      await expect(broken.list(prefix)).rejects.toBeInstanceOf(InvalidStorageKeyError);
    }
  });
});

describe('FileStorage specifics', () => {
  beforeAll(() => fsBackend.start());
  afterAll(() => fsBackend.stop());

  it('accepts file:// URLs and plain paths for the same directory', async () => {
    const dir = join(fsBackend.root(), 'same');
    const viaPath = new FileStorage(dir);
    await viaPath.put('k', text('v'));
    const viaUrl = new FileStorage(viaPath.uri);
    expect(viaUrl.uri).toBe(viaPath.uri);
    expect(viaUrl.uri.startsWith('file:///')).toBe(true);
    expect(new TextDecoder().decode(await viaUrl.get('k'))).toBe('v');
  });

  it('leaves no temp file behind and ignores a stray one left by a crashed write', async () => {
    const storage = new FileStorage(join(fsBackend.root(), 'atomic'));
    // Concurrent writers of one key: the result is one whole value, never a mix, and no leftovers.
    const values = Array.from({ length: 20 }, (_, i) => bytes(64 * 1024 + i));
    await Promise.all(values.map((v) => storage.put('chk-1/_metadata', v)));
    const final = Buffer.from(await storage.get('chk-1/_metadata'));
    expect(values.some((v) => final.equals(Buffer.from(v)))).toBe(true);
    expect(await readdir(join(storage.directory, 'chk-1'))).toEqual(['_metadata']);

    // A crash between write and rename leaves `<key>.tmp-<random>`: not an object, not listed.
    await writeFile(join(storage.directory, 'chk-1', '_metadata.tmp-0123456789abcdef'), 'half');
    await mkdir(join(storage.directory, 'chk-2'), { recursive: true });
    await writeFile(join(storage.directory, 'chk-2', '_metadata.tmp-deadbeefdeadbeef'), 'half');
    expect(await storage.list('')).toEqual(['chk-1/_metadata']);
    expect(await storage.exists('chk-2/_metadata')).toBe(false);
    await expect(storage.get('chk-2/_metadata')).rejects.toBeInstanceOf(StorageNotFoundError);
  });

  it('removes folders a delete leaves empty, but never the root', async () => {
    const storage = new FileStorage(join(fsBackend.root(), 'prune'));
    await storage.put('job/chk-1/_metadata', text('m'));
    await storage.put('job/chk-1/op/state', text('s'));
    await storage.put('job/shared/c1', text('c'));
    await storage.delete(['job/chk-1/_metadata', 'job/chk-1/op/state']);
    expect(await readdir(join(storage.directory, 'job'))).toEqual(['shared']);
    await storage.delete(['job/shared/c1']);
    expect(await readdir(storage.directory)).toEqual([]);
    // Writing again recreates the folders.
    await storage.put('job/chk-2/_metadata', text('m'));
    expect(await storage.list('job')).toEqual(['job/chk-2/_metadata']);
  });
});

describe('S3Storage specifics', () => {
  beforeAll(() => s3.start());
  afterAll(() => s3.stop());

  it('keeps storages with different prefixes apart and strips the prefix from listed keys', async () => {
    const { bucket, endpoint, credentials } = s3.server();
    const a = track(new S3Storage(`s3://${bucket}/jobs/a/`, { endpoint, credentials }));
    const b = track(new S3Storage(`s3://${bucket}/jobs/ab`, { endpoint, credentials }));
    const root = track(new S3Storage(`s3://${bucket}`, { endpoint, credentials }));
    expect(a.uri).toBe(`s3://${bucket}/jobs/a`);
    await a.put('chk-1/_metadata', text('a'));
    await b.put('chk-1/_metadata', text('b'));
    expect(await a.list('')).toEqual(['chk-1/_metadata']);
    expect(await b.list('')).toEqual(['chk-1/_metadata']);
    expect(await root.list('jobs')).toEqual(['jobs/a/chk-1/_metadata', 'jobs/ab/chk-1/_metadata']);
    await a.delete(['chk-1/_metadata']);
    expect(new TextDecoder().decode(await b.get('chk-1/_metadata'))).toBe('b');
  });

  // s3rver checks the access key id but not SigV4 signatures, so any secret "works" with its account.
  const secretAccessKey = 'very-secret-key-0123456789';

  it('fails on a missing bucket with a StorageIoError that names the bucket and no secret', async () => {
    const { endpoint } = s3.server();
    const bucket = 'baton-missing-bucket';
    const storage = track(new S3Storage(`s3://${bucket}/p`, { endpoint, credentials: { accessKeyId: 'S3RVER', secretAccessKey } }));
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['put', () => storage.put('k', text('x'))],
      ['get', () => storage.get('k')],
      ['exists', () => storage.exists('k')],
      ['list', () => storage.list('')],
      ['delete', () => storage.delete(['k'])],
    ];
    for (const [operation, attempt] of attempts) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error, operation).toBeInstanceOf(StorageIoError);
      const io = error as StorageIoError;
      expect(io.operation).toBe(operation);
      expect(io.uri).toBe(`s3://${bucket}/p`);
      expect(io.key).toBe(operation === 'list' ? '' : 'k');
      expect(io.message).toContain(bucket);
      expect(io.message).not.toContain(secretAccessKey);
      expect(String(io.stack)).not.toContain(secretAccessKey);
    }
  });

  it('reports rejected credentials as a StorageIoError without the secret', async () => {
    const { bucket, endpoint } = s3.server();
    const storage = track(new S3Storage(`s3://${bucket}`, { endpoint, credentials: { accessKeyId: 'NOT-AN-ACCOUNT', secretAccessKey } }));
    const error = await storage.put('k', text('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageIoError);
    expect((error as Error).message).toContain('InvalidAccessKeyId');
    expect((error as Error).message).not.toContain(secretAccessKey);
  });
});

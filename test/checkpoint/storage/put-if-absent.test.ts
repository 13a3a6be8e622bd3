// putIfAbsent, the ownership fence's primitive: on a directory (link) and on S3 (If-None-Match through the conditional proxy).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckpointStorage, FileStorage, S3Storage } from '../../../src/checkpoint/storage/index.ts';
import { scopeStorage } from '../../../src/checkpoint/scoped-storage.ts';
import { type S3ConditionalProxy, startS3ConditionalProxy } from '../../support/s3-conditional-proxy.ts';
import { type S3GateProxy, startS3GateProxy } from '../../support/s3-gate-proxy.ts';
import { type S3rverHandle, startS3rver } from '../../support/s3rver.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const read = async (storage: CheckpointStorage, key: string) => new TextDecoder().decode(await storage.get(key));
let counter = 0;
const unique = () => `p${++counter}-${randomBytes(3).toString('hex')}`;

let root: string;
let s3: S3rverHandle;
let conditional: S3ConditionalProxy;
const opened: CheckpointStorage[] = [];
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-pia-'));
  s3 = await startS3rver();
  conditional = await startS3ConditionalProxy(s3.endpoint);
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await conditional?.close();
  await s3?.close();
  await rm(root, { recursive: true, force: true });
});

function s3Storage(endpoint: string, prefix = unique()): S3Storage {
  const storage = new S3Storage(`s3://${s3.bucket}/${prefix}`, { endpoint, region: s3.region, credentials: s3.credentials, timeouts: { backoffMs: 10 } });
  opened.push(storage);
  return storage;
}

const backends: Array<{ name: string; open: () => CheckpointStorage }> = [
  { name: 'FileStorage', open: () => new FileStorage(join(root, unique())) },
  { name: 'S3Storage through the conditional proxy', open: () => s3Storage(conditional.endpoint) },
  { name: 'a scoped view of FileStorage', open: () => scopeStorage(new FileStorage(join(root, unique())), 'job') },
];

describe.each(backends)('putIfAbsent on $name', ({ open }) => {
  it('creates a missing key (true), then refuses it (false) and keeps the first object', async () => {
    const storage = open();
    expect(await storage.putIfAbsent('chk-1/_metadata', text('first'))).toBe(true);
    expect(await storage.putIfAbsent('chk-1/_metadata', text('second'))).toBe(false);
    expect(await read(storage, 'chk-1/_metadata')).toBe('first');
    // A key a plain put wrote is taken too.
    await storage.put('chk-2/_metadata', text('plain'));
    expect(await storage.putIfAbsent('chk-2/_metadata', text('late'))).toBe(false);
    expect(await read(storage, 'chk-2/_metadata')).toBe('plain');
    expect(await storage.list('')).toEqual(['chk-1/_metadata', 'chk-2/_metadata']);
  });

  it('of 8 concurrent creates of one key exactly one wins, and the object is the winner’s, whole', async () => {
    const storage = open();
    const payloads = Array.from({ length: 8 }, (_, i) => text(`writer-${i}-${'x'.repeat(2_000 + i)}`));
    const won = await Promise.all(payloads.map((p) => storage.putIfAbsent('chk-7/_metadata', p)));
    expect(won.filter(Boolean)).toHaveLength(1);
    const winner = won.indexOf(true);
    expect(Buffer.from(await storage.get('chk-7/_metadata')).equals(Buffer.from(payloads[winner]))).toBe(true);
  });
});

describe('putIfAbsent leaves no temp file on a directory', () => {
  it('neither after a win nor after a loss', async () => {
    const dir = join(root, unique());
    const storage = new FileStorage(dir);
    await storage.putIfAbsent('chk-1/_metadata', text('a'));
    await storage.putIfAbsent('chk-1/_metadata', text('b'));
    expect(await readdir(join(dir, 'chk-1'))).toEqual(['_metadata']);
  });
});

describe('S3 conditional writes', () => {
  let gate: S3GateProxy;
  beforeAll(async () => {
    gate = await startS3GateProxy(conditional.endpoint);
  });
  afterAll(() => gate?.close());

  it('plain s3rver ignores If-None-Match (why the proxy exists): both creates "win" there', async () => {
    const storage = s3Storage(s3.endpoint);
    expect(await storage.putIfAbsent('k', text('one'))).toBe(true);
    expect(await storage.putIfAbsent('k', text('two'))).toBe(true);
    expect(await read(storage, 'k')).toBe('two');
  });

  it('the proxy answers 412 to the second create: the client counts it as lost', async () => {
    const before = { ...conditional.conditional };
    const storage = s3Storage(conditional.endpoint);
    expect(await storage.putIfAbsent('k', text('one'))).toBe(true);
    expect(await storage.putIfAbsent('k', text('two'))).toBe(false);
    expect(conditional.conditional.puts - before.puts).toBe(2);
    expect(conditional.conditional.refused - before.refused).toBe(1);
  });

  it('a create whose answer was lost is retried, and its own object found by the retry counts as won', async () => {
    const prefix = unique();
    const storage = s3Storage(gate.endpoint, prefix);
    let first = true;
    const held = gate.hold(
      (r) => {
        const take = first && r.method === 'PUT' && r.path.includes(`/${prefix}/chk-3/_metadata`);
        if (take) first = false;
        return take;
      },
      { phase: 'response' },
    );
    const created = storage.putIfAbsent('chk-3/_metadata', text('mine'));
    await held.held();
    // The store created the object; the client never hears so and sends the PUT again (412 now).
    held.fail('destroy');
    expect(await created).toBe(true);
    // Another writer's object is never taken for ours.
    const other = s3Storage(gate.endpoint, prefix);
    expect(await other.putIfAbsent('chk-3/_metadata', text('theirs'))).toBe(false);
    expect(await read(storage, 'chk-3/_metadata')).toBe('mine');
  });
});

describe.each(backends)('listFolders on $name', ({ open }) => {
  it('names the folders directly under a prefix, not the objects in them, nor files beside them', async () => {
    const storage = open();
    await Promise.all(['chk-1/_metadata', 'chk-12/a', 'shared/x', 'shared/y', 'handover/stop-request.json', 'top-file'].map((k) => storage.put(k, text(k))));
    expect(await storage.listFolders!('')).toEqual(['chk-1', 'chk-12', 'handover', 'shared']);
    expect(await storage.listFolders!('shared')).toEqual([]);
    expect(await storage.listFolders!('nothing-here')).toEqual([]);
  });
});

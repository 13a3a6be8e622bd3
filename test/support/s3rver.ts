// Test helper: an s3rver instance on loopback with one fresh bucket, for tests that need real S3 calls.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** A running s3rver; `credentials` are its built-in account (it checks the key id, not SigV4 signatures). */
export interface S3rverHandle {
  /** e.g. `http://127.0.0.1:40123` */
  readonly endpoint: string;
  /** A bucket created empty for this server. */
  readonly bucket: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

/**
 * Starts s3rver on 127.0.0.1 (port chosen by the OS) over a temp directory, silent, with one bucket.
 * Paged listings need Node's `--openssl-legacy-provider` (vitest.config.ts passes it).
 *
 * @example
 * ```ts
 * const s3 = await startS3rver();
 * const storage = new S3Storage(`s3://${s3.bucket}/t1`, { endpoint: s3.endpoint, credentials: s3.credentials });
 * // ...
 * await s3.close();
 * ```
 */
export async function startS3rver(): Promise<S3rverHandle> {
  const directory = await mkdtemp(join(tmpdir(), 'baton-s3rver-'));
  const bucket = `baton-test-${randomBytes(4).toString('hex')}`;
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    region: 'us-east-1',
    // s3rver's built-in account.
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    async close() {
      try {
        await server.close();
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    },
  };
}

// The AWS SDK, loaded on first use rather than with the package.
import type { S3Client } from '@aws-sdk/client-s3';

/** The `@aws-sdk/client-s3` module. */
export type S3Sdk = typeof import('@aws-sdk/client-s3');

let sdk: Promise<S3Sdk> | undefined;

/**
 * Loads `@aws-sdk/client-s3` once per thread. Importing it costs 0.25–0.6 s of CPU in a cold
 * thread, and every worker thread imports the package through its job module, while only threads
 * that talk to S3 need it: a job on a local directory never pays for it.
 *
 * @example const { S3Client } = await loadS3Sdk();
 */
export function loadS3Sdk(): Promise<S3Sdk> {
  sdk ??= import('@aws-sdk/client-s3');
  return sdk;
}

/** A client and the SDK's command classes, loaded together. */
export interface S3Connection {
  readonly sdk: S3Sdk;
  readonly client: S3Client;
}

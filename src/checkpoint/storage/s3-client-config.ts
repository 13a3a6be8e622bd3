// S3 client settings for checkpoint storage, following the AWS conventions for env and defaults.
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { loadS3Sdk } from './s3-sdk.ts';
import { resolveStorageTimeouts, type StorageTimeouts } from './timeouts.ts';
import type { S3StorageOptions } from './types.ts';

/** Region used when neither options, env nor the AWS profile name one (S3-compatible servers ignore it). */
export const FALLBACK_REGION = 'us-east-1';

/**
 * The `S3Client` configuration for `options`, filling gaps from `env` the way the AWS tools do:
 * region from `AWS_REGION` / `AWS_DEFAULT_REGION` (then the AWS profile, then `us-east-1`), endpoint
 * from `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`, path-style addressing whenever an endpoint is set
 * (S3-compatible servers rarely have per-bucket host names), credentials from the default chain.
 * Checksums are always `WHEN_REQUIRED`: otherwise the SDK sends stream bodies aws-chunked, which
 * some S3-compatible servers store framing and all — silent corruption.
 * The HTTP handler gets connection, request and socket timeouts from `timeouts.requestMs`, and the
 * SDK makes one attempt per call: S3Storage retries itself, so that a body read is retried too.
 *
 * @example
 * ```ts
 * const client = new S3Client(resolveS3ClientConfig({ endpoint: 'http://127.0.0.1:4569' }));
 * ```
 */
export function resolveS3ClientConfig(
  options: S3StorageOptions = {},
  env: NodeJS.ProcessEnv = process.env,
  timeouts: StorageTimeouts = resolveStorageTimeouts(options.timeouts),
): S3ClientConfig {
  const endpoint = options.endpoint ?? nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  const region = options.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? regionFromProfileOrFallback;
  return {
    region,
    ...(endpoint !== undefined ? { endpoint } : {}),
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
    ...(options.credentials !== undefined ? { credentials: { ...options.credentials } } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: timeouts.requestMs,
      requestTimeout: timeouts.requestMs,
      throwOnRequestTimeout: true,
      socketTimeout: timeouts.requestMs,
    },
    maxAttempts: 1,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

let profileRegion: Promise<string> | undefined;

/**
 * The SDK's own region chain (AWS profile files included) with a fallback instead of its
 * "Region is missing" error: a local S3-compatible server needs no region at all.
 */
function regionFromProfileOrFallback(): Promise<string> {
  profileRegion ??= (async () => {
    const { S3Client } = await loadS3Sdk();
    const probe = new S3Client({});
    try {
      return await probe.config.region();
    } catch {
      return FALLBACK_REGION;
    } finally {
      probe.destroy();
    }
  })();
  return profileRegion;
}

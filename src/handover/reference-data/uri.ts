// Parses and normalizes reference data URIs, so that one file or object has one cache key.
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { redactUserInfo } from '../../checkpoint/storage/errors.ts';
import { ReferenceDataError } from './errors.ts';

/** A parsed reference data location; `uri` is its normalized form. */
export type ReferenceDataLocation =
  | { readonly scheme: 'file'; readonly uri: string; readonly path: string }
  | { readonly scheme: 's3'; readonly uri: string; readonly bucket: string; readonly key: string };

/**
 * Parses `file:///abs/path`, a plain (absolute or relative) path or `s3://bucket/key`. File
 * locations normalize to an absolute `file://` URL (`./a/../b.bin` and `/cwd/b.bin` are one key),
 * S3 locations to `s3://bucket/key` with the key kept verbatim (S3 keys are case and slash exact).
 *
 * @throws ReferenceDataError of kind `unsupported-scheme` or `invalid-uri`; never echoes a user-info part.
 * @example
 * ```ts
 * parseReferenceDataUri('S3://ref/rates.bin'); // { scheme: 's3', uri: 's3://ref/rates.bin', bucket: 'ref', key: 'rates.bin' }
 * ```
 */
export function parseReferenceDataUri(uri: string): ReferenceDataLocation {
  if (typeof uri !== 'string' || uri.trim() === '') throw new ReferenceDataError(String(uri), 'invalid-uri', 'the URI is empty');
  const shown = redactUserInfo(uri);
  // One letter before ':' is a Windows drive (C:\data), not a scheme.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(uri)?.[1].toLowerCase();
  if (scheme === undefined) return fileLocation(resolve(uri));
  if (scheme === 'file') return fileLocation(filePathOf(uri, shown));
  if (scheme === 's3') return s3Location(uri, shown);
  throw new ReferenceDataError(shown, 'unsupported-scheme', `unsupported scheme '${scheme}:'; use file:///abs/path, a plain path or s3://bucket/key`);
}

/**
 * The cache key of `uri`: its normalized form.
 *
 * @throws ReferenceDataError like {@link parseReferenceDataUri}.
 * @example
 * ```ts
 * normalizeReferenceDataUri('/data/./rates.bin'); // 'file:///data/rates.bin'
 * ```
 */
export function normalizeReferenceDataUri(uri: string): string {
  return parseReferenceDataUri(uri).uri;
}

function fileLocation(path: string): ReferenceDataLocation {
  return { scheme: 'file', uri: pathToFileURL(path).href, path };
}

function filePathOf(uri: string, shown: string): string {
  if (!/^file:\/\//i.test(uri)) throw new ReferenceDataError(shown, 'invalid-uri', 'not a file URL of an absolute path; use file:///abs/path or a plain path');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ReferenceDataError(shown, 'invalid-uri', 'not a valid file URL');
  }
  if (url.username !== '' || url.password !== '') throw new ReferenceDataError(shown, 'invalid-uri', 'a file URL must not contain a user name or password');
  try {
    return resolve(fileURLToPath(url));
  } catch (error) {
    throw new ReferenceDataError(shown, 'invalid-uri', `not a local file URL (${(error as Error).message})`);
  }
}

function s3Location(uri: string, shown: string): ReferenceDataLocation {
  if (!/^s3:\/\//i.test(uri)) throw new ReferenceDataError(shown, 'invalid-uri', 'not an s3://bucket/key URI');
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1);
  if (bucket.includes('@') || bucket.includes(':')) {
    throw new ReferenceDataError(shown, 'invalid-uri', 'an s3:// URI must not contain credentials or a port; use the AWS environment or the s3 options');
  }
  // Lenient on case and '_' for older S3-compatible servers, strict on length like S3 itself.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$/.test(bucket)) {
    throw new ReferenceDataError(shown, 'invalid-uri', `'${bucket}' is not a valid bucket name (3-63 letters, digits, '.', '-')`);
  }
  if (key === '' || key.endsWith('/')) throw new ReferenceDataError(shown, 'invalid-uri', 'an s3:// URI must name an object: s3://bucket/key');
  return { scheme: 's3', uri: `s3://${bucket}/${key}`, bucket, key };
}

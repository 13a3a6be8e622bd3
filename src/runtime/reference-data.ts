// Reference data in this thread: loaded by pre-state-load hooks, read by user functions.
import { ReferenceDataNotLoadedError } from './errors.ts';
import type { ReferenceData } from './types.ts';

const loaded = new Map<string, ReferenceData>();

/** Records data a hook loaded, under the URI it asked for (and the normalized one). */
export function rememberReferenceData(requestedUri: string, data: ReferenceData): void {
  loaded.set(requestedUri, data);
  loaded.set(data.uri, data);
}

/**
 * Reference data a pre-state-load hook of this job loaded: the SharedArrayBuffer every worker
 * thread shares. Throws {@link ReferenceDataNotLoadedError} naming the URI if no hook loaded it.
 *
 * @example
 * const prices = new Float64Array(referenceData('s3://ref/prices.bin').buffer);
 */
export function referenceData(uri: string): ReferenceData {
  const data = loaded.get(uri);
  if (!data) throw new ReferenceDataNotLoadedError(uri, [...new Set([...loaded.values()].map((d) => d.uri))]);
  return data;
}

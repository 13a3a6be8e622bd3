// Main-thread cache that loads each reference data URI once and hands every worker the same buffer.
import type { S3StorageOptions } from '../../checkpoint/storage/index.ts';
import { loadIntoSharedBuffer } from './load-bytes.ts';
import type { LoadReferenceDataOptions, ReferenceDataProgress, ReferenceDataProgressListener, ReferenceDataStats } from './types.ts';
import { normalizeReferenceDataUri } from './uri.ts';

/** Settings of a {@link ReferenceDataCache}, applied to every load. */
export interface ReferenceDataCacheOptions {
  readonly s3?: S3StorageOptions;
  /** See {@link LoadReferenceDataOptions.chunkBytes}. */
  readonly chunkBytes?: number;
  /** Replaces {@link loadIntoSharedBuffer}, e.g. to count or fail loads in tests. */
  readonly loader?: (uri: string, options: LoadReferenceDataOptions) => Promise<SharedArrayBuffer>;
}

interface Entry {
  readonly promise: Promise<SharedArrayBuffer>;
  /** Progress listeners of the callers waiting for the load; emptied once it settles. */
  readonly listeners: Set<ReferenceDataProgressListener>;
  requests: number;
  loading: boolean;
  /** The data, once loaded. */
  buffer?: SharedArrayBuffer;
  bytes: number;
  loadMs: number;
}

/**
 * Loads reference data once per normalized URI and shares the result: concurrent and later calls
 * for the same data get the very same `SharedArrayBuffer` (post it to every worker; it is shared,
 * not copied). A failed load is forgotten, so the next call tries again.
 *
 * @example
 * ```ts
 * const cache = new ReferenceDataCache({ s3: { region: 'eu-west-1' } });
 * const [a, b] = await Promise.all([cache.load('s3://ref/rates.bin'), cache.load('S3://ref/rates.bin')]);
 * a === b; // true: one download, one copy in memory
 * ```
 */
export class ReferenceDataCache {
  readonly #options: ReferenceDataCacheOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(options: ReferenceDataCacheOptions = {}) {
    this.#options = options;
  }

  /**
   * The data behind `uri`, loading it unless a load of the same normalized URI is under way or done.
   * `onProgress` receives the shared load's reports from now on, always ending with one whose
   * `loadedBytes === totalBytes` (for data already loaded, that one report alone).
   *
   * @throws ReferenceDataError (as a rejection) like {@link loadIntoSharedBuffer}.
   */
  async load(uri: string, onProgress?: ReferenceDataProgressListener): Promise<SharedArrayBuffer> {
    const key = normalizeReferenceDataUri(uri);
    const entry = this.#entries.get(key) ?? this.#start(key);
    entry.requests += 1;
    let finalSeen = false;
    const listener = (progress: ReferenceDataProgress): void => {
      if (progress.loadedBytes === progress.totalBytes) finalSeen = true;
      notify(onProgress, progress);
    };
    if (entry.loading && onProgress !== undefined) entry.listeners.add(listener);
    const buffer = await entry.promise;
    // Late callers (and those of a loader that reports nothing) still get the promised final report.
    if (!finalSeen) listener({ uri: key, loadedBytes: buffer.byteLength, totalBytes: buffer.byteLength });
    return buffer;
  }

  /** Figures per normalized URI, for loads done or under way (failed loads are not kept). */
  stats(): Record<string, ReferenceDataStats> {
    const out: Record<string, ReferenceDataStats> = {};
    for (const [uri, { bytes, loadMs, requests, loading }] of this.#entries) out[uri] = { bytes, loadMs, requests, loading };
    return out;
  }

  /**
   * The data behind `uri` if a load of it completed, else undefined (a promotion guard reads what
   * the hooks loaded, never starting a load itself).
   *
   * @example cache.loaded('s3://ref/rates.bin')?.byteLength
   */
  loaded(uri: string): SharedArrayBuffer | undefined {
    return this.#entries.get(normalizeReferenceDataUri(uri))?.buffer;
  }

  /**
   * Forgets every entry, so the next `load` reads the data again. Buffers already handed out stay
   * valid (memory is freed once no thread references them); loads under way still settle for their callers.
   */
  clear(): void {
    this.#entries.clear();
  }

  #start(key: string): Entry {
    const listeners = new Set<ReferenceDataProgressListener>();
    const { loader = loadIntoSharedBuffer, s3, chunkBytes } = this.#options;
    const started = performance.now();
    // Copy the set per report: a listener may make another caller join (and add itself) mid-report.
    const onProgress = (progress: ReferenceDataProgress): void => {
      for (const listener of [...listeners]) notify(listener, progress);
    };
    const entry: Entry = {
      // Deferred one turn so the first caller's listener is registered before the loader can report.
      promise: Promise.resolve().then(() => loader(key, { s3, chunkBytes, onProgress })),
      listeners,
      requests: 0,
      loading: true,
      bytes: 0,
      loadMs: 0,
    };
    this.#entries.set(key, entry);
    entry.promise.then(
      (buffer) => {
        entry.loading = false;
        entry.buffer = buffer;
        entry.bytes = buffer.byteLength;
        entry.loadMs = performance.now() - started;
        listeners.clear();
      },
      () => {
        listeners.clear();
        // Only if still ours: after clear() a new load of the same URI may already be in the map.
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      },
    );
    return entry;
  }
}

function notify(listener: ReferenceDataProgressListener | undefined, progress: ReferenceDataProgress): void {
  try {
    listener?.(progress);
  } catch {
    // One caller's broken progress display must not fail the load that other callers share.
  }
}

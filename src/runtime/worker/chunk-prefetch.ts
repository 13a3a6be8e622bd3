// Handover: chunks of the checkpoints B passed over, downloaded while B waits, so stage 2 does not fetch them inside the downtime.
import type { ChunkRef, KeyGroupChain } from '../../checkpoint/index.ts';

/**
 * Most bytes (as the chunk refs state them) held downloaded ahead of use per worker: past it, the
 * rest is left to stage 2 (a predecessor that answers keeps the handful of passed-over deltas far
 * below it; the cap keeps one that does not from filling memory).
 */
export const PREFETCH_MAX_BYTES = 128 * 1024 * 1024;

/**
 * What following a chain needs, given the chunk ids applied so far for it: the chunks still to
 * apply, and whether the range must be reloaded from the chain's base (`replace`).
 * Continues a chain that only grew; takes a new base's stored delta when the base was written from
 * exactly what is applied (see KeyGroupChain.rebased); otherwise the whole chain, replacing.
 *
 * @example chunksToApply(chain, ['b1', 'd2']) // { todo: [d3], replace: false } for the chain b1, d2, d3
 */
export function chunksToApply(chain: KeyGroupChain, applied: readonly string[]): { readonly todo: readonly ChunkRef[]; readonly replace: boolean } {
  const extendsApplied = applied.length > 0 && applied.length <= chain.chain.length && applied.every((id, i) => chain.chain[i].id === id);
  if (extendsApplied) return { todo: chain.chain.slice(applied.length), replace: false };
  const from = chain.rebased?.from;
  const rebase = from !== undefined && applied.length > 0 && from.length === applied.length && from.every((id, i) => applied[i] === id);
  if (rebase) return { todo: chain.rebased!.delta, replace: false };
  return { todo: chain.chain, replace: true };
}

/**
 * Chunk downloads started ahead of their use, by chunk id (chunks are immutable: an id names the
 * same bytes wherever it appears). A download that fails is forgotten: whoever needs the chunk
 * fetches it again and reports that error (a discarded checkpoint, damage) as before.
 *
 * @example
 * ```ts
 * prefetch.start(ref, () => storage.get(sharedChunkKey(ref.id)));
 * const bytes = (await prefetch.take(ref.id)) ?? (await storage.get(sharedChunkKey(ref.id)));
 * ```
 */
export class ChunkPrefetch {
  readonly #pending = new Map<string, { readonly bytes: number; readonly download: Promise<Uint8Array | undefined> }>();
  #bytes = 0;

  constructor(private readonly maxBytes = PREFETCH_MAX_BYTES) {}

  /** Starts downloading `ref` unless it is under way already or the cap is reached; returns whether it started. */
  start(ref: ChunkRef, fetch: () => Promise<Uint8Array>): boolean {
    if (this.#pending.has(ref.id) || this.#bytes + ref.bytes > this.maxBytes) return false;
    const entry = {
      bytes: ref.bytes,
      download: fetch().then(
        (data): Uint8Array | undefined => data,
        () => {
          if (this.#pending.get(ref.id) === entry) this.#drop(ref.id);
          return undefined;
        },
      ),
    };
    this.#pending.set(ref.id, entry);
    this.#bytes += ref.bytes;
    return true;
  }

  /** The bytes of chunk `id` if a download of it was started (waiting for it to end), once; undefined otherwise or if it failed. */
  async take(id: string): Promise<Uint8Array | undefined> {
    const entry = this.#pending.get(id);
    if (!entry) return undefined;
    this.#drop(id);
    return entry.download;
  }

  /** Forgets every download (stage 2 is done: what it did not take is not needed any more). */
  clear(): void {
    this.#pending.clear();
    this.#bytes = 0;
  }

  /** Chunks held or under way. */
  get size(): number {
    return this.#pending.size;
  }

  #drop(id: string): void {
    const entry = this.#pending.get(id);
    if (!entry) return;
    this.#pending.delete(id);
    this.#bytes -= entry.bytes;
  }
}

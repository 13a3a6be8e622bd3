// Runs async work over many items with a bound on how many run at once (batch uploads, deletes).

/**
 * Maps `items` through `fn` with at most `limit` calls in flight; results keep the input order.
 * After the first failure no new calls start; it waits for the running ones (so nothing is left
 * dangling) and then rejects with that first error.
 *
 * @example
 * ```ts
 * const blobs = await mapWithConcurrency(keys, 16, (key) => storage.get(key));
 * ```
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency limit must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}

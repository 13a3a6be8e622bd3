// Turns cumulative figures (reset at every attempt of a job) into deltas a Prometheus counter can add.

/**
 * The workers report running totals that start again from 0 when a job restarts; a Prometheus
 * counter must never go down. `advance` returns what to add: the growth since the last value
 * seen for that key, or the whole value when it went down (a new attempt began meanwhile).
 *
 * @example
 * const deltas = new CumulativeDeltas();
 * deltas.advance('sum', 100); // 100
 * deltas.advance('sum', 250); // 150
 * deltas.advance('sum', 40);  // 40 (restarted)
 */
export class CumulativeDeltas {
  private readonly last = new Map<string, number>();

  advance(key: string, total: number): number {
    const previous = this.last.get(key) ?? 0;
    this.last.set(key, total);
    return total >= previous ? total - previous : total;
  }

  /** A new attempt starts: its totals count from 0 again. */
  reset(): void {
    this.last.clear();
  }
}

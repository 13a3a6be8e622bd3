// The handover benchmark's job: examples/orders.ts over a large key space. A warm-up pass touches every customer once
// (unthrottled), so the keyed state holds `keys` entries before the steady, rate-limited order stream begins.
import { defineJob, type Source, type SourceReader, type SourceSplit } from 'baton';
import { type Order, order, pricedOrders } from '../../examples/orders.ts';

/** Order n: the first `keys` orders go to customers 0..keys-1 in turn (the warm-up), the rest as in examples/orders.ts. */
export function benchOrder(n: number, keys: number): Order {
  const o = order(n, keys);
  return n <= keys ? { ...o, customer: n - 1 } : o;
}

/** The line the job (CustomerSpend of examples/orders.ts) commits for an order, given the customer's spend so far (the bench recomputes it with a plain loop). */
export function orderLine(o: Order, spend: number): string {
  return `${o.id},${o.customer},${spend}`;
}

interface WarmSplit extends SourceSplit {
  readonly offset: number;
  readonly end: number;
}

/** Emits `offset..end`: numbers up to `warmEnd` as fast as downstream takes them, the rest at `ratePerSec`. */
class WarmThenRateReader implements SourceReader<number> {
  finished: boolean;
  private next: number;
  /** performance.now() at the first rate-limited poll; the rate restarts with every reader (every deployment). */
  private startedAt = -1;
  private emitted = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private wake: ((n: number) => void) | undefined;

  constructor(
    private readonly split: WarmSplit,
    private readonly warmEnd: number,
    private readonly ratePerSec: number,
  ) {
    this.next = split.offset;
    this.finished = this.next > split.end;
  }

  poll(max: number, emit: (value: number, timestamp: number) => void): number | Promise<number> {
    const end = this.split.end;
    if (this.next > end) {
      this.finished = true;
      return 0;
    }
    let n: number;
    if (this.next <= this.warmEnd) {
      n = Math.min(max, this.warmEnd - this.next + 1);
    } else {
      const now = performance.now();
      if (this.startedAt < 0) this.startedAt = now;
      n = Math.min(max, end - this.next + 1, Math.floor(((now - this.startedAt) * this.ratePerSec) / 1000) + 1 - this.emitted);
      if (n <= 0) {
        if (max <= 0) return 0;
        const wait = Math.max(1, Math.ceil(this.startedAt + (this.emitted * 1000) / this.ratePerSec - now));
        return new Promise<number>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.wake = undefined;
            resolve(0);
          }, wait);
        });
      }
      this.emitted += n;
    }
    const stop = this.next + n;
    for (let v = this.next; v < stop; v++) emit(v, Number.NEGATIVE_INFINITY); // no timestamp (NO_TIMESTAMP)
    this.next = stop;
    if (stop > end) this.finished = true;
    return n;
  }

  currentSplit(): WarmSplit {
    return { id: this.split.id, offset: this.next, end: this.split.end };
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const wake = this.wake;
    this.wake = undefined;
    wake?.(0);
  }
}

/** 1..to on one split: 1..warm unthrottled, then `ratePerSec`. */
function warmThenRate(to: number, warm: number, ratePerSec: number): Source<number> {
  return {
    kind: 'warm-then-rate',
    maxSourceParallelism: 1,
    validate() {
      if (!(Number.isSafeInteger(to) && to >= 1 && Number.isSafeInteger(warm) && warm >= 0 && ratePerSec > 0)) {
        throw new TypeError(`warm-then-rate: bad options to=${to} warm=${warm} rate=${ratePerSec}`);
      }
    },
    createSplits: () => [{ id: 'orders-0', offset: 1, end: to } satisfies WarmSplit],
    createReader: (split) => new WarmThenRateReader(split as WarmSplit, warm, ratePerSec),
  };
}

export default defineJob((env) => {
  const p = env.params;
  const priceList = String(p.priceList);
  const keys = Number(p.keys ?? 200_000);
  env.enableCheckpointing({
    intervalMs: Number(p.intervalMs ?? 250),
    retain: 5,
    // A new base per key-group chain after this many deltas (the runtime's default: 10).
    ...(p.maxDeltas === undefined ? {} : { materialization: { maxDeltas: Number(p.maxDeltas) } }),
  });
  pricedOrders(env, warmThenRate(Number(p.orders ?? 1e9), keys, Number(p.rate ?? 8_000)), (n) => benchOrder(n, keys), priceList, String(p.output));
});
